//! The state machine without a terminal: key presses and replies in, commands out.

mod common;

use ates_shared::Role;
use ates_shared::api::{LoginResponse, ReshuffleResult, TaskStatus};
use ates_tui::api::ApiError;
use ates_tui::api::sse::StreamEvent;
use ates_tui::app::event::BoardQuery;
use ates_tui::app::remote::Remote;
use ates_tui::app::state::{Live, Popup, Stage};
use ates_tui::app::{App, Command, Data, Event, Fetch, Reply, Tab};
use common::*;
use ratatui::crossterm::event::KeyCode;

fn fetches(commands: &[Command]) -> Vec<Fetch> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Fetch { fetch, .. } => Some(fetch.clone()),
            _ => None,
        })
        .collect()
}

/// The server's answer to a successful login as `role`.
fn logged_in_as(role: Role) -> Reply {
    Reply::LoggedIn {
        server: "http://h:1".into(),
        result: Ok(LoginResponse {
            token: "t0k3n".into(),
            expires_at: at(3, 20, 0),
            user: user_for(role),
        }),
    }
}

fn reply(app: &mut App, reply: Reply) -> Vec<Command> {
    app.update(Event::Reply(reply))
}

fn fetched(fetch: Fetch, generation: u64, result: Result<Data, ApiError>) -> Reply {
    Reply::Fetched {
        fetch,
        generation,
        result,
    }
}

/// The board's first page with no filter, as asked for on arrival.
fn board() -> Fetch {
    Fetch::Board(BoardQuery {
        status: None,
        search: String::new(),
        rows: ates_tui::screens::board::BOARD_PAGE,
    })
}

fn generation_of(commands: &[Command], wanted: Fetch) -> u64 {
    commands
        .iter()
        .find_map(|c| match c {
            Command::Fetch { fetch, generation } if *fetch == wanted => Some(*generation),
            _ => None,
        })
        .expect("the fetch was asked for")
}

#[test]
fn typing_the_login_form_and_pressing_enter_asks_to_log_in() {
    let mut app = App::new(today(), "", "");
    typed(&mut app, "http://h:1");
    app.update(key(KeyCode::Tab));
    typed(&mut app, "worker");
    app.update(key(KeyCode::Tab));
    typed(&mut app, "secret");
    let commands = app.update(key(KeyCode::Enter));
    assert!(matches!(
        &commands[..],
        [Command::Login { server, username, password }]
            if server == "http://h:1" && username == "worker" && password == "secret"
    ));
    assert!(app.login.submitting);
}

#[test]
fn a_login_without_a_password_is_refused_at_the_field() {
    let mut app = App::new(today(), "http://h:1", "worker");
    let commands = app.update(key(KeyCode::Enter));
    assert!(commands.is_empty());
    assert_eq!(
        app.login.fields[2].error.as_deref(),
        Some("enter your password")
    );
}

#[test]
fn a_successful_login_remembers_the_session_and_opens_the_first_screen_of_the_role() {
    let mut app = App::new(today(), "http://h:1", "worker");
    let commands = reply(&mut app, logged_in_as(Role::Worker));
    assert_eq!(app.stage, Stage::Main);
    assert_eq!(app.tab, Tab::MyTasks);
    assert!(matches!(&commands[0], Command::SetSession(Some(s)) if s.token == "t0k3n"));
    // The company's time zone first (times are shown in it), then the screen's data.
    assert_eq!(fetches(&commands), vec![Fetch::Meta, Fetch::MyTasks]);
}

