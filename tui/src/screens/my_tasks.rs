//! My tasks: open ones first; `c` completes the selected one, after a confirmation that
//! names it (completing pays a reward and cannot be undone).

use super::list::List;
use super::task_detail::TaskDetail;
use super::{Cx, Look, Screen, expect};
use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::event::{Data, Fetch, Reply};
use crate::app::keymap::Action;
use crate::app::selection::Moved;
use crate::app::state::Pending;
use crate::app::tabs::Tab;
use crate::ui::widgets::{block, clip, list, remote_state, when};
use ates_shared::api::{Task, TaskStatus};
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::Cell;
use uuid::Uuid;

#[derive(Debug, Default)]
pub struct MyTasks {
    pub list: List<Task>,
    /// The task being completed, until the server answers.
    pub completing: Option<Uuid>,
    /// The task shown in full (`Enter`).
    pub detail: Option<TaskDetail>,
}

impl MyTasks {
    /// My tasks in the order shown: open ones first, newest first within each.
    pub fn order(tasks: &mut [Task]) {
        tasks.sort_by_key(|t| t.status != TaskStatus::Open);
    }

    fn complete(&mut self, cx: &mut Cx) -> Vec<Command> {
        let task = match self.list.for_action() {
            Err(Moved) => {
                cx.error(Moved::MESSAGE);
                return Vec::new();
            }
            Ok(Some(task)) => task,
            Ok(None) => return Vec::new(),
        };
        let (id, title, status) = (task.id, task.title.clone(), task.status);
        if self.completing.is_some() {
            cx.info("Still completing the previous task…");
            return Vec::new();
        }
        if status == TaskStatus::Done {
            cx.error(format!("“{title}” is already done"));
            return Vec::new();
        }
        cx.confirm(
            Tab::MyTasks,
            "Complete",
            format!("Complete “{title}”? Its reward is paid and this cannot be undone."),
            Pending::Complete { id, title },
        );
        Vec::new()
    }
}

impl Screen for MyTasks {
    fn contexts(&self) -> &'static [&'static str] {
        &["tracker"]
    }

    fn has_list(&self) -> bool {
        true
    }

    fn refresh(&mut self, cx: &mut Cx) -> Vec<Command> {
        cx.fetch(&mut self.list.remote, Fetch::MyTasks)
            .into_iter()
            .collect()
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
        if let Fetch::TaskLedger(..) = fetch {
            if let Some(detail) = &mut self.detail {
                detail.fetched(generation, result);
            }
            return Vec::new();
        }
        let result = expect(result, |data| match data {
            Data::Tasks(mut tasks) => {
                MyTasks::order(&mut tasks);
                Ok(tasks)
            }
            other => Err(other),
        });
        self.list.accept(generation, result);
        cx.again(&mut self.list.remote, fetch)
    }

    fn action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        if self.list.navigate(action) {
            return Vec::new();
        }
        match action {
            Action::Complete => self.complete(cx),
            Action::Open => {
                let (detail, commands) =
                    TaskDetail::open_selected(&mut self.list, Tab::MyTasks, cx);
                self.detail = detail.or(self.detail.take());
                commands
            }
            _ => Vec::new(),
        }
    }

    fn typing(&self) -> bool {
        self.detail.is_some()
    }

    fn typed(&mut self, key: KeyEvent, _cx: &mut Cx) -> Vec<Command> {
        if let Some(detail) = &mut self.detail
            && !detail.key(key)
        {
            self.detail = None;
        }
        Vec::new()
    }

    fn left(&mut self) {
        self.detail = None;
    }

    fn overlay(&self, frame: &mut Frame, area: Rect, look: Look) {
        if let Some(detail) = &self.detail {
            detail.draw(frame, area, look);
        }
    }

    fn confirmed(&mut self, action: Pending, cx: &mut Cx) -> Vec<Command> {
        match action {
            Pending::Complete { id, title } => {
                self.completing = Some(id);
                cx.info(format!("Completing “{title}”…"));
                vec![Command::CompleteTask(id)]
            }
            _ => Vec::new(),
        }
    }

    fn replied(&mut self, reply: Reply, cx: &mut Cx) -> Vec<Command> {
        if let Reply::Completed { id, result } = reply {
            self.completing = None;
            match result {
                Ok(task) => {
                    cx.info(format!("Done: “{}”", task.title));
                    self.list.replace(task);
                }
                Err(err) => {
                    let title = self
                        .list
                        .items()
                        .iter()
                        .find(|t| t.id == id)
                        .map(|t| t.title.clone())
                        .unwrap_or_default();
                    cx.error(format!("Could not complete “{title}”: {}", err.describe()));
                }
            }
        }
        Vec::new()
    }

    fn draw(&self, frame: &mut Frame, area: Rect, look: Look) {
        let open = self
            .list
            .items()
            .iter()
            .filter(|t| t.status == TaskStatus::Open)
            .count();
        let title = format!("My tasks: {open} open");
        let Some(inner) = remote_state(
            frame,
            area,
            block(&title, &self.list.remote),
            &self.list.remote,
            Vec::is_empty,
            "No tasks assigned to you yet.",
        ) else {
            return;
        };
        let wide = inner.width >= 120;
        list(
            frame,
            inner,
            &[
                "Status",
                "Jira",
                "Title",
                if wide {
                    "Created      Completed"
                } else {
                    "Created"
                },
            ],
            &[
                Constraint::Length(6),
                Constraint::Length(12),
                Constraint::Fill(1),
                Constraint::Length(if wide { 24 } else { 11 }),
            ],
            self.list.len(),
            Some(self.list.selected.index),
            |i| {
                let Some(task) = self.list.row(i) else {
                    return Vec::new();
                };
                let status = if self.completing == Some(task.id) {
                    "[..]"
                } else if task.status == TaskStatus::Done {
                    "[x]"
                } else {
                    "[ ]"
                };
                let dates = if wide {
                    format!(
                        "{}  {}",
                        when(task.created_at, look.timezone),
                        task.completed_at
                            .map(|at| when(at, look.timezone))
                            .unwrap_or_default()
                    )
                } else {
                    when(task.created_at, look.timezone)
                };
                vec![
                    Cell::from(status),
                    Cell::from(clip(task.jira_id.as_deref().unwrap_or(""), 12)),
                    Cell::from(task.title.clone()),
                    Cell::from(dates),
                ]
            },
        );
    }
}
