//! The chat gateway: reads the settings, builds every adapter, wires them to the domain's
//! services, serves REST and Socket.IO on one address, and shuts down gracefully.
//!
//! # Layout
//! - [`config`]: [`Settings`] from the environment and `chat.toml`, validated at start.
//! - [`app`]: [`App::build`] (all the wiring) and [`App::run_until_stopped`].
//! - [`cli`]: the `serve`, `migrate` and `token` subcommands.
//! - [`telemetry`]: logs: format, filters, the request span and access line.
//! - [`prometheus`]: `/metrics`: the recorder, descriptions, process, build and pool figures.
//! - [`web`]: the web chat client at `/` and the development-only `POST /dev/token`.

pub mod app;
pub mod cli;
pub mod config;
pub mod prometheus;
pub mod telemetry;
pub mod web;

pub use crate::{
    app::App,
    config::{ConfigError, Settings},
};