#[test]
fn times_follow_the_companys_zone_and_today_follows_the_clock() {
    let mut app = App::new(today(), "http://h:1", "worker");
    let commands = reply(&mut app, logged_in_as(Role::Admin));
    let generation = generation_of(&commands, Fetch::Meta);
    reply(
        &mut app,
        fetched(
            Fetch::Meta,
            generation,
            Ok(Data::Meta(ates_shared::api::Meta {
                timezone: "Asia/Tokyo".into(),
                today: today(),
                version: "0.1.0".into(),
            })),
        ),
    );
    assert_eq!(app.timezone, chrono_tz::Asia::Tokyo);
    app.switch_to(Tab::Analytics);
    // 15:00 UTC is already tomorrow in Tokyo: the Analytics screen moves to the new day.
    let next = app.update(Event::Clock(at(3, 15, 0)));
    assert_eq!(app.today, today().succ_opt().unwrap());
    assert!(matches!(fetches(&next)[..], [] | [Fetch::Analytics(_)]));
    assert!(
        fetches(&next) == vec![Fetch::Analytics(app.today)] || app.screens.analytics.remote.loading,
        "{next:?}"
    );
}

#[test]
fn a_wrong_password_is_shown_on_the_login_screen() {
    let mut app = App::new(today(), "http://h:1", "worker");
    reply(
        &mut app,
        Reply::LoggedIn {
            server: "http://h:1".into(),
            result: Err(ApiError::Server {
                status: 401,
                code: "unauthorized".into(),
                message: "wrong username or password".into(),
            }),
        },
    );
    assert_eq!(app.stage, Stage::Login);
    assert_eq!(
        app.login.error.as_deref(),
        Some("wrong username or password")
    );
}

#[test]
fn an_expired_token_leads_back_to_login_and_forgets_the_token() {
    let mut app = logged_in(Role::Worker);
    let commands = reply(
        &mut app,
        fetched(
            Fetch::MyTasks,
            1,
            Err(ApiError::Server {
                status: 401,
                code: "unauthorized".into(),
                message: "the bearer token has expired; log in again".into(),
            }),
        ),
    );
    assert_eq!(app.stage, Stage::Login);
    assert!(app.login_note.as_deref().unwrap_or("").contains("expired"));
    assert_eq!(app.login.value("username"), "worker");
    assert!(matches!(&commands[..], [Command::SetSession(None)]));
}

#[test]
fn number_keys_switch_only_to_the_screens_of_the_role() {
    let mut manager = logged_in(Role::Manager);
    assert_eq!(manager.tabs, vec![Tab::Board, Tab::NewTask, Tab::Reshuffle]);
    let commands = manager.update(ch('3'));
    assert_eq!(manager.tab, Tab::Reshuffle);
    assert_eq!(fetches(&commands), vec![Fetch::OpenCount]);
    assert!(manager.update(ch('4')).is_empty());
    assert_eq!(manager.tab, Tab::Reshuffle);

    let mut admin = logged_in(Role::Admin);
    admin.update(ch('8'));
    assert_eq!(admin.tab, Tab::Analytics);
}

#[test]
fn completing_the_selected_task_is_confirmed_by_name_then_sent_with_feedback() {
    let mut app = logged_in(Role::Worker);
    app.screens.my_tasks.list.show(Remote::loaded(my_tasks()));
    app.update(ch('j'));
    let second = my_tasks()[1].clone();
    assert!(app.update(ch('c')).is_empty(), "asks first");
    let Some(Popup::Confirm(confirm)) = &app.popup else {
        panic!("a confirmation is shown");
    };
    assert!(confirm.text.contains(&second.title), "{}", confirm.text);
    assert!(
        app.update(key(KeyCode::Enter)).is_empty(),
        "Enter is not yes"
    );
    let commands = app.update(ch('y'));
    assert!(matches!(&commands[..], [Command::CompleteTask(id)] if *id == second.id));
    assert!(app.flash.as_ref().unwrap().text.contains("Completing"));

    let mut done = second.clone();
    done.status = TaskStatus::Done;
    reply(
        &mut app,
        Reply::Completed {
            id: second.id,
            result: Ok(done),
        },
    );
    assert_eq!(
        app.screens.my_tasks.list.remote.data.as_ref().unwrap()[1].status,
        TaskStatus::Done
    );
    assert_eq!(app.flash.as_ref().unwrap().text, "Done: “Feed the parrots”");
    assert!(app.screens.my_tasks.completing.is_none());
}

