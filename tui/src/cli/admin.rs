//! `ates users ...`, `ates events`, `ates dead-letters ...`, `ates analytics ...`,
//! `ates rebuild`: what the admin screens do, for scripts.

use super::print_json;
use crate::api::Client;
use crate::api::client::Period;
use crate::ui::widgets::money;
use anyhow::Context as _;
use ates_shared::Role;
use ates_shared::api::{CreateUser, RebuildContext, UpdateUser, User};
use chrono::NaiveDate;
use clap::{Subcommand, ValueEnum};
use uuid::Uuid;

#[derive(Debug, Subcommand)]
pub enum UsersCmd {
    /// Create a user; the password comes from --password, $ATES_NEW_USER_PASSWORD or a prompt.
    Add {
        username: String,
        #[arg(long)]
        full_name: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "worker")]
        role: Role,
        #[arg(long, env = "ATES_NEW_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Change a user's role (they will have to log in again).
    Role { user: String, role: Role },
    /// Deactivate a user: no login, no new tasks; their tokens stop working at once.
    Deactivate { user: String },
    /// Reactivate a user.
    Activate { user: String },
}

#[derive(Debug, Subcommand)]
pub enum DeadLetterCmd {
    /// Apply a parked event again.
    Replay { id: Uuid },
    /// Give up on a parked event for good, with a reason that is kept.
    Discard {
        id: Uuid,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AnalyticsCmd {
    /// A day's earnings and employees in the red (default: today).
    Summary {
        #[arg(long)]
        date: Option<NaiveDate>,
    },
    /// The most expensive task of the day, week or month around a date (default: today).
    MostExpensive {
        #[arg(long, value_enum, default_value = "day")]
        period: PeriodArg,
        #[arg(long)]
        date: Option<NaiveDate>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PeriodArg {
    Day,
    Week,
    Month,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RebuildArg {
    Accounting,
    Analytics,
}

/// A user by username or id.
async fn find_user(client: &Client, user: &str) -> anyhow::Result<User> {
    let users = client.users().await?;
    users
        .into_iter()
        .find(|u| u.username == user || u.id.to_string() == user)
        .with_context(|| format!("no user `{user}`"))
}

pub async fn users(client: &Client, json: bool, action: UsersCmd) -> anyhow::Result<()> {
    let user = match action {
        UsersCmd::Add {
            username,
            full_name,
            email,
            role,
            password,
        } => {
            let password = match password {
                Some(p) => p,
                None => rpassword::prompt_password(format!("Password for {username}: "))
                    .context("reading the password")?,
            };
            client
                .create_user(&CreateUser {
                    username,
                    password,
                    full_name,
                    email,
                    role,
                })
                .await?
        }
        UsersCmd::Role { user, role } => {
            let id = find_user(client, &user).await?.id;
            let change = UpdateUser {
                role: Some(role),
                ..UpdateUser::default()
            };
            client.update_user(id, &change).await?
        }
        UsersCmd::Deactivate { user } => set_active(client, &user, false).await?,
        UsersCmd::Activate { user } => set_active(client, &user, true).await?,
    };
    show_user(json, &user)
}

async fn set_active(client: &Client, user: &str, active: bool) -> anyhow::Result<User> {
    let id = find_user(client, user).await?.id;
    let change = UpdateUser {
        active: Some(active),
        ..UpdateUser::default()
    };
    Ok(client.update_user(id, &change).await?)
}

fn show_user(json: bool, user: &User) -> anyhow::Result<()> {
    if json {
        return print_json(user);
    }
    println!(
        "{} {} ({}){}",
        user.id,
        user.username,
        user.role,
        if user.active { "" } else { ", inactive" }
    );
    Ok(())
}

pub async fn events(client: &Client, json: bool) -> anyhow::Result<()> {
    let status = client.events_status().await?;
    if json {
        return print_json(&status);
    }
    println!(
        "{:<22}  {:>10}  {:>10}  {:>8}  {:>6}",
        "CONSUMER", "POSITION", "HEAD", "LAG", "PARKED"
    );
    for c in &status.consumers {
        println!(
            "{:<22}  {:>10}  {:>10}  {:>8}  {:>6}",
            c.consumer, c.position, c.head, c.lag, c.dead_letters
        );
    }
    for r in &status.rebuilds {
        println!(
            "rebuild {}: {:?} {}/{}",
            r.context, r.state, r.processed, r.total
        );
    }
    println!(
        "{}",
        if status.caught_up {
            "caught up"
        } else {
            "catching up"
        }
    );
    Ok(())
}

pub async fn dead_letters(
    client: &Client,
    json: bool,
    action: Option<DeadLetterCmd>,
) -> anyhow::Result<()> {
    let letter = match action {
        None => {
            let letters = client.dead_letters().await?;
            if json {
                return print_json(&letters);
            }
            for d in &letters {
                println!(
                    "{}  {:<9}  {:<20}  {} v{}  {}",
                    d.id,
                    d.status.as_str(),
                    d.consumer,
                    d.event_name,
                    d.event_version,
                    d.error
                );
            }
            return Ok(());
        }
        Some(DeadLetterCmd::Replay { id }) => client.retry_dead_letter(id).await?,
        Some(DeadLetterCmd::Discard { id, reason }) => {
            client.discard_dead_letter(id, &reason).await?
        }
    };
    if json {
        return print_json(&letter);
    }
    println!(
        "{} {}: {}",
        letter.id,
        letter.event_name,
        letter.status.as_str()
    );
    Ok(())
}

pub async fn analytics(client: &Client, json: bool, action: AnalyticsCmd) -> anyhow::Result<()> {
    let today = client.meta().await?.today;
    match action {
        AnalyticsCmd::Summary { date } => {
            let summary = client.analytics_summary(date.unwrap_or(today)).await?;
            if json {
                return print_json(&summary);
            }
            println!(
                "{}: earnings {}, {} employee(s) in the red",
                summary.date,
                money(summary.earnings_cents),
                summary.negative_balance_workers
            );
        }
        AnalyticsCmd::MostExpensive { period, date } => {
            let period = match period {
                PeriodArg::Day => Period::Day,
                PeriodArg::Week => Period::Week,
                PeriodArg::Month => Period::Month,
            };
            let found = client.most_expensive(period, date.unwrap_or(today)).await?;
            if json {
                return print_json(&found);
            }
            match &found.task {
                Some(task) => println!(
                    "{}..{}: {} “{}” ({})",
                    found.from,
                    found.to,
                    money(task.reward_cents),
                    task.title,
                    task.id
                ),
                None => println!("{}..{}: nothing completed", found.from, found.to),
            }
        }
    }
    Ok(())
}

pub async fn rebuild(client: &Client, json: bool, context: RebuildArg) -> anyhow::Result<()> {
    let context = match context {
        RebuildArg::Accounting => RebuildContext::Accounting,
        RebuildArg::Analytics => RebuildContext::Analytics,
    };
    let status = client.rebuild(context).await?;
    if json {
        return print_json(&status);
    }
    println!(
        "Rebuilding {} ({:?}); `ates events` shows its progress.",
        status.context, status.state
    );
    Ok(())
}
