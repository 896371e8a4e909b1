//! Text forms: fields, focus, and the server's complaints shown at the field they name.

use crate::api::ApiError;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The API's name for it, as the server's messages quote it in backticks.
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    /// Shown as `*`.
    pub secret: bool,
    /// A fixed set of values cycled with ←/→/space instead of typed.
    pub choices: Option<&'static [&'static str]>,
    /// Keeps the line breaks of pasted text (a description); other fields turn them
    /// into spaces.
    pub multiline: bool,
    pub error: Option<String>,
}

impl Field {
    pub fn text(name: &'static str, label: &'static str) -> Field {
        Field {
            name,
            label,
            value: String::new(),
            secret: false,
            choices: None,
            multiline: false,
            error: None,
        }
    }

    pub fn multiline(name: &'static str, label: &'static str) -> Field {
        Field {
            multiline: true,
            ..Field::text(name, label)
        }
    }

    pub fn secret(name: &'static str, label: &'static str) -> Field {
        Field {
            secret: true,
            ..Field::text(name, label)
        }
    }

    pub fn choice(
        name: &'static str,
        label: &'static str,
        choices: &'static [&'static str],
    ) -> Field {
        Field {
            value: choices.first().copied().unwrap_or_default().to_owned(),
            choices: Some(choices),
            ..Field::text(name, label)
        }
    }

    pub fn with_value(mut self, value: &str) -> Field {
        self.value = value.to_owned();
        self
    }

    /// What the screen shows: secrets masked, line breaks as `⏎`.
    pub fn shown(&self) -> String {
        if self.secret {
            "*".repeat(self.value.chars().count())
        } else {
            self.value.replace('\n', "⏎")
        }
    }

    fn cycle(&mut self, step: isize) {
        let Some(choices) = self.choices else { return };
        let len = choices.len() as isize;
        if len == 0 {
            return;
        }
        let at = choices.iter().position(|c| *c == self.value).unwrap_or(0) as isize;
        let next = (at + step).rem_euclid(len) as usize;
        self.value = choices[next].to_owned();
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub fields: Vec<Field>,
    pub focus: usize,
    /// A request with this form's data is on its way.
    pub submitting: bool,
    /// An error that names no field.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKey {
    /// The key changed the form (or was swallowed by it).
    Handled,
    Submit,
    Cancel,
}

/// Longest value a field accepts: more than any server limit, less than would hurt.
const MAX_FIELD: usize = 4096;

impl Form {
    pub fn new(fields: Vec<Field>) -> Form {
        Form {
            fields,
            focus: 0,
            submitting: false,
            error: None,
        }
    }

