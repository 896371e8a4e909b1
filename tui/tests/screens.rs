//! Every screen of every role, drawn into a test backend at 80x24 and 160x48 from fixed
//! data, in its loaded, empty, loading and error states, compared with committed snapshots.

mod common;

use ates_shared::Role;
use ates_shared::api::{Earnings, MyAccount};
use ates_tui::api::ApiError;
use ates_tui::app::remote::Remote;
use ates_tui::app::state::{Confirm, Flash, Live, Pending, Popup};
use ates_tui::app::{App, Tab};
use ates_tui::screens::users::{Dialog, new_user_form};
use common::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

#[derive(Clone, Copy, Debug)]
enum State {
    Loaded,
    Empty,
    Loading,
    Error,
}

const STATES: [State; 4] = [State::Loaded, State::Empty, State::Loading, State::Error];

fn render(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    terminal
        .draw(|frame| ates_tui::ui::draw(frame, app))
        .expect("draw");
    terminal.backend().to_string()
}

fn snapshot(name: &str, app: &App) {
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), render(app, w, h));
    }
}

/// Puts `tab`'s data into `state`. Accounting and analytics fail the way a server without
/// them fails today (404); the rest fail with a network error.
fn set(app: &mut App, tab: Tab, state: State) {
    fn remote<T>(state: State, full: T, empty: T, error: ApiError) -> Remote<T> {
        match state {
            State::Loaded => Remote::loaded(full),
            State::Empty => Remote::loaded(empty),
            State::Loading => Remote::loading(),
            State::Error => Remote::failed(error),
        }
    }
    match tab {
        Tab::MyTasks => {
            app.screens
                .my_tasks
                .list
                .show(remote(state, my_tasks(), vec![], network_error()))
        }
        Tab::Board => {
            app.screens.board.list.remote = remote(state, board_tasks(), vec![], network_error());
            app.screens.board.recompute();
        }
        Tab::NewTask => match state {
            State::Loaded => {
                app.screens.new_task.editing = true;
                app.screens.new_task.form.fields[0].value = "Fix the login page".into();
                app.screens.new_task.form.fields[1].value = "UBERPOP-42".into();
                app.screens.new_task.form.focus = 2;
            }
            State::Empty => {}
            State::Loading => {
                app.screens.new_task.form.fields[0].value = "Fix the login page".into();
                app.screens.new_task.form.submitting = true;
            }
            State::Error => {
                app.screens.new_task.editing = true;
                app.screens.new_task.form.fields[0].value =
                    "[UBERPOP-42] Fix the login page".into();
                app.screens.new_task.form.show_error(&ApiError::Server {
                    status: 422,
                    code: "title_contains_jira_id".into(),
                    message: "`title` must not carry the Jira id (no `[` or `]`): put it in the `jira_id` field".into(),
                });
                app.screens
                    .new_task
                    .form
                    .set_error("jira_id", "put the Jira id here, e.g. UBERPOP-42");
            }
        },
        Tab::MyAccount => {
            let empty = MyAccount {
                balance_cents: 0,
                earned_today_cents: 0,
                log: vec![],
            };
            app.screens.account.remote = remote(state, my_account(), empty, missing_endpoint());
        }
        Tab::Reshuffle => app.screens.reshuffle.open_count = remote(state, 12, 0, network_error()),
        Tab::Accounts => {
            app.screens
                .accounts
                .list
                .show(remote(state, accounts(), vec![], missing_endpoint()));
            if let State::Loaded = state {
                app.screens.accounts.list.selected = Default::default();
                app.screens.accounts.log.user = Some(accounts()[0].user.clone());
                app.screens
                    .accounts
                    .log
                    .list
                    .show(Remote::loaded(my_account().log));
            }
        }
        Tab::Earnings => {
            app.screens.earnings.remote = remote(
                state,
                earnings(),
                Earnings { days: vec![] },
                missing_endpoint(),
            )
        }
        Tab::Users => app
            .screens
            .users
            .list
            .show(remote(state, users(), vec![], network_error())),
        Tab::Events => {
            let mut empty = system();
            empty.dead_letters.clear();
            empty.status.caught_up = true;
            empty.status.consumers.iter_mut().for_each(|c| {
                c.lag = 0;
                c.dead_letters = 0;
            });
            app.screens
                .events
                .show(remote(state, system(), empty, network_error()))
        }
        Tab::Analytics => {
            app.screens.analytics.remote =
                remote(state, analytics(), analytics(), missing_endpoint())
        }
    }
}