#[test]
fn completing_a_done_task_says_so_and_sends_nothing() {
    let mut app = logged_in(Role::Worker);
    app.screens.my_tasks.list.show(Remote::loaded(my_tasks()));
    app.update(key(KeyCode::End));
    assert!(app.update(ch('c')).is_empty());
    assert!(app.flash.as_ref().unwrap().error);
}

#[test]
fn my_tasks_arrive_open_first() {
    let mut app = logged_in(Role::Worker);
    let commands = app.refresh(Tab::MyTasks);
    let generation = generation_of(&commands, Fetch::MyTasks);
    let mut tasks = my_tasks();
    tasks.reverse();
    reply(
        &mut app,
        fetched(Fetch::MyTasks, generation, Ok(Data::Tasks(tasks))),
    );
    let statuses: Vec<_> = app
        .screens
        .my_tasks
        .list
        .items()
        .iter()
        .map(|t| t.status)
        .collect();
    assert_eq!(
        statuses,
        vec![TaskStatus::Open, TaskStatus::Open, TaskStatus::Done]
    );
}

#[test]
fn the_servers_jira_id_complaint_is_shown_at_the_title_and_jira_id_fields() {
    let mut app = logged_in(Role::Worker);
    app.update(ch('3'));
    app.update(key(KeyCode::Enter));
    typed(&mut app, "[UBERPOP-42] fix");
    let commands = app.update(ctrl('s'));
    assert!(
        matches!(&commands[..], [Command::CreateTask(t)] if t.title == "[UBERPOP-42] fix" && t.jira_id.is_none())
    );
    reply(
        &mut app,
        Reply::TaskCreated(Err(ApiError::Server {
            status: 422,
            code: "title_contains_jira_id".into(),
            message:
                "`title` must not carry the Jira id (no `[` or `]`): put it in the `jira_id` field"
                    .into(),
        })),
    );
    assert!(
        app.screens.new_task.form.fields[0]
            .error
            .as_deref()
            .unwrap()
            .contains("`title`")
    );
    assert!(app.screens.new_task.form.fields[1].error.is_some());
    assert!(!app.screens.new_task.form.submitting);
}

#[test]
fn while_typing_q_and_digits_are_text_and_esc_leaves_the_form() {
    let mut app = logged_in(Role::Worker);
    app.update(ch('3'));
    app.update(ch('i'));
    let commands = typed(&mut app, "q1");
    assert!(commands.is_empty());
    assert!(!app.quit);
    assert_eq!(app.screens.new_task.form.value("title"), "q1");
    app.update(key(KeyCode::Esc));
    assert!(matches!(&app.update(ch('q'))[..], [Command::Quit]));
    assert!(app.quit);
}

#[test]
fn reshuffle_counts_open_tasks_then_asks_then_reshuffles() {
    let mut app = logged_in(Role::Manager);
    // The screen counts on arrival; Enter asks to confirm as soon as the count is in.
    let generation = generation_of(&app.update(ch('3')), Fetch::OpenCount);
    assert!(
        app.update(key(KeyCode::Enter)).is_empty(),
        "the count is on its way"
    );
    reply(
        &mut app,
        fetched(Fetch::OpenCount, generation, Ok(Data::Count(7))),
    );
    let Some(Popup::Confirm(confirm)) = &app.popup else {
        panic!("a confirmation is shown");
    };
    assert!(confirm.text.contains("Reshuffle 7 open task"));
    assert!(matches!(&app.update(ch('y'))[..], [Command::Reshuffle]));
    let after = reply(
        &mut app,
        Reply::Reshuffled(Ok(ReshuffleResult { reassigned: 7 })),
    );
    assert!(
        app.flash
            .as_ref()
            .unwrap()
            .text
            .contains("7 open task(s) reassigned")
    );
    // The count is fetched again (the one asked for with Enter may still be on its way).
    assert!(fetches(&after) == vec![Fetch::OpenCount] || app.screens.reshuffle.open_count.loading);
}

