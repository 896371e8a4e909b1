//! aTES terminal client: one program for every role (ratatui), plus scriptable subcommands.
//!
//! - `app`: the state machine, `update(event) -> Vec<Command>`, pure and tested without a terminal;
//! - `screens`: one module per screen after login: its state, keys, fetches and drawing;
//! - `ui`: the frame around the screens (tabs, status line, overlays, login) and shared widgets;
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
pub mod screens;
pub mod terminal;
pub mod ui;
