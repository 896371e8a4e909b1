//! Render cost of the board with 10k tasks at 160x48, and the client's memory after loading
//! them; then the board against a real server holding 100k tasks (`ATES_BENCH_BOARD_TASKS`):
//! the first page, a page deep in the list, and server-side searches, as the client asks
//! for them. `cargo bench -p ates-tui --bench render`.

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

/// The earnings chart over a year of days: frame time at 80x24 and 160x48, moving the
/// selected day a day at a time as a user would.
fn chart_frames(today: chrono::NaiveDate) {
    let mut app = App::new(today, "http://127.0.0.1:8080", "admin");
    app.session = Some(Session {
        server: "http://127.0.0.1:8080".into(),
        token: "t".into(),
        username: "admin".into(),
    });
    let _ = app.enter(User {
        id: Uuid::from_u128(8),
        username: "admin".into(),
        full_name: "Admin".into(),
        email: "a@popug.inc".into(),
        role: Role::Admin,
        active: true,
    });
    let _ = app.switch_to(Tab::Earnings);
    let days = (0..365)
        .map(|i| ates_shared::api::DayEarnings {
            date: today - chrono::Duration::days(364 - i),
            earnings_cents: (i * 7919 % 20_000) - 6_000,
        })
        .collect();
    app.screens.earnings.remote = Remote::loaded(ates_shared::api::Earnings { days });
    let back = ates_tui::app::Event::Key(KeyEvent::new(KeyCode::Char('h'), KeyModifiers::NONE));
    for (width, height) in [(80, 24), (160, 48)] {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
        let mut times: Vec<Duration> = Vec::with_capacity(FRAMES);
        for _ in 0..FRAMES {
            let _ = app.update(back.clone());
            let started = Instant::now();
            terminal
                .draw(|f| ates_tui::ui::draw(f, &app))
                .expect("draw");
            times.push(started.elapsed());
        }
        times.sort();
        let mean = times.iter().sum::<Duration>() / FRAMES as u32;
        let p99 = times[(FRAMES * 99 / 100).min(FRAMES - 1)];
        println!(
            "earnings chart over 365 days at {width}x{height}: frame mean {mean:?}, p99 {p99:?}"
        );
    }
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
    app.screens.board.list.remote = Remote::loaded(load_tasks());
    app.screens.board.recompute();
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
    app.screens.board.search = "number 99".into();
    app.screens.board.recompute();
    let search = started.elapsed();

    println!("board with {TASKS} tasks at 160x48, {FRAMES} frames:");
    println!("  frame render: mean {mean:?}, p99 {p99:?}");
    println!(
        "  search over {TASKS} tasks: {search:?} ({} match)",
        app.screens.board.list.len()
    );
    println!(
        "  RSS: {before} KiB before loading, {after} KiB after loading {TASKS} tasks (+{} KiB)",
        after.saturating_sub(before)
    );
    drop(app);
    chart_frames(today);

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(server_board());
}

/// The board as the client fetches it from a server holding many tasks.
async fn server_board() {
    use ates_shared::api::{CreateUser, NewTask};
    use ates_tui::app::event::BoardQuery;
    use ates_tui::demo::{ADMIN_PASSWORD, DemoClock, DemoServer};
    let count: usize = std::env::var("ATES_BENCH_BOARD_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let server = DemoServer::start(DemoClock::new(chrono::Duration::zero()))
        .await
        .expect("server");
    let admin = server.login("admin", ADMIN_PASSWORD).await.expect("admin");
    admin
        .create_user(&CreateUser {
            username: "bench".into(),
            password: "bench-password".into(),
            full_name: "Bench".into(),
            email: "bench@popug.inc".into(),
            role: Role::Worker,
        })
        .await
        .expect("worker");
    server.settle(&admin).await.expect("settled");
    let worker = server
        .login("bench", "bench-password")
        .await
        .expect("login");
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for lane in 0..32 {
        let worker = worker.clone();
        set.spawn(async move {
            for i in (lane..count).step_by(32) {
                worker
                    .create_task(&NewTask {
                        title: format!("Task number {i} for the popugs"),
                        jira_id: (i % 3 == 0).then(|| format!("UBERPOP-{i}")),
                        description: None,
                    })
                    .await
                    .expect("task");
            }
        });
    }
    while set.join_next().await.is_some() {}
    println!(
        "\nboard against a server with {count} tasks (created in {:.1} s):",
        started.elapsed().as_secs_f64()
    );
    let median = |mut times: Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    for (what, query) in [
        (
            "first page (200 rows)",
            BoardQuery {
                status: None,
                search: String::new(),
                rows: 200,
            },
        ),
        (
            "open tasks, 1000 rows deep",
            BoardQuery {
                status: Some(TaskStatus::Open),
                search: String::new(),
                rows: 1000,
            },
        ),
        (
            "search \"number 4242\"",
            BoardQuery {
                status: None,
                search: "number 4242".into(),
                rows: 200,
            },
        ),
        (
            "search \"uberpop-99\"",
            BoardQuery {
                status: None,
                search: "uberpop-99".into(),
                rows: 200,
            },
        ),
    ] {
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..9 {
            let started = Instant::now();
            let (tasks, _) = worker.board(&query).await.expect("board");
            times.push(started.elapsed());
            rows = tasks.len();
        }
        println!("  {what}: median {:?} ({rows} rows)", median(times));
    }
    println!(
        "  client RSS: {} KiB (the server runs in the same process)",
        rss_kib()
    );
    server.stop().await.expect("stop");
}