#[test]
fn saying_no_to_a_confirmation_does_nothing() {
    let mut app = logged_in(Role::Accountant);
    app.update(ch('6'));
    assert_eq!(app.tab, Tab::Earnings);
    app.update(ch('c'));
    assert!(matches!(app.popup, Some(Popup::Confirm(_))));
    assert!(app.update(ch('n')).is_empty());
    assert!(app.popup.is_none());
    app.update(ch('c'));
    assert!(matches!(&app.update(ch('y'))[..], [Command::CloseDay]));
}

#[test]
fn a_change_in_the_shown_context_refreshes_the_screen_and_others_do_not() {
    let mut app = logged_in(Role::Worker);
    app.update(ch('2'));
    app.screens.board.list.remote = Remote::loaded(board_tasks());
    let changed = |c: &str| Event::Stream(StreamEvent::Changed(c.into()));
    assert_eq!(fetches(&app.update(changed("tracker"))), vec![board()]);
    assert!(app.update(changed("accounting")).is_empty());
}

#[test]
fn polling_runs_only_while_the_stream_is_down() {
    let mut app = logged_in(Role::Worker);
    app.screens.my_tasks.list.show(Remote::loaded(my_tasks()));
    // Changes may have been missed before the stream came up: it refreshes once.
    let generation = generation_of(
        &app.update(Event::Stream(StreamEvent::Connected)),
        Fetch::MyTasks,
    );
    reply(
        &mut app,
        fetched(Fetch::MyTasks, generation, Ok(Data::Tasks(my_tasks()))),
    );
    assert_eq!(app.live, Live::Live);
    assert!(app.update(Event::Poll).is_empty());
    app.update(Event::Stream(StreamEvent::Disconnected("gone".into())));
    assert_eq!(fetches(&app.update(Event::Poll)), vec![Fetch::MyTasks]);
}

#[test]
fn changes_faster_than_fetches_keep_one_fetch_in_flight_and_end_fresh() {
    let mut app = logged_in(Role::Manager);
    let first = generation_of(&app.refresh(Tab::Board), board());
    // Ten changes while the fetch is on its way: no new download starts.
    for _ in 0..10 {
        let more = app.update(Event::Stream(StreamEvent::Changed("tracker".into())));
        assert!(fetches(&more).is_empty(), "one fetch in flight");
    }
    // Its reply is taken (never dropped as "old"), and exactly one more goes out.
    let after = reply(
        &mut app,
        fetched(
            board(),
            first,
            Ok(Data::Board {
                tasks: vec![],
                more: false,
            }),
        ),
    );
    assert_eq!(
        app.screens.board.list.remote.data.as_ref().unwrap().len(),
        0
    );
    let second = generation_of(&after, board());
    assert_eq!(fetches(&after), vec![board()]);
    let settled = reply(
        &mut app,
        fetched(
            board(),
            second,
            Ok(Data::Board {
                tasks: board_tasks(),
                more: false,
            }),
        ),
    );
    assert!(fetches(&settled).is_empty(), "nothing changed since");
    assert_eq!(
        app.screens.board.list.remote.data.as_ref().unwrap().len(),
        6
    );
}

