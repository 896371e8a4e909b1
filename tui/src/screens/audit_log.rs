//! An audit log as the Account and Accounts screens show it: every entry of a worker,
//! newest first, paged from the server as the selection nears the end (all history, not
//! one page), optionally one billing day only, with the balance after each entry.

use super::list::{Keyed, List};
use super::{Cx, Look, unexpected};
use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::event::{Data, Fetch, LogQuery};
use crate::app::keymap::Action;
use crate::app::tabs::Tab;
use crate::ui::widgets::{block, clip, list, money, money_style, remote_state, when};
use ates_shared::api::{Entry, UserRef};
use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::Cell;

/// Entries asked for at a time.
pub const LOG_PAGE: usize = 200;

impl Keyed for Entry {
    fn key(&self) -> uuid::Uuid {
        self.id
    }
}

#[derive(Debug)]
pub struct AuditLog {
    /// The screen showing it (replies are routed by it).
    owner: Tab,
    /// Whose log; `None` until one is picked.
    pub user: Option<UserRef>,
    pub list: List<Entry>,
    /// Only this billing day, or every day.
    pub day: Option<NaiveDate>,
    /// Entries wanted; a page more as the selection nears the end.
    pub rows: usize,
    /// The server has older entries than loaded.
    pub more: bool,
}

impl AuditLog {
    pub fn new(owner: Tab) -> AuditLog {
        AuditLog {
            owner,
            user: None,
            list: List::default(),
            day: None,
            rows: LOG_PAGE,
            more: false,
        }
    }

    /// Shows `user`'s log from the newest entry, every day.
    pub fn show(&mut self, user: UserRef, cx: &mut Cx) -> Vec<Command> {
        let other = self.user.as_ref().map(|u| u.id) != Some(user.id);
        self.user = Some(user);
        if other {
            self.list = List::default();
            self.day = None;
            self.rows = LOG_PAGE;
        }
        self.fetch(cx)
    }

    pub fn query(&self) -> Option<LogQuery> {
        Some(LogQuery {
            owner: self.owner,
            user: self.user.as_ref()?.id,
            day: self.day,
            rows: self.rows,
        })
    }

    pub fn fetch(&mut self, cx: &mut Cx) -> Vec<Command> {
        match self.query() {
            Some(query) => cx
                .fetch(&mut self.list.remote, Fetch::Log(query))
                .into_iter()
                .collect(),
            None => Vec::new(),
        }
    }

    pub fn fetched(
        &mut self,
        query: &LogQuery,
        generation: u64,
        result: Result<Data, ApiError>,
        cx: &mut Cx,
    ) -> Vec<Command> {
        if self.user.as_ref().map(|u| u.id) == Some(query.user) {
            let result = result.and_then(|data| match data {
                Data::Log { entries, more } => Ok((entries, more)),
                other => Err(unexpected(&other)),
            });
            let more = result.as_ref().map(|(_, more)| *more).ok();
            if self
                .list
                .accept(generation, result.map(|(entries, _)| entries))
                && let Some(more) = more
            {
                self.more = more;
            }
        } else {
            // About a user no longer shown: only the fetch ends.
            self.list.remote.finish(generation);
        }
        // Asked again as the log stands now, if anything changed meanwhile.
        match self.query() {
            Some(now) => cx.again(&mut self.list.remote, Fetch::Log(now)),
            None => Vec::new(),
        }
    }

    /// Movement in the log (loading older entries near the end) and the day filter:
    /// `h`/`l` the day before / after the one shown (the first press picks the newest
    /// entry's day), `Esc` every day again. `None`: not an action of the log.
    pub fn action(&mut self, action: Action, cx: &mut Cx) -> Option<Vec<Command>> {
        if self.list.navigate(action) {
            let near_end = self.list.selected.index + LOG_PAGE / 4 >= self.list.len();
            if self.more && near_end && !self.list.remote.loading {
                self.rows += LOG_PAGE;
                return Some(self.fetch(cx));
            }
            return Some(Vec::new());
        }
        let newest = self
            .list
            .items()
            .first()
            .map(|e| e.date)
            .unwrap_or(cx.today);
        self.day = match (action, self.day) {
            (Action::PrevDay | Action::NextDay, None) => Some(newest),
            (Action::PrevDay, Some(day)) => day.pred_opt().or(Some(day)),
            (Action::NextDay, Some(day)) => {
                Some(day.succ_opt().filter(|d| *d <= cx.today).unwrap_or(day))
            }
            (Action::Back, Some(_)) => None,
            _ => return None,
        };
        self.rows = LOG_PAGE;
        self.list.selected.reset();
        Some(self.fetch(cx))
    }

    /// The log in `area`; `balance` (the account's balance now) gives each entry's running
    /// balance when every day is shown.
    pub fn draw(&self, frame: &mut Frame, area: Rect, look: Look, balance: Option<i64>) {
        let who = self.user.as_ref().map_or("", |u| u.username.as_str());
        let title = match self.day {
            Some(day) => format!("Audit log: {who}, {day} only (Esc: every day)"),
            None if self.more => format!("Audit log: {who} (older entries load as you scroll)"),
            None => format!("Audit log: {who}"),
        };
        let empty = if self.day.is_some() {
            "Nothing on this day."
        } else {
            "No entries yet."
        };
        let Some(inner) = remote_state(
            frame,
            area,
            block(&title, &self.list.remote),
            &self.list.remote,
            Vec::is_empty,
            empty,
        ) else {
            return;
        };
        let entries = self.list.items();
        // Balance after each entry: today's balance less everything newer.
        let running: Option<Vec<i64>> = balance.filter(|_| self.day.is_none()).map(|now| {
            let mut after = now;
            entries
                .iter()
                .map(|e| {
                    let this = after;
                    after -= e.amount_cents;
                    this
                })
                .collect()
        });
        let wide = inner.width >= 100;
        let mut header = vec!["When", "Day", "Kind", "Amount"];
        let mut widths = vec![
            Constraint::Length(11),
            Constraint::Length(if wide { 10 } else { 5 }),
            Constraint::Length(6),
            Constraint::Length(11),
        ];
        if running.is_some() {
            header.push("Balance");
            widths.push(Constraint::Length(11));
        }
        header.push("Task");
        widths.push(Constraint::Fill(1));
        list(
            frame,
            inner,
            &header,
            &widths,
            self.list.len(),
            Some(self.list.selected.index),
            |i| {
                let Some(entry) = self.list.row(i) else {
                    return Vec::new();
                };
                let task = entry
                    .task
                    .as_ref()
                    .map(|t| match &t.jira_id {
                        Some(jira) => format!("[{jira}] {}", t.title),
                        None => t.title.clone(),
                    })
                    .unwrap_or_else(|| "(payout)".to_owned());
                let day = if wide {
                    entry.date.to_string()
                } else {
                    entry.date.format("%m-%d").to_string()
                };
                let mut cells = vec![
                    Cell::from(when(entry.at, look.timezone)),
                    Cell::from(day),
                    Cell::from(entry.kind.as_str()),
                    Cell::from(Span::styled(
                        money(entry.amount_cents),
                        money_style(entry.amount_cents),
                    )),
                ];
                if let Some(running) = &running {
                    let after = running[i];
                    cells.push(Cell::from(Span::styled(money(after), money_style(after))));
                }
                cells.push(Cell::from(clip(&task, 200)));
                cells
            },
        );
    }
}
