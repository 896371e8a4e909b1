//! Payout e-mails through lettre: a file spool (one readable `.eml` per message) by default,
//! SMTP when configured. Mail goes out after the payout has committed; a failed send is
//! retried with backoff and never undoes the payout. The outcome is kept on the payment.

use super::store;
use crate::clock::SharedClock;
use crate::db::{Db, DbError};
use ates_shared::Cents;
use ates_shared::api::Entry;
use chrono::{Duration, NaiveDate};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rusqlite::params;
use std::path::PathBuf;
use uuid::Uuid;

/// Where payout e-mails go.
#[derive(Debug, Clone)]
pub enum MailConfig {
    /// Write `.eml` files into this directory.
    Spool(PathBuf),
    /// Send through SMTP: `smtp://host:25`, `smtp://user:pass@host:587?tls=required`, `smtps://host:465`.
    Smtp { url: String },
}

#[derive(Clone)]
enum Transport {
    Spool(AsyncFileTransport<Tokio1Executor>),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl Mailer {
    pub fn new(config: &MailConfig, from: &str) -> anyhow::Result<Mailer> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| anyhow::anyhow!("the mail sender address `{from}`: {e}"))?;
        let transport = match config {
            MailConfig::Spool(dir) => {
                std::fs::create_dir_all(dir)?;
                Transport::Spool(AsyncFileTransport::new(dir))
            }
            MailConfig::Smtp { url } => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("the SMTP URL: {e}"))?
                    .build(),
            ),
        };
        Ok(Mailer { transport, from })
    }

    async fn send(&self, message: Message) -> anyhow::Result<()> {
        match &self.transport {
            Transport::Spool(t) => {
                t.send(message).await?;
            }
            Transport::Smtp(t) => {
                t.send(message).await?;
            }
        }
        Ok(())
    }
}

/// A payment whose e-mail is due.
struct DueMail {
    payment_id: Uuid,
    user_id: Uuid,
    date: NaiveDate,
    amount_cents: i64,
    attempts: u32,
}

/// Sends every due payout e-mail once; returns how many were sent. Failures are recorded
/// and retried later with exponential backoff (one minute doubling up to six hours).
pub async fn send_due(db: &Db, mailer: &Mailer, clock: &SharedClock) -> Result<usize, DbError> {
    let now = clock.now();
    let due: Vec<DueMail> = db
        .read(move |conn| -> Result<Vec<DueMail>, DbError> {
            let mut stmt = conn.prepare_cached(
                "SELECT id, user_id, date, amount_cents, mail_attempts FROM payments
                 WHERE mail_status != 'sent' AND next_attempt_at <= ?1 ORDER BY id LIMIT 100",
            )?;
            let rows = stmt.query_map([now], |r| {
                Ok(DueMail {
                    payment_id: r.get(0)?,
                    user_id: r.get(1)?,
                    date: r.get(2)?,
                    amount_cents: r.get(3)?,
                    attempts: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await?;
    let mut sent = 0;
    for mail in due {
        let outcome = match compose(db, mailer, &mail).await {
            Ok(message) => mailer.send(message).await,
            Err(e) => Err(e),
        };
        let now = clock.now();
        let (id, attempts) = (mail.payment_id, mail.attempts + 1);
        match outcome {
            Ok(()) => {
                sent += 1;
                db.write(move |tx| -> Result<(), DbError> {
                    tx.execute(
                        "UPDATE payments SET mail_status = 'sent', mail_attempts = ?2, mail_error = NULL, mailed_at = ?3 WHERE id = ?1",
                        params![id, attempts, now],
                    )?;
                    Ok(())
                })
                .await?;
            }
            Err(e) => {
                tracing::warn!(payment = %id, attempts, error = %e, "payout e-mail failed; will retry");
                let retry_at = now + retry_delay(attempts);
                let message = format!("{e:#}");
                db.write(move |tx| -> Result<(), DbError> {
                    tx.execute(
                        "UPDATE payments SET mail_status = 'failed', mail_attempts = ?2, mail_error = ?3, next_attempt_at = ?4
                         WHERE id = ?1",
                        params![id, attempts, message, retry_at],
                    )?;
                    Ok(())
                })
                .await?;
            }
        }
    }
    Ok(sent)
}

fn retry_delay(attempts: u32) -> Duration {
    Duration::minutes(1i64 << attempts.min(9).saturating_sub(1)).min(Duration::hours(6))
}

/// The e-mail for one payout: the amount and the rows of the day it closes.
async fn compose(db: &Db, mailer: &Mailer, mail: &DueMail) -> anyhow::Result<Message> {
    let (user_id, date) = (mail.user_id, mail.date);
    let (contact, rows) = db
        .read(move |conn| -> Result<_, DbError> {
            Ok((
                store::user_contact(conn, user_id)?,
                store::entries(conn, user_id, Some(date), None, 1_000)?,
            ))
        })
        .await?;
    let (username, full_name, email) =
        contact.ok_or_else(|| anyhow::anyhow!("accounting knows no e-mail for user {user_id}"))?;
    // Built from its parts, never from a formatted string: a name such as `Popug, Ann` or one
    // with quotes is quoted by lettre instead of breaking the address.
    let address: lettre::Address = email
        .parse()
        .map_err(|e| anyhow::anyhow!("the e-mail address of {username} `{email}`: {e}"))?;
    let to = Mailbox::new(Some(full_name.clone()), address);
    Ok(Message::builder()
        .from(mailer.from.clone())
        .to(to)
        .subject(format!(
            "aTES payout for {date}: {}",
            Cents(mail.amount_cents)
        ))
        .header(ContentType::TEXT_PLAIN)
        .body(body(&full_name, date, mail.amount_cents, &rows))?)
}

fn body(full_name: &str, date: NaiveDate, amount_cents: i64, rows: &[Entry]) -> String {
    let mut text = format!(
        "Hello {full_name},\n\nthe day {date} is closed and {} has been paid out to you.\n\nThe day's entries:\n",
        Cents(amount_cents)
    );
    for row in rows.iter().rev() {
        let task = row
            .task
            .as_ref()
            .map(|t| match &t.jira_id {
                Some(jira) => format!("[{jira}] {}", t.title),
                None => t.title.clone(),
            })
            .unwrap_or_default();
        text.push_str(&format!(
            "  {}  {:<7} {:>10}  {task}\n",
            row.at.format("%H:%M:%S"),
            row.kind.as_str(),
            Cents(row.amount_cents).to_string()
        ));
    }
    text.push_str("\n-- aTES payroll\n");
    text
}