#[test]
fn a_refresh_that_inserts_rows_above_keeps_the_selection_and_c_completes_that_task() {
    let mut app = logged_in(Role::Worker);
    let generation = generation_of(&app.refresh(Tab::MyTasks), Fetch::MyTasks);
    reply(
        &mut app,
        fetched(Fetch::MyTasks, generation, Ok(Data::Tasks(my_tasks()))),
    );
    app.update(ch('j'));
    let chosen = my_tasks()[1].clone();
    // Five tasks arrive from elsewhere, above the cursor, in the same batch as the key.
    let mut newer = board_tasks();
    newer.truncate(5);
    for task in &mut newer {
        task.status = TaskStatus::Open;
    }
    newer.extend(my_tasks());
    let generation = generation_of(&app.refresh(Tab::MyTasks), Fetch::MyTasks);
    reply(
        &mut app,
        fetched(Fetch::MyTasks, generation, Ok(Data::Tasks(newer))),
    );
    assert_eq!(
        app.screens.my_tasks.list.selected().map(|t| t.id),
        Some(chosen.id)
    );
    app.update(ch('c'));
    let commands = app.update(ch('y'));
    assert!(matches!(&commands[..], [Command::CompleteTask(id)] if *id == chosen.id));
}

#[test]
fn when_the_selected_task_leaves_the_list_the_next_action_waits() {
    let mut app = logged_in(Role::Worker);
    let generation = generation_of(&app.refresh(Tab::MyTasks), Fetch::MyTasks);
    reply(
        &mut app,
        fetched(Fetch::MyTasks, generation, Ok(Data::Tasks(my_tasks()))),
    );
    let mut fewer = my_tasks();
    fewer.remove(0); // the selected one was reshuffled away
    let generation = generation_of(&app.refresh(Tab::MyTasks), Fetch::MyTasks);
    reply(
        &mut app,
        fetched(Fetch::MyTasks, generation, Ok(Data::Tasks(fewer.clone()))),
    );
    assert!(app.update(ch('c')).is_empty());
    assert!(app.popup.is_none(), "nothing asked: the selection moved");
    assert!(app.flash.as_ref().unwrap().error);
    app.update(ch('c'));
    let commands = app.update(ch('y'));
    assert!(matches!(&commands[..], [Command::CompleteTask(id)] if *id == fewer[0].id));
}

#[test]
fn the_board_search_and_filter_narrow_the_list() {
    let mut app = logged_in(Role::Manager);
    app.screens.board.list.remote = Remote::loaded(board_tasks());
    app.screens.board.recompute();
    app.update(ch('/'));
    typed(&mut app, "nest");
    app.update(key(KeyCode::Enter));
    assert_eq!(app.screens.board.list.len(), 1);
    app.update(key(KeyCode::Esc));
    assert_eq!(app.screens.board.list.len(), 6);
    app.update(ch('f'));
    assert_eq!(app.screens.board.list.len(), 4, "open only");
}

#[test]
fn the_help_overlay_lists_the_keys_of_the_current_screen() {
    let mut app = logged_in(Role::Worker);
    app.update(ch('?'));
    assert_eq!(app.popup, Some(Popup::Help));
    let keys = ates_tui::app::help::bindings(&app);
    assert!(
        keys.iter()
            .any(|(k, what)| *k == "c" && what.contains("complete"))
    );
    assert!(
        keys.iter()
            .any(|(k, what)| *k == "Enter/o" && what.contains("in full"))
    );
    app.update(key(KeyCode::Esc));
    assert!(app.popup.is_none());
}

#[test]
fn an_admin_deactivates_a_user_after_confirming() {
    let mut app = logged_in(Role::Admin);
    app.update(ch('6'));
    app.screens.users.list.show(Remote::loaded(users()));
    app.update(ch('j'));
    app.update(ch('d'));
    let commands = app.update(ch('y'));
    assert!(matches!(
        &commands[..],
        [Command::UpdateUser(id, change)] if *id == users()[1].id && change.active == Some(false)
    ));
}

#[test]
fn ctrl_c_quits_even_from_a_form() {
    let mut app = App::new(today(), "", "");
    assert!(matches!(&app.update(ctrl('c'))[..], [Command::Quit]));
}

