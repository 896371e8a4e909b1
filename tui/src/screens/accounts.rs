//! Every worker's balance, and the audit log of the one picked with Enter (all history,
//! scrolling, a day at a time with `h`/`l`, the balance after each entry; `Esc` goes back
//! to the accounts); `c` closes the day, `x` exports the last 30 days' ledger to a CSV file.

use super::audit_log::AuditLog;
use super::list::List;
use super::{Cx, Look, Screen, expect};
use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::event::{Data, Fetch, Reply};
use crate::app::keymap::Action;
use crate::app::selection::Moved;
use crate::app::tabs::Tab;
use crate::ui::widgets::{block, clip, list, money, money_style, remote_state};
use ates_shared::api::Account;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Cell, Paragraph};

/// Days the `x` export covers, today included.
const EXPORT_DAYS: i64 = 30;

#[derive(Debug)]
pub struct Accounts {
    pub list: List<Account>,
    /// The audit log on the right, of the account picked with Enter.
    pub log: AuditLog,
    /// Keys move in the log (after Enter) rather than in the accounts.
    pub in_log: bool,
}

impl Default for Accounts {
    fn default() -> Self {
        Accounts {
            list: List::default(),
            log: AuditLog::new(Tab::Accounts),
            in_log: false,
        }
    }
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
                self.in_log = true;
                self.log.show(user, cx)
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
        commands.extend(self.log.fetch(cx));
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
            Fetch::Log(query) => self.log.fetched(&query, generation, result, cx),
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
        if self.in_log {
            if action == Action::Back && self.log.day.is_none() {
                self.in_log = false;
                return Vec::new();
            }
            if let Some(commands) = self.log.action(action, cx) {
                return commands;
            }
        } else if self.list.navigate(action) {
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
        if self.log.user.is_none() {
            let block = Block::bordered().title(" Audit log ");
            let inner = block.inner(right);
            frame.render_widget(block, right);
            frame.render_widget(
                Paragraph::new(
                    " Enter: show the selected account's audit log.\n c: close the day.",
                ),
                inner,
            );
            return;
        }
        let balance = self
            .list
            .items()
            .iter()
            .find(|a| Some(a.user.id) == self.log.user.as_ref().map(|u| u.id))
            .map(|a| a.balance_cents);
        self.log.draw(frame, right, look, balance);
    }
}
