//! `ates accounts`, `ates log`, `ates earnings`: the books, for accountants and scripts.

use super::print_json;
use crate::api::Client;
use crate::ui::widgets::money;
use anyhow::Context as _;
use ates_shared::api::Entry;
use chrono::NaiveDate;
use uuid::Uuid;

pub async fn accounts(client: &Client, json: bool) -> anyhow::Result<()> {
    let accounts = client.accounts().await?;
    if json {
        return print_json(&accounts);
    }
    println!("{:<36}  {:<16}  {:>14}", "USER ID", "USERNAME", "BALANCE");
    for account in &accounts {
        println!(
            "{:<36}  {:<16}  {:>14}",
            account.user.id,
            account.user.username,
            money(account.balance_cents)
        );
    }
    Ok(())
}

/// `user` is a username or an id; without it, the caller's own log.
pub async fn log(
    client: &Client,
    json: bool,
    user: Option<&str>,
    date: Option<NaiveDate>,
) -> anyhow::Result<()> {
    let id = match user {
        None => client.me().await?.id,
        Some(text) => account_id(client, text).await?,
    };
    let mut entries = client.audit_log(id).await?;
    if let Some(date) = date {
        entries.retain(|e| e.date == date);
    }
    if json {
        return print_json(&entries);
    }
    print_entries(&entries);
    Ok(())
}

/// The user id of an account named by id or by username.
pub async fn account_id(client: &Client, text: &str) -> anyhow::Result<Uuid> {
    if let Ok(id) = Uuid::parse_str(text) {
        return Ok(id);
    }
    client
        .accounts()
        .await?
        .into_iter()
        .find(|a| a.user.username == text)
        .map(|a| a.user.id)
        .with_context(|| format!("no account for the username `{text}`"))
}

pub fn print_entries(entries: &[Entry]) {
    for entry in entries {
        let task = entry
            .task
            .as_ref()
            .map(|t| t.title.as_str())
            .unwrap_or("(payout)");
        println!(
            "{}  {}  {:<6}  {:>12}  {task}",
            entry.date,
            entry.at.format("%H:%M"),
            entry.kind.as_str(),
            money(entry.amount_cents)
        );
    }
}

pub async fn earnings(
    client: &Client,
    json: bool,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> anyhow::Result<()> {
    let range = match (from, to) {
        (Some(from), Some(to)) => Some((from, to)),
        (None, None) => None,
        _ => anyhow::bail!("give both --from and --to, or neither (the last 30 days)"),
    };
    let earnings = client.earnings(range).await?;
    if json {
        return print_json(&earnings);
    }
    for day in &earnings.days {
        println!("{}  {:>14}", day.date, money(day.earnings_cents));
    }
    Ok(())
}