#[test]
fn a_missing_analytics_endpoint_reads_as_not_available() {
    let mut app = logged_in(Role::Admin);
    let commands = app.update(ch('8'));
    let generation = generation_of(&commands, Fetch::Analytics(today()));
    reply(
        &mut app,
        fetched(
            Fetch::Analytics(today()),
            generation,
            Err(missing_endpoint()),
        ),
    );
    assert_eq!(
        app.screens
            .analytics
            .remote
            .error
            .as_ref()
            .unwrap()
            .describe(),
        "not available on this server"
    );
    assert_eq!(app.stage, Stage::Main);
}

#[test]
fn a_paste_with_newlines_fills_the_description_and_submits_nothing() {
    let mut app = logged_in(Role::Worker);
    app.update(ch('3'));
    app.update(key(KeyCode::Enter));
    let commands = app.update(Event::Paste("Count the seeds\n".into()));
    assert!(commands.is_empty(), "a paste never submits");
    assert_eq!(app.screens.new_task.form.value("title"), "Count the seeds ");
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Tab));
    let commands = app.update(Event::Paste("line one\nline two\nline three".into()));
    assert!(commands.is_empty());
    assert_eq!(
        app.screens.new_task.form.value("description"),
        "line one\nline two\nline three"
    );
    // Outside a text field a paste does nothing at all (it is not key presses).
    let mut app = logged_in(Role::Worker);
    app.screens.my_tasks.list.show(Remote::loaded(my_tasks()));
    assert!(app.update(Event::Paste("cy".into())).is_empty());
    assert!(app.popup.is_none());
}

#[test]
fn sigterm_quits_like_q() {
    let mut app = logged_in(Role::Worker);
    assert!(matches!(&app.update(Event::Terminate)[..], [Command::Quit]));
    assert!(app.quit);
}

#[test]
fn the_board_asks_the_server_to_search_and_loads_more_rows_near_the_end() {
    let mut app = logged_in(Role::Manager);
    let first = generation_of(&app.refresh(Tab::Board), board());
    // Many rows, more on the server.
    let mut many = Vec::new();
    for _ in 0..(ates_tui::screens::board::BOARD_PAGE / 6) {
        many.extend(board_tasks());
    }
    for (i, task) in many.iter_mut().enumerate() {
        task.id = uuid::Uuid::from_u128(i as u128 + 1);
    }
    reply(
        &mut app,
        fetched(
            board(),
            first,
            Ok(Data::Board {
                tasks: many.clone(),
                more: true,
            }),
        ),
    );
    // Scrolling to the end asks for another page, of the same filters.
    let more = app.update(key(KeyCode::End));
    let wanted = fetches(&more);
    assert!(
        matches!(&wanted[..], [Fetch::Board(q)] if q.rows == 2 * ates_tui::screens::board::BOARD_PAGE),
        "{wanted:?}"
    );
    let generation = generation_of(&more, wanted[0].clone());
    reply(
        &mut app,
        fetched(
            wanted[0].clone(),
            generation,
            Ok(Data::Board {
                tasks: many,
                more: false,
            }),
        ),
    );
    // A search goes to the server; typing fast keeps one request in flight and ends with
    // exactly one more for the full text.
    app.update(ch('/'));
    let first_key = app.update(ch('n'));
    assert!(
        matches!(&fetches(&first_key)[..], [Fetch::Board(q)] if q.search == "n" && q.rows == ates_tui::screens::board::BOARD_PAGE)
    );
    let generation = generation_of(&first_key, fetches(&first_key)[0].clone());
    assert!(fetches(&typed(&mut app, "est")).is_empty(), "one in flight");
    let after = reply(
        &mut app,
        fetched(
            fetches(&first_key)[0].clone(),
            generation,
            Ok(Data::Board {
                tasks: board_tasks(),
                more: false,
            }),
        ),
    );
    assert!(
        matches!(&fetches(&after)[..], [Fetch::Board(q)] if q.search == "nest"),
        "{:?}",
        fetches(&after)
    );
}

