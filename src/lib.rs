//! kapchart: bedside charting for ketamine-assisted psychotherapy (KAP).
//!
//! - [`domain`]: patients, sessions, entries, the quick-entry grammar and the alert rules.
//! - [`store`]: the encrypted, append-only chart with its audit trail.
//! - [`app`]: the use cases (chart a line, end a session, sign a note, load a screen's data,
//!   gather a record for export), shared by the CLI, the TUI and the exports.
//! - [`export`], [`cli`] and [`tui`]: the ways out and in.
//!
//! Imports point down only: domain < store, config < app < export, tui, cli
//! (`tests/layers.rs` keeps it so).

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod domain;
pub mod export;
pub mod hardening;
pub mod keys;
pub mod logging;
pub mod paths;
pub mod store;
pub mod sync;
pub mod tui;
