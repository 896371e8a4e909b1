//! Runs the app: draws, reads keys on their own thread, performs commands in background
//! tasks and feeds their results back as events. The network never blocks drawing.

use crate::api::client::TaskQuery;
use crate::api::sse;
use crate::api::{ApiError, Client};
use crate::app::event::{AnalyticsView, SystemView};
use crate::app::{App, Command, Data, Event, Fetch, Reply};
use crate::config::Store;
use crate::terminal::Tui;
use crate::ui;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

/// Days of earnings the Analytics screen asks for.
const ANALYTICS_DAYS: i64 = crate::screens::days::RANGE_DAYS;

/// How often the app is offered a refresh; it takes it only while the stream is down.
pub const POLL_EVERY: Duration = Duration::from_secs(2);

/// Performs commands. Each request runs in its own task and answers with an event.
pub struct Executor {
    events: UnboundedSender<Event>,
    client: Client,
    store: Option<Store>,
    stream: Option<JoinHandle<()>>,
}

impl Executor {
    pub fn new(events: UnboundedSender<Event>, store: Option<Store>, server: &str) -> Executor {
        Executor {
            events,
            client: Client::new(server, None),
            store,
            stream: None,
        }
    }

    /// Returns false on `Quit`.
    pub fn perform(&mut self, command: Command) -> bool {
        let client = self.client.clone();
        let events = self.events.clone();
        let reply = move |reply: Reply| {
            let _ = events.send(Event::Reply(reply));
        };
        match command {
            Command::Quit => return false,
            Command::Login {
                server,
                username,
                password,
            } => {
                tokio::spawn(async move {
                    let client = Client::new(&server, None);
                    let result = client.login(&username, &password).await;
                    reply(Reply::LoggedIn {
                        server: client.base().to_owned(),
                        result,
                    });
                });
            }
            Command::Resume { server, token } => {
                tokio::spawn(async move {
                    let result = Client::new(&server, Some(token)).me().await;
                    reply(Reply::Resumed(result));
                });
            }
            Command::SetSession(session) => {
                if let Some(stream) = self.stream.take() {
                    stream.abort();
                }
                if let Some(store) = &self.store {
                    // Failing to remember the token only costs a login next time.
                    let _ = match (&session, self.client.token()) {
                        (Some(session), _) => store.remember(Some(session)),
                        (None, Some(ended)) => store.forget(ended),
                        (None, None) => Ok(()),
                    };
                }
                match session {
                    Some(session) => {
                        self.client = Client::new(&session.server, Some(session.token.clone()));
                        self.stream = Some(tokio::spawn(sse::follow(
                            session.server,
                            session.token,
                            self.events.clone(),
                            Event::Stream,
                        )));
                    }
                    None => self.client = Client::new(self.client.base(), None),
                }
            }
            Command::Fetch { fetch, generation } => {
                tokio::spawn(async move {
                    let result = run_fetch(&client, fetch.clone()).await;
                    reply(Reply::Fetched {
                        fetch,
                        generation,
                        result,
                    });
                });
            }
            Command::CompleteTask(id) => {
                tokio::spawn(async move {
                    let result = client.complete_task(id).await;
                    reply(Reply::Completed { id, result });
                });
            }
            Command::CreateTask(task) => {
                tokio::spawn(async move {
                    reply(Reply::TaskCreated(client.create_task(&task).await));
                });
            }
            Command::Reshuffle => {
                tokio::spawn(async move {
                    reply(Reply::Reshuffled(client.reshuffle().await));
                });
            }
            Command::ExportLedger { from, to } => {
                tokio::spawn(async move {
                    let path = std::path::PathBuf::from(format!("ates-ledger-{from}-{to}.csv"));
                    let result = crate::cli::export::ledger_to(
                        &client,
                        from,
                        to,
                        None,
                        crate::cli::export::Format::Csv,
                        Some(&path),
                    )
                    .await
                    .map(|rows| (std::path::absolute(&path).unwrap_or(path), rows))
                    .map_err(|e| format!("{e:#}"));
                    reply(Reply::Exported(result));
                });
            }
            Command::CloseDay => {
                tokio::spawn(async move {
                    reply(Reply::DayClosed(client.close_day().await));
                });
            }
            Command::CreateUser(user) => {
                tokio::spawn(async move {
                    reply(Reply::UserCreated(client.create_user(&user).await));
                });
            }
            Command::UpdateUser(id, change) => {
                tokio::spawn(async move {
                    reply(Reply::UserUpdated(client.update_user(id, &change).await));
                });
            }
            Command::RetryDeadLetter(id) => {
                tokio::spawn(async move {
                    reply(Reply::Retried(client.retry_dead_letter(id).await));
                });
            }
            Command::DiscardDeadLetter(id, reason) => {
                tokio::spawn(async move {
                    reply(Reply::Discarded(
                        client.discard_dead_letter(id, &reason).await,
                    ));
                });
            }
        }
        true
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        if let Some(stream) = self.stream.take() {
            stream.abort();
        }
    }
}