#[test]
fn a_rebound_key_is_the_one_that_acts_and_the_one_the_hints_show() {
    use std::collections::BTreeMap;
    let mut app = logged_in(Role::Worker);
    let mut keys = BTreeMap::new();
    keys.insert("my_tasks.complete".to_owned(), vec!["x".to_owned()]);
    app.keymap = ates_tui::app::keymap::Keymap::vim()
        .with_overrides(&keys)
        .unwrap();
    app.screens.my_tasks.list.show(Remote::loaded(my_tasks()));
    assert!(app.update(ch('c')).is_empty());
    assert!(app.popup.is_none(), "c no longer completes");
    app.update(ch('x'));
    assert!(matches!(app.popup, Some(Popup::Confirm(_))));
    let hints = ates_tui::app::help::hints(&app);
    assert_eq!(hints.first(), Some(&("x".to_owned(), "complete")));
}

#[test]
fn the_help_narrows_as_you_type_after_a_slash() {
    let mut app = logged_in(Role::Admin);
    app.switch_to(Tab::Users);
    app.update(ch('?'));
    let all = ates_tui::app::help::bindings(&app).len();
    app.update(ch('/'));
    typed(&mut app, "role");
    let found = ates_tui::app::help::bindings(&app);
    assert!(found.len() < all);
    assert!(
        found.iter().any(|(k, w)| k == "e" && w.contains("role")),
        "{found:?}"
    );
    app.update(key(KeyCode::Enter));
    assert_eq!(app.popup, Some(Popup::Help), "still open, filter kept");
    app.update(key(KeyCode::Esc));
    assert!(app.popup.is_none());
}

#[test]
fn x_on_the_accounts_screen_exports_the_last_30_days_and_says_where() {
    let mut app = logged_in(Role::Accountant);
    app.switch_to(Tab::Accounts);
    let commands = app.update(ch('x'));
    let to = app.today;
    assert!(
        matches!(&commands[..], [Command::ExportLedger { from, to: end }]
            if *end == to && *from == to - chrono::Duration::days(29)),
        "{commands:?}"
    );
    reply(
        &mut app,
        Reply::Exported(Ok(("/tmp/ates-ledger.csv".into(), 42))),
    );
    let flash = app.flash.clone().unwrap();
    assert!(flash.text.contains("42") && flash.text.contains("/tmp/ates-ledger.csv"));
}

#[test]
fn discarding_a_dead_letter_asks_for_a_reason_sends_it_and_refreshes() {
    let mut app = logged_in(Role::Admin);
    let _ = app.switch_to(Tab::Events);
    app.screens.events.show(Remote::loaded(system()));
    let letter = system().dead_letters[0].clone();
    let _ = app.update(ch('x'));
    assert!(app.typing(), "the reason form takes the keys");
    // A blank reason is refused in place; nothing is sent.
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    typed(&mut app, "replayed by hand in the ledger");
    let sent = app.update(key(KeyCode::Enter));
    assert!(
        matches!(&sent[..], [Command::DiscardDeadLetter(id, reason)]
            if *id == letter.id && reason == "replayed by hand in the ledger"),
        "{sent:?}"
    );
    let mut discarded = letter;
    discarded.status = ates_shared::api::DeadLetterStatus::Discarded;
    let after = app.update(Event::Reply(Reply::Discarded(Ok(discarded))));
    assert_eq!(
        fetches(&after),
        vec![Fetch::System],
        "the list is fetched again"
    );
    assert!(!app.typing(), "the dialog closed");
}

