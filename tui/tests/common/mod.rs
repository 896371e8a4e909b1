//! Fixed data for tests: fixed ids and dates, so every snapshot is the same on every run.
#![allow(dead_code)]

use ates_shared::Role;
use ates_shared::api::*;
use ates_tui::api::ApiError;
use ates_tui::app::event::{AnalyticsView, SystemView};
use ates_tui::app::{App, Command, Event, Reply, Session};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use uuid::Uuid;

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 3).expect("date")
}

pub fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, day, hour, minute, 0)
        .single()
        .expect("time")
}

pub fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + n)
}

pub fn user(n: u128, username: &str, role: Role) -> User {
    User {
        id: id(n),
        username: username.into(),
        full_name: format!("{username} Popug"),
        email: format!("{username}@popug.inc"),
        role,
        active: true,
    }
}

pub fn user_for(role: Role) -> User {
    match role {
        Role::Worker => user(1, "worker", Role::Worker),
        Role::Accountant => user(2, "accountant", Role::Accountant),
        Role::Manager => user(3, "manager", Role::Manager),
        Role::Admin => user(4, "admin", Role::Admin),
    }
}

pub fn task(n: u128, title: &str, jira: Option<&str>, status: TaskStatus, assignee: &str) -> Task {
    Task {
        id: id(100 + n),
        title: title.into(),
        jira_id: jira.map(Into::into),
        description: "Described.".into(),
        status,
        assignee: UserRef {
            id: id(1),
            username: assignee.into(),
        },
        created_at: at(3, 9, n as u32 % 60),
        completed_at: (status == TaskStatus::Done).then(|| at(3, 12, n as u32 % 60)),
    }
}

pub fn my_tasks() -> Vec<Task> {
    vec![
        task(
            1,
            "Fix the login page",
            Some("UBERPOP-42"),
            TaskStatus::Open,
            "worker",
        ),
        task(2, "Feed the parrots", None, TaskStatus::Open, "worker"),
        task(
            3,
            "Write the payroll report",
            Some("PAY-7"),
            TaskStatus::Done,
            "worker",
        ),
    ]
}

pub fn board_tasks() -> Vec<Task> {
    let mut tasks = my_tasks();
    tasks.push(task(4, "Polish the beaks", None, TaskStatus::Open, "alice"));
    tasks.push(task(
        5,
        "Migrate the nest database",
        Some("NEST-101"),
        TaskStatus::Done,
        "bob",
    ));
    tasks.push(task(
        6,
        "Count the seeds",
        None,
        TaskStatus::Open,
        "accountant",
    ));
    tasks
}

pub fn entry(n: u128, kind: EntryKind, amount: i64, title: Option<&str>) -> Entry {
    Entry {
        id: id(200 + n),
        at: at(3, 10, n as u32),
        kind,
        amount_cents: amount,
        task: title.map(|t| EntryTask {
            id: id(100 + n),
            title: t.into(),
            jira_id: None,
        }),
        date: today(),
    }
}

pub fn my_account() -> MyAccount {
    MyAccount {
        balance_cents: -1234,
        earned_today_cents: 1766,
        log: vec![
            entry(3, EntryKind::Reward, 3000, Some("Write the payroll report")),
            entry(2, EntryKind::Fee, -1234, Some("Feed the parrots")),
            entry(1, EntryKind::Fee, -1500, Some("Fix the login page")),
            entry(0, EntryKind::Payout, -500, None),
        ],
    }
}

pub fn accounts() -> Vec<Account> {
    vec![
        Account {
            user: UserRef {
                id: id(1),
                username: "worker".into(),
            },
            balance_cents: -1234,
        },
        Account {
            user: UserRef {
                id: id(5),
                username: "alice".into(),
            },
            balance_cents: 4520,
        },
        Account {
            user: UserRef {
                id: id(6),
                username: "bob".into(),
            },
            balance_cents: 0,
        },
        Account {
            user: UserRef {
                id: id(2),
                username: "accountant".into(),
            },
            balance_cents: -50,
        },
    ]
}

pub fn earnings() -> Earnings {
    Earnings {
        days: (0..30)
            .map(|i| DayEarnings {
                date: today() - chrono::Duration::days(29 - i),
                earnings_cents: match i % 7 {
                    0 => -1500,
                    n => n * 1700 + i * 100,
                },
            })
            .collect(),
    }
}

