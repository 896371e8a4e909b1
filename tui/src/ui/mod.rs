//! Drawing: the frame around the screens (each screen draws itself, see `crate::screens`).
//! Everything reads the state and nothing changes it, so any state can be drawn into a test
//! backend and compared with a snapshot.
//!
//! Nothing relies on colour alone: the selected row carries `>`, negative money a `!`, the
//! current tab brackets, errors a leading `!`.

pub mod chart;
mod chrome;
pub mod login;
pub mod popup;
pub mod widgets;

use crate::app::App;
use crate::app::state::Stage;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    match app.stage {
        Stage::Login | Stage::Resuming => login::draw(frame, area, app),
        Stage::Main => {
            let [tabs, body, footer] = Layout::vertical([
                Constraint::Length(1),
                Constraint::Min(1),
                Constraint::Length(1),
            ])
            .areas(area);
            chrome::tabs(frame, tabs, app);
            let screen = app.screens.get(app.tab);
            screen.draw(frame, body, app.look());
            chrome::footer(frame, footer, app);
            screen.overlay(frame, area, app.look());
        }
    }
    popup::draw(frame, area, app);
}