fn slug(tab: Tab) -> String {
    tab.title().to_lowercase().replace(' ', "_")
}

#[test]
fn every_screen_of_every_role_renders_in_every_state() {
    for role in Role::ALL {
        let tabs = logged_in(role).tabs.clone();
        for tab in tabs {
            for state in STATES {
                let mut app = logged_in(role);
                let _ = app.switch_to(tab);
                app.live = Live::Live;
                set(&mut app, tab, state);
                let name = format!("{role}_{}_{state:?}", slug(tab)).to_lowercase();
                snapshot(&name, &app);
            }
        }
    }
}

#[test]
fn the_login_screen_renders_empty_prefilled_failing_and_resuming() {
    let app = App::new(today(), "", "");
    snapshot("login_empty", &app);

    let mut app = App::new(today(), "http://127.0.0.1:8080", "worker");
    app.login.fields[2].value = "secret".into();
    app.login.error = Some("wrong username or password".into());
    app.login_note = Some("Your session has expired: log in again.".into());
    snapshot("login_failed", &app);

    let mut app = App::new(today(), "http://127.0.0.1:8080", "worker");
    let _ = app.resume(ates_tui::app::Session {
        server: "http://127.0.0.1:8080".into(),
        token: "t".into(),
        username: "worker".into(),
    });
    snapshot("login_resuming", &app);
}

#[test]
fn popups_render_over_their_screen() {
    let mut app = logged_in(Role::Worker);
    app.screens.my_tasks.list.show(Remote::loaded(my_tasks()));
    let _ = app.update(ch('?'));
    snapshot("popup_help_worker_my_tasks", &app);

    let mut app = logged_in(Role::Manager);
    let _ = app.switch_to(Tab::Reshuffle);
    app.screens.reshuffle.open_count = Remote::loaded(12);
    app.popup = Some(Popup::Confirm(Confirm {
        title: "Reshuffle".into(),
        text: "Reshuffle 12 open task(s)? Each one moves to a random worker or accountant and is billed as a new assignment; fees are not refunded.".into(),
        action: Pending::Reshuffle,
        from: Tab::Reshuffle,
    }));
    snapshot("popup_confirm_reshuffle", &app);

    let mut app = logged_in(Role::Admin);
    let _ = app.switch_to(Tab::Users);
    app.screens.users.list.show(Remote::loaded(users()));
    let mut form = new_user_form();
    form.fields[0].value = "carol".into();
    form.fields[0].error = Some("`username` is taken".into());
    app.screens.users.dialog = Some(Dialog::NewUser(form));
    snapshot("popup_new_user", &app);

    let _ = app.update(key(KeyCode::Esc));
    let _ = app.update(ch('e'));
    snapshot("popup_role_picker", &app);
}

