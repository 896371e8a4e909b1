//! The command line: no subcommand opens the terminal client; subcommands do the same
//! things for scripts, printing plain text or `--json`.

use crate::api::client::TaskQuery;
use crate::api::{ApiError, Client};
use crate::app::{App, Session};
use crate::config::Store;
use crate::ui::widgets::money;
use anyhow::{Context as _, bail};
use ates_shared::api::{NewTask, Task, TaskStatus};
use clap::{Parser, Subcommand, ValueEnum};
use serde::Serialize;
use std::process::ExitCode;
use uuid::Uuid;

mod admin;
pub mod export;
mod money;

#[derive(Debug, Parser)]
#[command(
    name = "ates",
    version,
    about = "aTES terminal client. Without a subcommand it opens the full-screen client."
)]
pub struct Cli {
    /// Print JSON (the API's own shapes) instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Also trust this CA (a PEM file) for `https://` servers, e.g. a company's private CA.
    #[arg(long, global = true, env = "ATES_CA_CERT", value_name = "FILE")]
    pub ca_cert: Option<std::path::PathBuf>,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Print the path of the settings file (`config.toml`).
    Path,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Log in and remember the server and token.
    Login {
        /// The server, e.g. http://127.0.0.1:8080 (default: the remembered one).
        #[arg(long)]
        server: Option<String>,
        #[arg(long)]
        username: String,
        /// The password; else $ATES_PASSWORD; else asked for without echo.
        #[arg(long, env = "ATES_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Forget the token.
    Logout,
    /// List tasks (the board, or only yours).
    Tasks {
        /// Only the tasks assigned to you.
        #[arg(long)]
        mine: bool,
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
    },
    /// Create or complete a task.
    #[command(subcommand)]
    Task(TaskCmd),
    /// Reassign every open task at random (manager, admin). Asks first on a terminal;
    /// elsewhere `--yes` is required.
    Reshuffle {
        #[arg(long)]
        yes: bool,
    },
    /// Your balance, today's earnings and today's audit log.
    Balance,
    /// Close today's billing day: pay out positive balances (accountant, admin). Asks
    /// first on a terminal; elsewhere `--yes` is required.
    CloseDay {
        #[arg(long)]
        yes: bool,
    },
    /// Every worker's balance (accountant, admin).
    Accounts,
    /// A worker's audit log, newest first (yours without USER); USER is a username or id.
    Log {
        user: Option<String>,
        /// Only this billing day, YYYY-MM-DD.
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
    },
    /// The company's earnings per day (accountant, admin).
    Earnings {
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
    },
    /// List users, or add one, change a role, deactivate or reactivate (admin).
    Users {
        #[command(subcommand)]
        action: Option<admin::UsersCmd>,
    },
    /// Consumers, their lag and parked events (admin).
    Events,
    /// Dead letters, or replay or discard one (admin).
    DeadLetters {
        #[command(subcommand)]
        action: Option<admin::DeadLetterCmd>,
    },
    /// Analytics: a day's summary or the most expensive task (admin).
    #[command(subcommand)]
    Analytics(admin::AnalyticsCmd),
    /// Rebuild a read model from the event logs, online (admin).
    Rebuild { context: admin::RebuildArg },
    /// Export for accountants: `ates export ledger --from D --to D [--user U] --format csv|json`.
    #[command(subcommand)]
    Export(export::ExportCmd),
    /// Where the settings are.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Start a demo server in-process with users and 30 days of history, and open the client.
    Demo {
        /// Whom to log in as: worker, accountant, manager or admin.
        #[arg(long = "as", default_value = "worker")]
        login_as: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TaskCmd {
    /// Create a task; it is assigned at once to a random worker.
    Add {
        title: String,
        #[arg(long)]
        jira_id: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// Complete one of your tasks.
    Done { id: Uuid },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StatusArg {
    Open,
    Done,
}

impl From<StatusArg> for TaskStatus {
    fn from(s: StatusArg) -> TaskStatus {
        match s {
            StatusArg::Open => TaskStatus::Open,
            StatusArg::Done => TaskStatus::Done,
        }
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", explain(&err));
            ExitCode::FAILURE
        }
    }
}

/// The server's own message, with advice where there is an obvious next step.
fn explain(err: &anyhow::Error) -> String {
    match err.downcast_ref::<ApiError>() {
        Some(api) if api.is_unauthorized() => format!(
            "{} (not logged in, or the session expired: run `ates login`)",
            api.describe()
        ),
        Some(api) => api.describe(),
        None => format!("{err:#}"),
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let store = Store::from_env()?;
    let settings = store.settings()?;
    crate::api::tls::init(cli.ca_cert.as_deref().or(settings.ca_cert.as_deref()))?;
    let json = cli.json;
    let Some(command) = cli.command else {
        return open_client(store).await;
    };
    match command {
        Cmd::Login {
            server,
            username,
            password,
        } => {
            let server = match server {
                Some(server) => server,
                None => store.default_server()?,
            };
            let password = match password {
                Some(p) => p,
                None => rpassword::prompt_password(format!("Password for {username}: "))
                    .context("reading the password")?,
            };
            let client = Client::new(&server, None);
            let login = client.login(&username, &password).await?;
            store.remember(Some(&Session {
                server: client.base().to_owned(),
                token: login.token.clone(),
                username: login.user.username.clone(),
            }))?;
            if json {
                print_json(&login.user)?;
            } else {
                println!(
                    "Logged in to {} as {} ({}); the session lasts until {}.",
                    client.base(),
                    login.user.username,
                    login.user.role,
                    login.expires_at.format("%Y-%m-%d %H:%M UTC")
                );
            }
        }
        Cmd::Logout => {
            store.remember(None)?;
            if !json {
                println!("Logged out.");
            }
        }
        Cmd::Tasks { mine, status } => {
            let tasks = client(&store)?
                .tasks(&TaskQuery {
                    status: status.map(Into::into),
                    mine,
                })
                .await?;
            if json {
                print_json(&tasks)?;
            } else {
                print_tasks(&tasks);
            }
        }
        Cmd::Task(TaskCmd::Add {
            title,
            jira_id,
            description,
        }) => {
            let task = client(&store)?
                .create_task(&NewTask {
                    title,
                    jira_id,
                    description,
                })
                .await?;
            if json {
                print_json(&task)?;
            } else {
                println!(
                    "Created {} “{}”, assigned to {}.",
                    task.id, task.title, task.assignee.username
                );
            }
        }
        Cmd::Task(TaskCmd::Done { id }) => {
            let task = client(&store)?.complete_task(id).await?;
            if json {
                print_json(&task)?;
            } else {
                println!("Done: {} “{}”.", task.id, task.title);
            }
        }
        Cmd::Reshuffle { yes } => {
            confirm(
                yes,
                "Reshuffle every open task (each one billed as a new assignment)?",
            )?;
            let result = client(&store)?.reshuffle().await?;
            if json {
                print_json(&result)?;
            } else {
                println!("Reassigned {} open task(s).", result.reassigned);
            }
        }
        Cmd::Balance => {
            let account = client(&store)?.my_account().await?;
            if json {
                print_json(&account)?;
            } else {
                println!("Balance:      {}", money(account.balance_cents));
                println!("Earned today: {}", money(account.earned_today_cents));
                for entry in &account.log {
                    let task = entry
                        .task
                        .as_ref()
                        .map(|t| t.title.as_str())
                        .unwrap_or("(payout)");
                    println!(
                        "  {}  {:<6}  {:>12}  {task}",
                        entry.at.format("%Y-%m-%d %H:%M"),
                        entry.kind.as_str(),
                        money(entry.amount_cents)
                    );
                }
            }
        }
        Cmd::CloseDay { yes } => {
            confirm(
                yes,
                "Close today's billing day and pay out every positive balance?",
            )?;
            let closed = client(&store)?.close_day().await?;
            if json {
                print_json(&closed)?;
            } else {
                println!(
                    "Closed {}: {} payout(s), {} paid.",
                    closed.date,
                    closed.payouts,
                    money(closed.paid_cents)
                );
            }
        }
        Cmd::Accounts => money::accounts(&client(&store)?, json).await?,
        Cmd::Log { user, date } => {
            money::log(&client(&store)?, json, user.as_deref(), date).await?
        }
        Cmd::Earnings { from, to } => money::earnings(&client(&store)?, json, from, to).await?,
        Cmd::Users {
            action: Some(action),
        } => admin::users(&client(&store)?, json, action).await?,
        Cmd::Events => admin::events(&client(&store)?, json).await?,
        Cmd::DeadLetters { action } => admin::dead_letters(&client(&store)?, json, action).await?,
        Cmd::Analytics(action) => admin::analytics(&client(&store)?, json, action).await?,
        Cmd::Rebuild { context } => admin::rebuild(&client(&store)?, json, context).await?,
        Cmd::Export(command) => export::run(&client(&store)?, command).await?,
        Cmd::Users { action: None } => {
            let users = client(&store)?.users().await?;
            if json {
                print_json(&users)?;
            } else {
                println!(
                    "{:<36}  {:<16}  {:<10}  {:<6}  NAME",
                    "ID", "USERNAME", "ROLE", "ACTIVE"
                );
                for u in &users {
                    println!(
                        "{:<36}  {:<16}  {:<10}  {:<6}  {}",
                        u.id,
                        u.username,
                        u.role.as_str(),
                        if u.active { "yes" } else { "no" },
                        u.full_name
                    );
                }
            }
        }
        Cmd::Demo { login_as } => crate::demo::run(&login_as).await?,
        Cmd::Config(ConfigCmd::Path) => println!("{}", store.path().display()),
    }
    Ok(())
}

/// A client with the remembered session.
fn client(store: &Store) -> anyhow::Result<Client> {
    let saved = store.load()?;
    match saved.session() {
        Some(session) => Ok(Client::new(&session.server, Some(session.token))),
        None => bail!(
            "not logged in: run `ates login --server URL --username NAME` first (config: {})",
            store.session_path().display()
        ),
    }
}

/// A destructive command goes ahead with `--yes`, or after a `y` typed at a terminal;
/// without a terminal and without `--yes` it is refused, so a script never blocks on a
/// question nor acts by accident.
fn confirm(yes: bool, question: &str) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        bail!("{question} Pass --yes to confirm (not asking: no terminal).");
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if answer.trim().eq_ignore_ascii_case("y") {
        Ok(())
    } else {
        bail!("cancelled")
    }
}

pub(crate) fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn print_tasks(tasks: &[Task]) {
    println!(
        "{:<36}  {:<6}  {:<14}  {:<16}  TITLE",
        "ID", "STATUS", "JIRA", "ASSIGNEE"
    );
    for t in tasks {
        println!(
            "{:<36}  {:<6}  {:<14}  {:<16}  {}",
            t.id,
            t.status.as_str(),
            t.jira_id.as_deref().unwrap_or("-"),
            t.assignee.username,
            t.title
        );
    }
}

/// The full-screen client, resuming the remembered session when there is one.
pub async fn open_client(store: Store) -> anyhow::Result<()> {
    let saved = store.load()?;
    let keymap = store.keymap()?;
    let today = chrono::Utc::now().date_naive();
    let mut app = App::new(
        today,
        &store.default_server()?,
        saved.username.as_deref().unwrap_or(""),
    );
    app.keymap = keymap;
    app.ascii_charts = store.settings()?.ascii_charts;
    let initial = match saved.session() {
        Some(session) => app.resume(session),
        None => Vec::new(),
    };
    crate::runtime::run(app, initial, store).await
}
