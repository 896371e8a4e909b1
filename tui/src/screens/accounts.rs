//! Every worker's balance, and the audit log of the one picked with Enter; `c` closes the
//! day, `x` exports the last 30 days' ledger to a CSV file.

use super::account::entries;
use super::list::List;
use super::{Cx, Look, Screen, expect};
use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::event::{Data, Fetch, Reply};
use crate::app::keymap::Action;
use crate::app::remote::Remote;
use crate::app::selection::Moved;
use crate::app::tabs::Tab;
use crate::ui::widgets::{block, clip, list, money, money_style, remote_state};
use ates_shared::api::{Account, Entry, UserRef};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Cell, Paragraph};

/// Days the `x` export covers, today included.
const EXPORT_DAYS: i64 = 30;

#[derive(Debug, Default)]
pub struct Accounts {
    pub list: List<Account>,
    /// Whose audit log is shown on the right.
    pub log_user: Option<UserRef>,
    pub log: Remote<Vec<Entry>>,
}

impl Accounts {
    fn show_log(&mut self, cx: &mut Cx) -> Vec<Command> {
        match self.list.for_action() {
            Err(Moved) => {
                cx.error(Moved::MESSAGE);
                Vec::new()
            }
            Ok(Some(account)) => {
                let user = account.user.clone();
                let id = user.id;
                self.log_user = Some(user);
                self.log.data = None;
                cx.fetch(&mut self.log, Fetch::Log(id))
                    .into_iter()
                    .collect()
            }
            Ok(None) => Vec::new(),
        }
    }
}

impl Screen for Accounts {
    fn contexts(&self) -> &'static [&'static str] {
        &["accounting"]
    }

    fn has_list(&self) -> bool {
        true
    }

    fn refresh(&mut self, cx: &mut Cx) -> Vec<Command> {
        let mut commands: Vec<Command> = cx
            .fetch(&mut self.list.remote, Fetch::Accounts)
            .into_iter()
            .collect();
        if let Some(user) = &self.log_user {
            commands.extend(cx.fetch(&mut self.log, Fetch::Log(user.id)));
        }
        commands
    }

    fn loading(&self) -> bool {
        self.list.remote.loading
    }

    fn fetched(
        &mut self,
        fetch: Fetch,
        generation: u64,
        result: Result<Data, ApiError>,
        cx: &mut Cx,
    ) -> Vec<Command> {
        match fetch {
            Fetch::Log(user) => {
                // A reply about a user no longer shown only ends the fetch.
                if self.log_user.as_ref().map(|u| u.id) == Some(user) {
                    let result = expect(result, |data| match data {
                        Data::Log(log) => Ok(log),
                        other => Err(other),
                    });
                    self.log.accept(generation, result);
                } else {
                    self.log.finish(generation);
                }
                match &self.log_user {
                    Some(user) => {
                        let now = Fetch::Log(user.id);
                        cx.again(&mut self.log, now)
                    }
                    None => Vec::new(),
                }
            }
            _ => {
                let result = expect(result, |data| match data {
                    Data::Accounts(accounts) => Ok(accounts),
                    other => Err(other),
                });
                self.list.accept(generation, result);
                cx.again(&mut self.list.remote, fetch)
            }
        }
    }

    fn action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        if self.list.navigate(action) {
            return Vec::new();
        }
        match action {
            Action::ShowLog => self.show_log(cx),
            Action::CloseDay => {
                cx.ask_close_day(Tab::Accounts);
                Vec::new()
            }
            Action::Export => {
                let to = cx.today;
                let from = to - chrono::Duration::days(EXPORT_DAYS - 1);
                cx.info(format!("Exporting the ledger of {from}..{to}…"));
                vec![Command::ExportLedger { from, to }]
            }
            _ => Vec::new(),
        }
    }

    fn replied(&mut self, reply: Reply, cx: &mut Cx) -> Vec<Command> {
        if let Reply::Exported(result) = reply {
            match result {
                Ok((path, rows)) => cx.info(format!(
                    "Exported {rows} ledger row(s) to {}",
                    path.display()
                )),
                Err(why) => cx.error(format!("Export failed: {why}")),
            }
        }
        Vec::new()
    }

    fn draw(&self, frame: &mut Frame, area: Rect, look: Look) {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)])
                .areas(area);
        let negative = self
            .list
            .items()
            .iter()
            .filter(|a| a.balance_cents < 0)
            .count();
        let title = format!("Accounts: {negative} negative (!)");
        if let Some(inner) = remote_state(
            frame,
            left,
            block(&title, &self.list.remote),
            &self.list.remote,
            Vec::is_empty,
            "No accounts yet.",
        ) {
            list(
                frame,
                inner,
                &["User", "Balance"],
                &[Constraint::Fill(1), Constraint::Length(12)],
                self.list.len(),
                Some(self.list.selected.index),
                |i| {
                    let Some(account) = self.list.row(i) else {
                        return Vec::new();
                    };
                    vec![
                        Cell::from(clip(&account.user.username, 30)),
                        Cell::from(Span::styled(
                            money(account.balance_cents),
                            money_style(account.balance_cents),
                        )),
                    ]
                },
            );
        }
        match &self.log_user {
            None => {
                let block = Block::bordered().title(" Audit log ");
                let inner = block.inner(right);
                frame.render_widget(block, right);
                frame.render_widget(
                    Paragraph::new(
                        " Enter: show the selected account's audit log.\n c: close the day.",
                    ),
                    inner,
                );
            }
            Some(user) => {
                let title = format!("Audit log: {}", user.username);
                if let Some(inner) = remote_state(
                    frame,
                    right,
                    block(&title, &self.log),
                    &self.log,
                    Vec::is_empty,
                    "No entries yet.",
                ) {
                    entries(
                        frame,
                        inner,
                        self.log.data.as_deref().unwrap_or_default(),
                        None,
                        look.timezone,
                    );
                }
            }
        }
    }
}
