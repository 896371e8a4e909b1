//! A task in full, over My tasks or the Board (`Enter`): title, Jira id, status, assignee,
//! when it was created and completed, its description, and for accountants and admins its
//! history in money: every assignment's fee (whom it charged) and the reward.

use super::list::List;
use super::{Cx, Look, unexpected};
use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::event::{Data, Fetch};
use crate::app::remote::Remote;
use crate::app::selection::Moved;
use crate::app::tabs::Tab;
use crate::ui::widgets::{centered, money, when};
use ates_shared::Role;
use ates_shared::api::{LedgerRow, Task, TaskStatus};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

#[derive(Debug, Clone)]
pub struct TaskDetail {
    pub task: Task,
    /// Its ledger rows, for money roles; `None` for the others.
    pub ledger: Option<Remote<Vec<LedgerRow>>>,
    pub scroll: u16,
}

impl TaskDetail {
    /// Opens `task`, asking for its ledger rows when the caller may see money.
    pub fn open(task: Task, owner: Tab, cx: &mut Cx) -> (TaskDetail, Vec<Command>) {
        let money = matches!(cx.role, Some(Role::Accountant | Role::Admin));
        let mut detail = TaskDetail {
            task,
            ledger: money.then(Remote::default),
            scroll: 0,
        };
        let commands = match &mut detail.ledger {
            Some(remote) => cx
                .fetch(remote, Fetch::TaskLedger(owner, detail.task.id))
                .into_iter()
                .collect(),
            None => Vec::new(),
        };
        (detail, commands)
    }

    /// Opens the task selected in `list` (the one drawn as selected; refused once when it
    /// left the list by itself).
    pub fn open_selected(
        list: &mut List<Task>,
        owner: Tab,
        cx: &mut Cx,
    ) -> (Option<TaskDetail>, Vec<Command>) {
        match list.for_action() {
            Err(Moved) => {
                cx.error(Moved::MESSAGE);
                (None, Vec::new())
            }
            Ok(Some(task)) => {
                let (detail, commands) = TaskDetail::open(task.clone(), owner, cx);
                (Some(detail), commands)
            }
            Ok(None) => (None, Vec::new()),
        }
    }

    pub fn fetched(&mut self, generation: u64, result: Result<Data, ApiError>) {
        if let Some(remote) = &mut self.ledger {
            remote.accept(
                generation,
                result.and_then(|data| match data {
                    Data::TaskLedger(rows) => Ok(rows),
                    other => Err(unexpected(&other)),
                }),
            );
        }
    }

    /// Keys while open; false when it closes.
    pub fn key(&mut self, key: KeyEvent) -> bool {
        match key.code {
            KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => return false,
            KeyCode::Char('j') | KeyCode::Down => self.scroll = self.scroll.saturating_add(1),
            KeyCode::Char('k') | KeyCode::Up => self.scroll = self.scroll.saturating_sub(1),
            _ => {}
        }
        true
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, look: Look) {
        let task = &self.task;
        let mut lines = vec![
            Line::from(format!("Title:     {}", task.title)),
            Line::from(format!(
                "Jira id:   {}",
                task.jira_id.as_deref().unwrap_or("-")
            )),
            Line::from(format!(
                "Status:    {}",
                if task.status == TaskStatus::Done {
                    "done"
                } else {
                    "open"
                }
            )),
            Line::from(format!("Assignee:  {}", task.assignee.username)),
            Line::from(format!(
                "Created:   {}",
                when(task.created_at, look.timezone)
            )),
            Line::from(format!(
                "Completed: {}",
                task.completed_at
                    .map(|at| when(at, look.timezone))
                    .unwrap_or_else(|| "-".into())
            )),
            Line::from(""),
            Line::from("Description:"),
        ];
        if task.description.is_empty() {
            lines.push(Line::from("  (none)"));
        }
        lines.extend(
            task.description
                .lines()
                .map(|l| Line::from(format!("  {l}"))),
        );
        lines.push(Line::from(""));
        match &self.ledger {
            None => lines.push(Line::from(
                "Assignments and their fees: accountants and admins see them here.",
            )),
            Some(remote) => {
                lines.push(Line::from("Assignments and money (oldest first):"));
                match (&remote.data, &remote.error) {
                    (_, Some(err)) => lines.push(Line::from(format!("  ! {}", err.describe()))),
                    (None, None) => lines.push(Line::from("  loading…")),
                    (Some(rows), None) if rows.is_empty() => {
                        lines.push(Line::from("  none yet (accounting has not billed it)"))
                    }
                    (Some(rows), None) => lines.extend(rows.iter().map(|r| {
                        Line::from(format!(
                            "  {}  {:<6} {:>11}  {}",
                            when(r.at, look.timezone),
                            r.kind.as_str(),
                            money(r.amount_cents),
                            r.user.username
                        ))
                    })),
                }
            }
        }
        let width = area.width.saturating_sub(4).min(100);
        let height = area.height.saturating_sub(2);
        let rect = centered(area, width, height);
        frame.render_widget(Clear, rect);
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .scroll((self.scroll, 0))
                .block(
                    Block::bordered()
                        .title(" Task ")
                        .title_bottom(" j/k scroll · Esc close "),
                ),
            rect,
        );
    }
}
