//! Test support shared by every crate's tests (a dev-dependency only).
//!
//! # Layout
//! - [`fakes`]: in-memory implementations of the domain's ports, for service tests.
//! - [`contract`]: the port contract suites. Each takes an adapter and checks the behaviour the
//!   port's documentation promises; the same suite runs against the fakes, SQLite, PostgreSQL,
//!   the in-process adapters and Redis.
//! - [`private_pg`]: a private PostgreSQL cluster that fault tests kill and restart.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

pub mod contract;
pub mod fakes;
pub mod private_pg;
