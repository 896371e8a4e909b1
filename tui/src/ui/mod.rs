//! Drawing: one file per screen. Everything reads the state and nothing changes it, so any
//! state can be drawn into a test backend and compared with a snapshot.
//!
//! Nothing relies on colour alone: the selected row carries `>`, negative money a `!`, the
//! current tab brackets, errors a leading `!`.

mod account;
mod accounts;
mod analytics;
mod board;
mod chrome;
mod earnings;
mod events;
mod login;
mod my_tasks;
mod new_task;
mod popup;
mod reshuffle;
mod users;
pub mod widgets;

use crate::app::state::Screen;
use crate::app::{App, Tab};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    match app.screen {
        Screen::Login | Screen::Resuming => login::draw(frame, area, app),
        Screen::Main => {
            let [tabs, body, footer] = Layout::vertical([
                Constraint::Length(1),
                Constraint::Min(1),
                Constraint::Length(1),
            ])
            .areas(area);
            chrome::tabs(frame, tabs, app);
            match app.tab {
                Tab::MyTasks => my_tasks::draw(frame, body, app),
                Tab::Board => board::draw(frame, body, app),
                Tab::NewTask => new_task::draw(frame, body, app),
                Tab::MyAccount => account::draw(frame, body, app),
                Tab::Reshuffle => reshuffle::draw(frame, body, app),
                Tab::Accounts => accounts::draw(frame, body, app),
                Tab::Earnings => earnings::draw(frame, body, app),
                Tab::Users => users::draw(frame, body, app),
                Tab::Events => events::draw(frame, body, app),
                Tab::Analytics => analytics::draw(frame, body, app),
            }
            chrome::footer(frame, footer, app);
        }
    }
    popup::draw(frame, area, app);
}