#[test]
fn an_audit_log_pages_through_history_and_filters_a_day_at_a_time() {
    use ates_tui::app::event::LogQuery;
    let mut app = logged_in(Role::Accountant);
    let _ = app.switch_to(Tab::Accounts);
    app.screens.accounts.list.show(Remote::loaded(accounts()));
    let worker = accounts()[0].user.clone();
    let log = |day: Option<chrono::NaiveDate>, rows: usize| {
        Fetch::Log(LogQuery {
            owner: Tab::Accounts,
            user: worker.id,
            day,
            rows,
        })
    };
    let sent = app.update(key(KeyCode::Enter));
    assert_eq!(fetches(&sent), vec![log(None, 200)]);
    let generation = generation_of(&sent, log(None, 200));
    // A full page with more behind it: moving near the end asks for a page more.
    let entries: Vec<_> = (0..200)
        .map(|i| {
            let mut entry = my_account().log[0].clone();
            entry.id = uuid::Uuid::from_u128(10_000 + i);
            entry
        })
        .collect();
    reply(
        &mut app,
        fetched(
            log(None, 200),
            generation,
            Ok(Data::Log {
                entries,
                more: true,
            }),
        ),
    );
    let more = app.update(ch('G'));
    assert_eq!(fetches(&more), vec![log(None, 400)], "older entries load");
    let generation = generation_of(&more, log(None, 400));
    reply(
        &mut app,
        fetched(
            log(None, 400),
            generation,
            Ok(Data::Log {
                entries: my_account().log,
                more: false,
            }),
        ),
    );
    // `h` shows the newest entry's day only, then the day before; Esc every day again.
    let newest = my_account().log[0].date;
    assert_eq!(fetches(&app.update(ch('h'))), vec![log(Some(newest), 200)]);
    let _ = app.update(Event::Reply(Reply::Fetched {
        fetch: log(Some(newest), 200),
        generation: 0,
        result: Ok(Data::Log {
            entries: vec![],
            more: false,
        }),
    }));
    assert_eq!(app.screens.accounts.log.day, Some(newest));
    assert!(app.screens.accounts.in_log);
    let _ = app.update(key(KeyCode::Esc));
    assert_eq!(app.screens.accounts.log.day, None, "every day again");
    let _ = app.update(key(KeyCode::Esc));
    assert!(!app.screens.accounts.in_log, "back to the accounts");
    let _ = app.update(ch('j'));
    assert_eq!(
        app.screens.accounts.list.selected.index, 1,
        "j moves in the accounts"
    );
}

#[test]
fn a_task_opens_in_full_and_money_roles_see_its_fees() {
    // A worker sees the task, without money.
    let mut app = logged_in(Role::Worker);
    app.screens.my_tasks.list.show(Remote::loaded(my_tasks()));
    let sent = app.update(key(KeyCode::Enter));
    assert!(fetches(&sent).is_empty(), "no ledger for a worker");
    let detail = app.screens.my_tasks.detail.as_ref().expect("open");
    assert_eq!(detail.task.id, my_tasks()[0].id);
    assert!(detail.ledger.is_none());
    assert!(app.update(ch('c')).is_empty(), "keys go to the detail");
    let _ = app.update(key(KeyCode::Esc));
    assert!(app.screens.my_tasks.detail.is_none());

    // An admin on the board also gets the task's ledger rows.
    let mut app = logged_in(Role::Admin);
    let _ = app.switch_to(Tab::Board);
    app.screens.board.list.remote = Remote::loaded(board_tasks());
    app.screens.board.recompute();
    let sent = app.update(key(KeyCode::Enter));
    let task = app.screens.board.detail.as_ref().unwrap().task.id;
    assert_eq!(fetches(&sent), vec![Fetch::TaskLedger(Tab::Board, task)]);
}

#[test]
fn the_admin_picks_a_range_for_the_most_expensive_task_with_two_marks() {
    let mut app = logged_in(Role::Admin);
    let _ = app.switch_to(Tab::Analytics);
    app.screens.analytics.remote = Remote::loaded(analytics());
    let today = app.today;
    assert!(
        app.update(ch('v')).is_empty(),
        "the first mark only remembers the day"
    );
    let _ = app.update(ch('h'));
    let _ = app.update(ch('h'));
    let sent = app.update(ch('v'));
    let from = today - chrono::Duration::days(2);
    assert_eq!(
        fetches(&sent),
        vec![Fetch::MostExpensiveBetween(from, today)],
        "in order"
    );
}
