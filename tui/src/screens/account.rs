//! My account: balance, what I earned today, and my whole audit log (scrolling, a day at a
//! time with `h`/`l`, the balance after each entry).

use super::audit_log::AuditLog;
use super::{Cx, Look, Screen, expect};
use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::event::{Data, Fetch};
use crate::app::keymap::Action;
use crate::app::remote::Remote;
use crate::app::tabs::Tab;
use crate::ui::widgets::{block, clip, list, money, money_style, remote_state, when};
use ates_shared::api::{self, Entry};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph};

#[derive(Debug)]
pub struct MyAccount {
    pub remote: Remote<api::MyAccount>,
    /// My whole audit log, below the balance.
    pub log: AuditLog,
}

impl Default for MyAccount {
    fn default() -> Self {
        MyAccount {
            remote: Remote::default(),
            log: AuditLog::new(Tab::MyAccount),
        }
    }
}

impl Screen for MyAccount {
    fn contexts(&self) -> &'static [&'static str] {
        &["accounting"]
    }

    fn has_list(&self) -> bool {
        true
    }

    fn refresh(&mut self, cx: &mut Cx) -> Vec<Command> {
        let mut commands: Vec<Command> = cx
            .fetch(&mut self.remote, Fetch::MyAccount)
            .into_iter()
            .collect();
        match cx.me.clone() {
            Some(me) if self.log.user.is_none() => commands.extend(self.log.show(me, cx)),
            _ => commands.extend(self.log.fetch(cx)),
        }
        commands
    }

    fn loading(&self) -> bool {
        self.remote.loading
    }

    fn fetched(
        &mut self,
        fetch: Fetch,
        generation: u64,
        result: Result<Data, ApiError>,
        cx: &mut Cx,
    ) -> Vec<Command> {
        if let Fetch::Log(query) = &fetch {
            return self.log.fetched(query, generation, result, cx);
        }
        let result = expect(result, |data| match data {
            Data::MyAccount(value) => Ok(value),
            other => Err(other),
        });
        self.remote.accept(generation, result);
        cx.again(&mut self.remote, fetch)
    }

    fn action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        self.log.action(action, cx).unwrap_or_default()
    }

    fn draw(&self, frame: &mut Frame, area: Rect, look: Look) {
        let Some(inner) = remote_state(
            frame,
            area,
            block("My account", &self.remote),
            &self.remote,
            |_| false,
            "",
        ) else {
            return;
        };
        let Some(account) = &self.remote.data else {
            return;
        };
        let [summary, log] =
            Layout::vertical([Constraint::Length(3), Constraint::Min(0)]).areas(inner);
        frame.render_widget(
            Paragraph::new(vec![
                Line::from(vec![
                    Span::raw(" Balance:      "),
                    Span::styled(
                        money(account.balance_cents),
                        money_style(account.balance_cents),
                    ),
                ]),
                Line::from(vec![
                    Span::raw(" Earned today: "),
                    Span::styled(
                        money(account.earned_today_cents),
                        money_style(account.earned_today_cents),
                    ),
                ]),
                Line::from(" j/k scroll · h/l a day at a time · Esc every day"),
            ]),
            summary,
        );
        if self.log.user.is_none() {
            // Not fetched yet (a fixed state in tests): today's entries as the server sent them.
            if account.log.is_empty() {
                frame.render_widget(Paragraph::new(" Nothing happened today yet."), log);
            } else {
                entries(frame, log, &account.log, None, look.timezone);
            }
            return;
        }
        self.log.draw(frame, log, look, Some(account.balance_cents));
    }
}

/// An audit log as a table (shared with the Accounts screen).
pub fn entries(
    frame: &mut Frame,
    area: Rect,
    log: &[Entry],
    selected: Option<usize>,
    zone: chrono_tz::Tz,
) {
    let wide = area.width >= 100;
    list(
        frame,
        area,
        &["When", "Day", "Kind", "Amount", "Task"],
        &[
            Constraint::Length(11),
            Constraint::Length(if wide { 10 } else { 5 }),
            Constraint::Length(6),
            Constraint::Length(11),
            Constraint::Fill(1),
        ],
        log.len(),
        selected,
        |i| {
            let entry = &log[i];
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
            vec![
                Cell::from(when(entry.at, zone)),
                Cell::from(day),
                Cell::from(entry.kind.as_str()),
                Cell::from(Span::styled(
                    money(entry.amount_cents),
                    money_style(entry.amount_cents),
                )),
                Cell::from(clip(&task, 200)),
            ]
        },
    );
}