#[test]
fn feedback_and_stale_data_show_in_place() {
    // Completing: the row shows [..] and the footer says so.
    let mut app = logged_in(Role::Worker);
    app.screens.my_tasks.list.show(Remote::loaded(my_tasks()));
    let _ = app.update(ch('c'));
    snapshot("confirm_completing", &app);
    let _ = app.update(ch('y'));
    snapshot("feedback_completing", &app);

    // A refresh failed while old data is on screen: the data stays, the error shows above it.
    let mut app = logged_in(Role::Worker);
    let _ = app.switch_to(Tab::Board);
    app.screens.board.list.remote = Remote::loaded(board_tasks());
    app.screens.board.list.remote.begin(99);
    app.screens
        .board
        .list
        .remote
        .accept(99, Err(network_error()));
    app.screens.board.recompute();
    app.live = Live::Polling("the server closed the stream".into());
    app.flash = Flash::error("Could not complete “Feed the parrots”: you are not the assignee");
    snapshot("feedback_stale_board", &app);

    // Searching the board.
    let mut app = logged_in(Role::Manager);
    app.screens.board.list.remote = Remote::loaded(board_tasks());
    app.screens.board.recompute();
    let _ = app.update(ch('/'));
    typed(&mut app, "the");
    snapshot("board_search", &app);
}

#[test]
fn charts_move_by_day_and_fall_back_to_ascii() {
    let mut app = logged_in(Role::Admin);
    let _ = app.switch_to(Tab::Earnings);
    set(&mut app, Tab::Earnings, State::Loaded);
    // Three days back, then a month back: the selected day is stated and marked.
    for _ in 0..3 {
        let _ = app.update(ch('h'));
    }
    snapshot("chart_earnings_three_days_back", &app);
    let _ = app.update(ch('['));
    app.ascii_charts = true;
    snapshot("chart_earnings_ascii_month_back", &app);

    let _ = app.switch_to(Tab::Analytics);
    set(&mut app, Tab::Analytics, State::Loaded);
    let _ = app.update(ch('h'));
    snapshot("chart_analytics_ascii", &app);
}

#[test]
fn a_dead_letter_opens_in_full_and_can_be_discarded_with_a_reason() {
    let mut app = logged_in(Role::Admin);
    let _ = app.switch_to(Tab::Events);
    set(&mut app, Tab::Events, State::Loaded);
    let _ = app.update(key(KeyCode::Enter));
    snapshot("dead_letter_detail", &app);
    let _ = app.update(ch('x'));
    typed(&mut app, "the task was deleted by hand");
    snapshot("dead_letter_discard", &app);
}

#[test]
fn a_task_in_full_with_and_without_its_money() {
    let mut app = logged_in(Role::Worker);
    app.screens.my_tasks.list.show(Remote::loaded(my_tasks()));
    let _ = app.update(key(KeyCode::Enter));
    snapshot("task_detail_worker", &app);

    let mut app = logged_in(Role::Admin);
    let _ = app.switch_to(Tab::Board);
    app.screens.board.list.remote = Remote::loaded(board_tasks());
    app.screens.board.recompute();
    let _ = app.update(key(KeyCode::Enter));
    let task = app.screens.board.detail.as_ref().unwrap().task.clone();
    let fee = |minutes: u32, user: &str, cents: i64| ates_shared::api::LedgerRow {
        id: uuid::Uuid::from_u128(900 + u128::from(minutes)),
        user: ates_shared::api::UserRef {
            id: uuid::Uuid::from_u128(950),
            username: user.into(),
        },
        at: chrono::DateTime::parse_from_rfc3339(&format!("2026-06-03T09:{minutes:02}:00Z"))
            .unwrap()
            .into(),
        kind: if cents < 0 {
            ates_shared::api::EntryKind::Fee
        } else {
            ates_shared::api::EntryKind::Reward
        },
        amount_cents: cents,
        task: None,
        date: chrono::NaiveDate::from_ymd_opt(2026, 6, 3).unwrap(),
    };
    app.screens.board.detail.as_mut().unwrap().ledger = Some(Remote::loaded(vec![
        fee(0, "alice", -1_200),
        fee(30, "bob", -1_200),
        fee(45, "bob", 3_100),
    ]));
    assert_eq!(task.id, app.screens.board.detail.as_ref().unwrap().task.id);
    snapshot("task_detail_admin", &app);
}
