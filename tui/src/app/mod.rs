//! The client's state machine. `App::update(event) -> Vec<Command>` is pure: key presses
//! and server replies go in, requests and side effects come out as commands for the
//! runtime to perform. Nothing here touches the terminal or the network.

pub mod command;
pub mod event;
pub mod form;
pub mod help;
pub mod keymap;
pub mod keys;
pub mod remote;
pub mod selection;
pub mod state;
pub mod tabs;
pub mod update;

pub use command::{Command, Session};
pub use event::{Data, Event, Fetch, Reply};
pub use state::{App, Stage};
pub use tabs::Tab;
