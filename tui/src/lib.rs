//! aTES terminal client: one program for every role (ratatui), plus scriptable subcommands.
//!
//! - `app`: the state machine, `update(event) -> Vec<Command>`, pure and tested without a terminal;
//! - `ui`: one file per screen, drawing the state;
//! - `api`: the HTTP client and the change stream;
//! - `runtime`: runs commands in background tasks and feeds their results back as events.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
pub mod runtime;
pub mod terminal;
pub mod ui;
