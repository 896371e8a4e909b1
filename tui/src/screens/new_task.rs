//! The New task form; the server's validation errors appear under the field they name.

use super::{Cx, Look, Screen};
use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::event::{Data, Fetch, Reply};
use crate::app::form::{Field, Form, FormKey};
use crate::app::keymap::Action;
use crate::ui::login::form_lines;
use crate::ui::widgets::error_style;
use ates_shared::api::NewTask as NewTaskRequest;
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

pub fn new_task_form() -> Form {
    Form::new(vec![
        Field::text("title", "Title"),
        Field::text("jira_id", "Jira id"),
        Field::multiline("description", "Description"),
    ])
}

#[derive(Debug, Clone)]
pub struct NewTask {
    pub form: Form,
    /// Keys go into the form (rather than switching screens) while editing.
    pub editing: bool,
}

impl Default for NewTask {
    fn default() -> Self {
        NewTask {
            form: new_task_form(),
            editing: false,
        }
    }
}

/// The server's validation errors at the field they name. A Jira id in the title is the
/// one mistake worth pointing at two fields: where it is, and where it belongs.
fn show_task_error(form: &mut Form, err: &ApiError) {
    form.show_error(err);
    if err.code() == Some("title_contains_jira_id") {
        form.set_error("jira_id", "put the Jira id here, e.g. UBERPOP-42");
    }
}

impl Screen for NewTask {
    fn contexts(&self) -> &'static [&'static str] {
        &[]
    }

    fn refresh(&mut self, _cx: &mut Cx) -> Vec<Command> {
        Vec::new()
    }

    fn loading(&self) -> bool {
        false
    }

    fn fetched(
        &mut self,
        _fetch: Fetch,
        _generation: u64,
        _result: Result<Data, ApiError>,
        _cx: &mut Cx,
    ) -> Vec<Command> {
        Vec::new()
    }

    fn action(&mut self, action: Action, _cx: &mut Cx) -> Vec<Command> {
        if action == Action::Edit {
            self.editing = true;
        }
        Vec::new()
    }

    fn typing(&self) -> bool {
        self.editing
    }

    fn typed(&mut self, key: KeyEvent, _cx: &mut Cx) -> Vec<Command> {
        if self.form.submitting {
            return Vec::new();
        }
        match self.form.key(key) {
            FormKey::Handled => Vec::new(),
            FormKey::Cancel => {
                self.editing = false;
                Vec::new()
            }
            FormKey::Submit => {
                self.form.clear_errors();
                let title = self.form.value("title").trim().to_owned();
                if title.is_empty() {
                    self.form.set_error("title", "enter a title");
                    self.form.focus = 0;
                    return Vec::new();
                }
                self.form.submitting = true;
                vec![Command::CreateTask(NewTaskRequest {
                    title,
                    jira_id: self.form.optional("jira_id"),
                    description: self.form.optional("description"),
                })]
            }
        }
    }

    fn pasted(&mut self, text: &str, _cx: &mut Cx) -> Vec<Command> {
        self.form.paste(text);
        Vec::new()
    }

    fn replied(&mut self, reply: Reply, cx: &mut Cx) -> Vec<Command> {
        if let Reply::TaskCreated(result) = reply {
            self.form.submitting = false;
            match result {
                Ok(task) => {
                    self.form = new_task_form();
                    cx.info(format!(
                        "Created “{}”, assigned to {}",
                        task.title, task.assignee.username
                    ));
                }
                Err(err) => {
                    show_task_error(&mut self.form, &err);
                    self.editing = true;
                }
            }
        }
        Vec::new()
    }

    fn left(&mut self) {
        self.editing = false;
    }

    fn draw(&self, frame: &mut Frame, area: Rect, _look: Look) {
        let form = &self.form;
        let block = Block::bordered().title(" New task ");
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let mut lines = vec![
            Line::from("A new task goes at once to a random worker or accountant."),
            Line::from(""),
        ];
        lines.extend(form_lines(form, self.editing));
        if let Some(err) = &form.error {
            lines.push(Line::from(Span::styled(format!("! {err}"), error_style())));
        }
        lines.push(Line::from(""));
        lines.push(Line::from(if form.submitting {
            "Creating…"
        } else if self.editing {
            "Enter next field / create · Ctrl-S create · Esc stop editing"
        } else {
            "Enter or i: start typing"
        }));
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    }
}
