//! `ates export ledger`: every ledger row of a range of billing days, streamed page by
//! page from the server into CSV (a header, amounts in dollars and cents, one row per
//! entry: a file a spreadsheet opens as is) or a JSON array.

use crate::api::Client;
use anyhow::Context as _;
use ates_shared::api::LedgerRow;
use chrono::NaiveDate;
use clap::{Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use uuid::Uuid;

#[derive(Debug, Subcommand)]
pub enum ExportCmd {
    /// Ledger rows of `--from`..`--to` (billing days, at most 366), oldest first.
    Ledger {
        #[arg(long)]
        from: NaiveDate,
        #[arg(long)]
        to: NaiveDate,
        /// Only this user (a username or an id).
        #[arg(long)]
        user: Option<String>,
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

pub async fn run(client: &Client, command: ExportCmd) -> anyhow::Result<()> {
    let ExportCmd::Ledger {
        from,
        to,
        user,
        format,
        output,
    } = command;
    let user = match user {
        None => None,
        Some(text) => Some(super::money::account_id(client, &text).await?),
    };
    ledger_to(client, from, to, user, format, output.as_deref()).await?;
    Ok(())
}

/// Streams the rows into `output` (standard output when `None`); returns how many.
pub async fn ledger_to(
    client: &Client,
    from: NaiveDate,
    to: NaiveDate,
    user: Option<Uuid>,
    format: Format,
    output: Option<&std::path::Path>,
) -> anyhow::Result<usize> {
    let sink: Box<dyn Write + Send> = match output {
        Some(path) => Box::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout()),
    };
    let mut writer = Writer::new(format, std::io::BufWriter::new(sink))?;
    let mut cursor: Option<String> = None;
    let mut rows = 0;
    loop {
        let page = client
            .ledger_page(from, to, user, cursor.as_deref())
            .await?;
        for row in &page.items {
            writer.row(row)?;
        }
        rows += page.items.len();
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    writer.finish()?;
    Ok(rows)
}

/// Writes rows as they come, so the export never holds the whole ledger.
enum Writer<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Json { out: W, first: bool },
}

impl<W: Write> Writer<W> {
    fn new(format: Format, out: W) -> anyhow::Result<Writer<W>> {
        Ok(match format {
            Format::Csv => {
                let mut csv = csv::Writer::from_writer(out);
                csv.write_record([
                    "date",
                    "time_utc",
                    "username",
                    "user_id",
                    "kind",
                    "amount",
                    "task_title",
                    "jira_id",
                    "task_id",
                    "entry_id",
                ])?;
                Writer::Csv(Box::new(csv))
            }
            Format::Json => {
                let mut out = out;
                out.write_all(b"[")?;
                Writer::Json { out, first: true }
            }
        })
    }

    fn row(&mut self, row: &LedgerRow) -> anyhow::Result<()> {
        match self {
            Writer::Csv(csv) => {
                let task = row.task.as_ref();
                csv.write_record([
                    row.date.to_string(),
                    row.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    row.user.username.clone(),
                    row.user.id.to_string(),
                    row.kind.as_str().to_owned(),
                    dollars(row.amount_cents),
                    task.map(|t| t.title.clone()).unwrap_or_default(),
                    task.and_then(|t| t.jira_id.clone()).unwrap_or_default(),
                    task.map(|t| t.id.to_string()).unwrap_or_default(),
                    row.id.to_string(),
                ])?;
            }
            Writer::Json { out, first } => {
                if !std::mem::take(first) {
                    out.write_all(b",")?;
                }
                out.write_all(b"\n  ")?;
                serde_json::to_writer(&mut *out, row)?;
            }
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        match self {
            Writer::Csv(mut csv) => csv.flush()?,
            Writer::Json { mut out, .. } => {
                out.write_all(b"\n]\n")?;
                out.flush()?;
            }
        }
        Ok(())
    }
}

/// `-12.34`: dollars and cents, no currency sign, so a spreadsheet reads a number.
fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}{}.{:02}", cents / 100, cents % 100)
}

#[cfg(test)]
mod tests {
    #[test]
    fn amounts_are_dollars_and_cents() {
        assert_eq!(super::dollars(-1505), "-15.05");
        assert_eq!(super::dollars(7), "0.07");
        assert_eq!(super::dollars(-7), "-0.07");
        assert_eq!(super::dollars(250000), "2500.00");
    }
}