pub async fn run_fetch(client: &Client, fetch: Fetch) -> Result<Data, ApiError> {
    use crate::api::client::Period;
    Ok(match fetch {
        Fetch::MyTasks => Data::Tasks(
            client
                .tasks(&TaskQuery {
                    mine: true,
                    ..TaskQuery::default()
                })
                .await?,
        ),
        Fetch::Board(query) => {
            let (tasks, more) = client.board(&query).await?;
            Data::Board { tasks, more }
        }
        Fetch::Meta => Data::Meta(client.meta().await?),
        Fetch::OpenCount => {
            Data::Count(usize::try_from(client.task_counts().await?.open).unwrap_or(usize::MAX))
        }
        Fetch::MyAccount => Data::MyAccount(client.my_account().await?),
        Fetch::Accounts => Data::Accounts(client.accounts().await?),
        Fetch::MostExpensiveBetween(from, to) => {
            Data::MostExpensive(client.most_expensive_between(from, to).await?)
        }
        Fetch::TaskLedger(_, task) => Data::TaskLedger(client.task_ledger(task).await?),
        Fetch::Log(query) => {
            let (entries, more) = client.audit_log_rows(&query).await?;
            Data::Log { entries, more }
        }
        Fetch::Earnings(to) => {
            let from = to - chrono::Duration::days(crate::screens::days::RANGE_DAYS - 1);
            Data::Earnings(client.earnings(Some((from, to))).await?)
        }
        Fetch::Users => Data::Users(client.users().await?),
        Fetch::System => {
            let (status, dead_letters) =
                tokio::join!(client.events_status(), client.dead_letters());
            Data::System(SystemView {
                status: status?,
                dead_letters: dead_letters?,
            })
        }
        Fetch::Analytics(date) => {
            let from = date - chrono::Duration::days(ANALYTICS_DAYS - 1);
            let (summary, earnings, day, week, month) = tokio::join!(
                client.analytics_summary(date),
                client.analytics_earnings(from, date),
                client.most_expensive(Period::Day, date),
                client.most_expensive(Period::Week, date),
                client.most_expensive(Period::Month, date),
            );
            Data::Analytics(Box::new(AnalyticsView {
                summary: summary?,
                days: earnings?.days,
                day: day?,
                week: week?,
                month: month?,
            }))
        }
    })
}

/// Reads terminal input on a plain thread (crossterm's reads block) until `stop` is set.
fn spawn_input(events: UnboundedSender<Event>, stop: Arc<AtomicBool>) {
    use ratatui::crossterm::event::{self, Event as Term, KeyEventKind};
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match event::poll(Duration::from_millis(100)) {
                Ok(false) => continue,
                Ok(true) => {}
                Err(_) => return,
            }
            let event = match event::read() {
                Ok(Term::Key(key)) if key.kind != KeyEventKind::Release => Event::Key(key),
                Ok(Term::Resize(..)) => Event::Resize,
                Ok(Term::Paste(text)) => Event::Paste(text),
                Ok(_) => continue,
                Err(_) => return,
            };
            if events.send(event).is_err() {
                return;
            }
        }
    });
}

/// Runs the client in the terminal until the user quits.
pub async fn run(app: App, initial: Vec<Command>, store: Store) -> anyhow::Result<()> {
    let mut tui = Tui::enter()?;
    let result = run_in(&mut tui, app, initial, store).await;
    drop(tui);
    result
}

async fn run_in(
    tui: &mut Tui,
    mut app: App,
    initial: Vec<Command>,
    store: Store,
) -> anyhow::Result<()> {
    let (tx, mut rx) = unbounded_channel::<Event>();
    let server = app.login.value("server").to_owned();
    let mut executor = Executor::new(tx.clone(), Some(store), &server);
    let stop = Arc::new(AtomicBool::new(false));
    spawn_input(tx.clone(), stop.clone());
    let ticker = {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(POLL_EVERY);
            interval.tick().await;
            loop {
                interval.tick().await;
                let _ = tx.send(Event::Clock(chrono::Utc::now()));
                if tx.send(Event::Poll).is_err() {
                    return;
                }
            }
        })
    };
    #[cfg(unix)]
    let signals = {
        let tx = tx.clone();
        tokio::spawn(async move {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut hup)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::hangup()),
            ) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = hup.recv() => {}
            }
            let _ = tx.send(Event::Terminate);
        })
    };
    let mut running = initial.into_iter().all(|c| executor.perform(c));
    while running {
        tui.terminal.draw(|frame| ui::draw(frame, &app))?;
        let Some(first) = rx.recv().await else { break };
        // Take everything that is already waiting, then draw once.
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        for event in batch {
            if is_suspend(&event) {
                tui.suspend()?;
                continue;
            }
            for command in app.update(event) {
                running &= executor.perform(command);
            }
        }
        running &= !app.quit;
    }
    stop.store(true, Ordering::Relaxed);
    ticker.abort();
    #[cfg(unix)]
    signals.abort();
    Ok(())
}

/// Ctrl-Z, which raw mode delivers as a key instead of stopping the process.
fn is_suspend(event: &Event) -> bool {
    use ratatui::crossterm::event::{KeyCode, KeyModifiers};
    matches!(event, Event::Key(key)
        if key.code == KeyCode::Char('z') && key.modifiers.contains(KeyModifiers::CONTROL))
}
