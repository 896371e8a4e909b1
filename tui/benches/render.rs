//! Render cost of the board with 10k tasks at 160x48, and the client's memory after loading
//! them. `cargo bench -p ates-tui --bench render`.

use ates_shared::Role;
use ates_shared::api::{Page, Task, TaskStatus, User, UserRef};
use ates_tui::app::remote::Remote;
use ates_tui::app::{App, Session, Tab};
use chrono::{TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::time::{Duration, Instant};
use uuid::Uuid;

const TASKS: usize = 10_000;
const FRAMES: usize = 500;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse().ok())
        })
        .unwrap_or(0)
}

/// The tasks as the server would send them: 20 pages of 500, parsed like the client does.
fn load_tasks() -> Vec<Task> {
    let start = Utc
        .with_ymd_and_hms(2026, 6, 1, 8, 0, 0)
        .single()
        .expect("time");
    let all: Vec<Task> = (0..TASKS)
        .map(|i| Task {
            id: Uuid::from_u128(i as u128 + 1),
            title: format!("Task number {i} for the popugs: fix what is broken"),
            jira_id: (i % 3 == 0).then(|| format!("UBERPOP-{i}")),
            description: "A description of moderate length, as real tasks have.".into(),
            status: if i % 4 == 0 {
                TaskStatus::Done
            } else {
                TaskStatus::Open
            },
            assignee: UserRef {
                id: Uuid::from_u128(1_000_000 + (i % 50) as u128),
                username: format!("popug-{}", i % 50),
            },
            created_at: start + chrono::Duration::seconds(i as i64),
            completed_at: None,
        })
        .collect();
    let pages: Vec<String> = all
        .chunks(500)
        .map(|chunk| {
            serde_json::to_string(&Page {
                items: chunk.to_vec(),
                next_cursor: None,
            })
            .expect("json")
        })
        .collect();
    drop(all);
    let mut tasks = Vec::with_capacity(TASKS);
    for page in pages {
        let page: Page<Task> = serde_json::from_str(&page).expect("parse");
        tasks.extend(page.items);
    }
    tasks
}

fn main() {
    let before = rss_kib();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 3).expect("date");
    let mut app = App::new(today, "http://127.0.0.1:8080", "manager");
    app.session = Some(Session {
        server: "http://127.0.0.1:8080".into(),
        token: "t".into(),
        username: "manager".into(),
    });
    let _ = app.enter(User {
        id: Uuid::from_u128(9),
        username: "manager".into(),
        full_name: "Manager".into(),
        email: "m@popug.inc".into(),
        role: Role::Manager,
        active: true,
    });
    let _ = app.switch_to(Tab::Board);
    app.board.tasks = Remote::loaded(load_tasks());
    app.board.recompute();
    let after = rss_kib();

    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    let down = ates_tui::app::Event::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE));
    let mut times: Vec<Duration> = Vec::with_capacity(FRAMES);
    for frame in 0..FRAMES {
        // Scroll through the list as a user would, so the window moves.
        for _ in 0..(frame % 40) {
            let _ = app.update(down.clone());
        }
        let started = Instant::now();
        terminal
            .draw(|f| ates_tui::ui::draw(f, &app))
            .expect("draw");
        times.push(started.elapsed());
    }
    times.sort();
    let mean = times.iter().sum::<Duration>() / FRAMES as u32;
    let p99 = times[(FRAMES * 99 / 100).min(FRAMES - 1)];

    // Filtering 10k tasks is what a search keystroke costs.
    let started = Instant::now();
    app.board.search = "number 99".into();
    app.board.recompute();
    let search = started.elapsed();

    println!("board with {TASKS} tasks at 160x48, {FRAMES} frames:");
    println!("  frame render: mean {mean:?}, p99 {p99:?}");
    println!(
        "  search over {TASKS} tasks: {search:?} ({} match)",
        app.board.visible.len()
    );
    println!(
        "  RSS: {before} KiB before loading, {after} KiB after loading {TASKS} tasks (+{} KiB)",
        after.saturating_sub(before)
    );
}
