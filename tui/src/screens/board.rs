//! The board of all tasks. The server filters and searches and sends the first rows; a
//! page more is asked for as the selection nears the end of what is loaded, and a refresh
//! asks for as many rows as are loaded, so 100k tasks never travel at once.

use super::list::List;
use super::task_detail::TaskDetail;
use super::{Cx, Look, Screen, unexpected};
use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::event::{BoardQuery, Data, Fetch};
use crate::app::keymap::Action;
use crate::app::tabs::Tab;
use crate::ui::widgets::{block, clip, list, remote_state, when};
use ates_shared::api::{Task, TaskStatus};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph};

/// Rows the board asks for at a time.
pub const BOARD_PAGE: usize = 200;

/// Characters a search may have.
const MAX_SEARCH: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    All,
    Open,
    Done,
}

impl StatusFilter {
    pub fn next(self) -> StatusFilter {
        match self {
            StatusFilter::All => StatusFilter::Open,
            StatusFilter::Open => StatusFilter::Done,
            StatusFilter::Done => StatusFilter::All,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StatusFilter::All => "all",
            StatusFilter::Open => "open",
            StatusFilter::Done => "done",
        }
    }

    fn admits(self, status: TaskStatus) -> bool {
        match self {
            StatusFilter::All => true,
            StatusFilter::Open => status == TaskStatus::Open,
            StatusFilter::Done => status == TaskStatus::Done,
        }
    }
}

/// The loaded rows are also filtered here, as typed, so the list narrows at once while the
/// server's answer is on its way.
#[derive(Debug, Clone)]
pub struct Board {
    pub list: List<Task>,
    /// The server has more rows than loaded.
    pub more: bool,
    pub rows: usize,
    pub filter: StatusFilter,
    pub search: String,
    pub searching: bool,
    /// The task shown in full (`Enter`).
    pub detail: Option<TaskDetail>,
}

impl Default for Board {
    fn default() -> Self {
        Board {
            list: List::default(),
            more: false,
            rows: BOARD_PAGE,
            filter: StatusFilter::All,
            search: String::new(),
            searching: false,
            detail: None,
        }
    }
}

impl Board {
    /// What to ask the server for now.
    pub fn query(&self) -> BoardQuery {
        BoardQuery {
            status: match self.filter {
                StatusFilter::All => None,
                StatusFilter::Open => Some(TaskStatus::Open),
                StatusFilter::Done => Some(TaskStatus::Done),
            },
            search: self.search.clone(),
            rows: self.rows,
        }
    }

    /// Whether the selection is close enough to the end of the loaded rows to load more.
    pub fn wants_more(&self) -> bool {
        self.more
            && !self.list.remote.loading
            && self.list.selected.index + BOARD_PAGE / 4 >= self.list.len()
    }

    /// Shows the loaded rows the filter and search keep.
    pub fn recompute(&mut self) {
        let needle = self.search.to_lowercase();
        let filter = self.filter;
        self.list.filter(|t| {
            filter.admits(t.status) && (needle.is_empty() || matches_search(t, &needle))
        });
    }

    /// A task changed elsewhere (completed on My tasks): shown changed, without a refetch.
    pub fn task_changed(&mut self, task: Task) {
        if self.list.replace(task) {
            self.recompute();
        }
    }

    /// The filters changed (or more rows are wanted): ask the server again. While a fetch
    /// is in flight this only owes one more, with the filters as they stand then.
    fn refetch(&mut self, cx: &mut Cx) -> Vec<Command> {
        let query = self.query();
        cx.fetch(&mut self.list.remote, Fetch::Board(query))
            .into_iter()
            .collect()
    }

    /// The search changed: back to the top and the first page.
    fn searched(&mut self, cx: &mut Cx) -> Vec<Command> {
        self.list.selected.reset();
        self.rows = BOARD_PAGE;
        self.recompute();
        self.refetch(cx)
    }
}

fn matches_search(task: &Task, needle: &str) -> bool {
    task.title.to_lowercase().contains(needle)
        || task
            .jira_id
            .as_deref()
            .is_some_and(|j| j.to_lowercase().contains(needle))
        || task.assignee.username.to_lowercase().contains(needle)
}