pub fn users() -> Vec<User> {
    let mut list = vec![
        user_for(Role::Admin),
        user_for(Role::Manager),
        user_for(Role::Accountant),
        user_for(Role::Worker),
        user(5, "alice", Role::Worker),
    ];
    let mut bob = user(6, "bob", Role::Worker);
    bob.active = false;
    list.push(bob);
    list
}

pub fn system() -> SystemView {
    SystemView {
        status: EventsStatus {
            consumers: vec![
                ConsumerStatus {
                    consumer: "tracker.auth".into(),
                    source: "auth".into(),
                    position: 42,
                    head: 42,
                    lag: 0,
                    dead_letters: 0,
                },
                ConsumerStatus {
                    consumer: "accounting.tracker".into(),
                    source: "tracker".into(),
                    position: 90,
                    head: 97,
                    lag: 7,
                    dead_letters: 1,
                },
            ],
            caught_up: false,
            rebuilds: Vec::new(),
            logs: Vec::new(),
        },
        dead_letters: vec![DeadLetter {
            id: id(300),
            consumer: "accounting.tracker".into(),
            event_id: id(301),
            event_name: "TaskCompleted".into(),
            event_version: 1,
            error: "unknown task".into(),
            attempts: 5,
            parked_at: at(3, 11, 0),
            status: DeadLetterStatus::Parked,
            discard_reason: None,
            envelope: serde_json::json!({
                "event_id": id(301),
                "event_name": "TaskCompleted",
                "event_version": 1,
                "producer": "tracker",
                "data": {"task_id": id(302), "assignee_id": id(303)}
            }),
        }],
    }
}

pub fn analytics() -> AnalyticsView {
    let expensive = |from: NaiveDate| MostExpensive {
        from,
        to: today(),
        task: Some(ExpensiveTask {
            id: id(105),
            title: "Migrate the nest database".into(),
            jira_id: Some("NEST-101".into()),
            reward_cents: 3999,
            completed_at: at(3, 12, 5),
        }),
    };
    AnalyticsView {
        summary: AnalyticsSummary {
            date: today(),
            earnings_cents: 2350,
            negative_balance_workers: 2,
        },
        days: (0..14)
            .rev()
            .map(|back| AnalyticsDay {
                date: today() - chrono::Duration::days(back),
                earnings_cents: (back * 1_337 - 6_000) * if back % 3 == 0 { -1 } else { 1 },
                negative_balance_workers: (back % 4) as u32,
            })
            .collect(),
        day: expensive(today()),
        week: expensive(today() - chrono::Duration::days(6)),
        month: MostExpensive {
            from: today() - chrono::Duration::days(29),
            to: today(),
            task: None,
        },
    }
}

pub fn network_error() -> ApiError {
    ApiError::Network("Connection refused (os error 111)".into())
}

pub fn missing_endpoint() -> ApiError {
    ApiError::Server {
        status: 404,
        code: "not_found".into(),
        message: "no such endpoint".into(),
    }
}

/// An app logged in as `role`, the commands of the login dropped.
pub fn logged_in(role: Role) -> App {
    let mut app = App::new(today(), "http://127.0.0.1:8080", "");
    let user = user_for(role);
    app.session = Some(Session {
        server: "http://127.0.0.1:8080".into(),
        token: "token".into(),
        username: user.username.clone(),
    });
    // The first screen's fetch goes out at login; answer it (as failed, showing nothing) so
    // each test starts with nothing in flight and asks for what it needs.
    for command in app.enter(user) {
        if let Command::Fetch { fetch, generation } = command {
            app.update(Event::Reply(Reply::Fetched {
                fetch,
                generation,
                result: Err(ApiError::Network("not asked in this test".into())),
            }));
        }
    }
    app.screens.my_tasks.list.remote.error = None;
    app.screens.board.list.remote.error = None;
    app
}

pub fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ch(c: char) -> Event {
    key(KeyCode::Char(c))
}

pub fn ctrl(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

pub fn typed(app: &mut App, text: &str) -> Vec<Command> {
    text.chars().flat_map(|c| app.update(ch(c))).collect()
}