    pub fn key(&mut self, key: KeyEvent) -> FormKey {
        let last = self.fields.len().saturating_sub(1);
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return FormKey::Cancel,
            KeyCode::Tab | KeyCode::Down => {
                self.focus = if self.focus >= last {
                    0
                } else {
                    self.focus + 1
                }
            }
            KeyCode::BackTab | KeyCode::Up => {
                self.focus = if self.focus == 0 {
                    last
                } else {
                    self.focus - 1
                }
            }
            KeyCode::Enter if self.focus >= last => return FormKey::Submit,
            KeyCode::Enter => self.focus += 1,
            KeyCode::Char('s') if ctrl => return FormKey::Submit,
            KeyCode::Char('u') if ctrl => {
                if let Some(field) = self.fields.get_mut(self.focus)
                    && field.choices.is_none()
                {
                    field.value.clear();
                }
            }
            KeyCode::Left => self.focused_mut(|f| f.cycle(-1)),
            KeyCode::Right => self.focused_mut(|f| f.cycle(1)),
            KeyCode::Backspace => self.focused_mut(|f| {
                if f.choices.is_none() {
                    f.value.pop();
                    f.error = None;
                }
            }),
            KeyCode::Char(c) if !ctrl && !key.modifiers.contains(KeyModifiers::ALT) => self
                .focused_mut(|f| {
                    if f.choices.is_some() {
                        if c == ' ' {
                            f.cycle(1);
                        }
                    } else if f.value.len() < MAX_FIELD {
                        f.value.push(c);
                        f.error = None;
                    }
                }),
            _ => {}
        }
        FormKey::Handled
    }

    /// Pasted text goes into the focused field as typed text would, all of it, and never
    /// submits the form (a bracketed paste arrives as one piece, not as key presses).
    pub fn paste(&mut self, text: &str) {
        self.focused_mut(|f| {
            if f.choices.is_some() {
                return;
            }
            let text = text.replace("\r\n", "\n").replace('\r', "\n");
            let text = if f.multiline {
                text
            } else {
                text.replace('\n', " ")
            };
            for c in text.chars().filter(|c| *c == '\n' || !c.is_control()) {
                if f.value.len() >= MAX_FIELD {
                    break;
                }
                f.value.push(c);
            }
            f.error = None;
        });
    }

    fn focused_mut(&mut self, change: impl FnOnce(&mut Field)) {
        if let Some(field) = self.fields.get_mut(self.focus) {
            change(field);
        }
    }

    pub fn value(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value.as_str())
            .unwrap_or("")
    }

    /// The trimmed value, or `None` when blank (optional API fields).
    pub fn optional(&self, name: &str) -> Option<String> {
        let value = self.value(name).trim();
        (!value.is_empty()).then(|| value.to_owned())
    }

    pub fn set_error(&mut self, name: &str, message: &str) {
        if let Some(field) = self.fields.iter_mut().find(|f| f.name == name) {
            field.error = Some(message.to_owned());
        }
    }

    pub fn clear_errors(&mut self) {
        self.error = None;
        for field in &mut self.fields {
            field.error = None;
        }
    }

    /// Shows the server's error at the first field its message names (and moves the focus
    /// there); an error naming no field of this form is shown for the whole form.
    pub fn show_error(&mut self, err: &ApiError) {
        self.clear_errors();
        let message = err.describe();
        let named = err
            .named_fields()
            .into_iter()
            .find_map(|name| self.fields.iter().position(|f| f.name == name));
        match named {
            Some(index) => {
                self.fields[index].error = Some(message);
                self.focus = index;
            }
            None => self.error = Some(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn form() -> Form {
        Form::new(vec![
            Field::text("title", "Title"),
            Field::text("jira_id", "Jira id"),
        ])
    }

    #[test]
    fn typing_fills_the_focused_field_and_enter_moves_on_then_submits() {
        let mut form = form();
        form.key(key(KeyCode::Char('h')));
        form.key(key(KeyCode::Char('i')));
        assert_eq!(form.key(key(KeyCode::Enter)), FormKey::Handled);
        assert_eq!(form.focus, 1);
        assert_eq!(form.key(key(KeyCode::Enter)), FormKey::Submit);
        assert_eq!(form.value("title"), "hi");
    }

    #[test]
    fn a_paste_keeps_line_breaks_only_where_they_belong_and_never_submits() {
        let mut form = Form::new(vec![
            Field::text("title", "Title"),
            Field::multiline("description", "Description"),
        ]);
        form.paste("one\r\ntwo");
        assert_eq!(form.value("title"), "one two");
        form.focus = 1;
        form.paste("line one\nline two\nline three\n");
        assert_eq!(
            form.value("description"),
            "line one\nline two\nline three\n"
        );
        assert_eq!(form.fields[1].shown(), "line one⏎line two⏎line three⏎");
    }

    #[test]
    fn a_server_error_lands_on_the_field_it_names() {
        let mut form = form();
        form.focus = 1;
        form.show_error(&ApiError::Server {
            status: 422,
            code: "invalid".into(),
            message: "`title` must be 1 to 200 characters".into(),
        });
        assert_eq!(form.focus, 0);
        assert!(form.fields[0].error.is_some());
        assert!(form.error.is_none());
    }

    #[test]
    fn a_choice_field_cycles_instead_of_taking_text() {
        let mut form = Form::new(vec![Field::choice("role", "Role", &["worker", "manager"])]);
        form.key(key(KeyCode::Char('x')));
        assert_eq!(form.value("role"), "worker");
        form.key(key(KeyCode::Right));
        assert_eq!(form.value("role"), "manager");
        form.key(key(KeyCode::Right));
        assert_eq!(form.value("role"), "worker");
    }
}