impl Screen for Board {
    fn contexts(&self) -> &'static [&'static str] {
        &["tracker"]
    }

    fn has_list(&self) -> bool {
        true
    }

    fn refresh(&mut self, cx: &mut Cx) -> Vec<Command> {
        self.refetch(cx)
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
        let result = result.and_then(|data| match data {
            Data::Board { tasks, more } => Ok((tasks, more)),
            other => Err(unexpected(&other)),
        });
        let more = result.as_ref().map(|(_, more)| *more).ok();
        if self
            .list
            .remote
            .accept(generation, result.map(|(tasks, _)| tasks))
        {
            if let Some(more) = more {
                self.more = more;
            }
            self.recompute();
        }
        // Asked again as the board stands now (its filters may have changed meanwhile).
        let now = Fetch::Board(self.query());
        cx.again(&mut self.list.remote, now)
    }

    fn action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        if self.list.navigate(action) {
            if self.wants_more() {
                self.rows += BOARD_PAGE;
                return self.refetch(cx);
            }
            return Vec::new();
        }
        match action {
            Action::Open => {
                let (detail, commands) = TaskDetail::open_selected(&mut self.list, Tab::Board, cx);
                self.detail = detail.or(self.detail.take());
                commands
            }
            Action::Search => {
                self.searching = true;
                Vec::new()
            }
            Action::Filter => {
                self.filter = self.filter.next();
                self.list.selected.reset();
                self.recompute();
                self.refetch(cx)
            }
            Action::ClearSearch if !self.search.is_empty() => {
                self.search.clear();
                self.recompute();
                self.refetch(cx)
            }
            _ => Vec::new(),
        }
    }

    fn typing(&self) -> bool {
        self.searching || self.detail.is_some()
    }

    fn typed(&mut self, key: KeyEvent, cx: &mut Cx) -> Vec<Command> {
        if let Some(detail) = &mut self.detail {
            if !detail.key(key) {
                self.detail = None;
            }
            return Vec::new();
        }
        match key.code {
            KeyCode::Enter | KeyCode::Down | KeyCode::Up => self.searching = false,
            KeyCode::Esc => {
                self.searching = false;
                self.search.clear();
            }
            KeyCode::Backspace => {
                self.search.pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                if self.search.len() < MAX_SEARCH {
                    self.search.push(c);
                }
            }
            _ => return Vec::new(),
        }
        self.searched(cx)
    }

    fn pasted(&mut self, text: &str, cx: &mut Cx) -> Vec<Command> {
        let line = text.replace(['\r', '\n'], " ");
        self.search.push_str(&line);
        self.search = self.search.chars().take(MAX_SEARCH).collect();
        self.searched(cx)
    }

    fn left(&mut self) {
        self.searching = false;
        self.detail = None;
    }

    fn overlay(&self, frame: &mut Frame, area: Rect, look: Look) {
        if let Some(detail) = &self.detail {
            detail.draw(frame, area, look);
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, look: Look) {
        let board = self;
        let title = if board.more {
            format!(
                "Board: {}+ tasks (more load as you scroll)",
                board.list.len()
            )
        } else {
            format!("Board: {} tasks", board.list.len())
        };
        let Some(inner) = remote_state(
            frame,
            area,
            block(&title, &board.list.remote),
            &board.list.remote,
            Vec::is_empty,
            "No tasks yet: create one in New task.",
        ) else {
            return;
        };
        let [bar, table] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
        let search = if board.searching {
            Span::styled(
                format!("/{}_", board.search),
                Style::new().add_modifier(Modifier::BOLD),
            )
        } else if board.search.is_empty() {
            Span::raw("/ search")
        } else {
            Span::raw(format!("/{}", board.search))
        };
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::raw(format!(" filter (f): {}  ·  ", board.filter.label())),
                search,
            ])),
            bar,
        );
        if board.list.is_empty() {
            frame.render_widget(Paragraph::new(" No task matches."), table);
            return;
        }
        let wide = table.width >= 120;
        list(
            frame,
            table,
            &["Status", "Jira", "Title", "Assignee", "Created"],
            &[
                Constraint::Length(6),
                Constraint::Length(if wide { 14 } else { 10 }),
                Constraint::Fill(1),
                Constraint::Length(if wide { 16 } else { 10 }),
                Constraint::Length(11),
            ],
            board.list.len(),
            Some(board.list.selected.index),
            |i| {
                let Some(task) = board.list.row(i) else {
                    return Vec::new();
                };
                vec![
                    Cell::from(if task.status == TaskStatus::Done {
                        "[x]"
                    } else {
                        "[ ]"
                    }),
                    Cell::from(clip(
                        task.jira_id.as_deref().unwrap_or(""),
                        if wide { 14 } else { 10 },
                    )),
                    Cell::from(task.title.clone()),
                    Cell::from(clip(&task.assignee.username, if wide { 16 } else { 10 })),
                    Cell::from(when(task.created_at, look.timezone)),
                ]
            },
        );
    }
}
