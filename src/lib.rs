//! kapchart: bedside charting for ketamine-assisted psychotherapy (KAP).
//!
//! - [`domain`]: patients, sessions, entries, the quick-entry grammar and the alert rules.
//! - [`store`]: the encrypted, append-only chart with its audit trail.
//! - [`charting`]: from a typed line to durable entries (shared by the CLI and the TUI).
//! - [`cli`] and [`tui`]: the two ways in.

pub mod charting;
pub mod cli;
pub mod config;
pub mod course;
pub mod demo;
pub mod domain;
pub mod export;
pub mod hardening;
pub mod logging;
pub mod paths;
pub mod scale;
pub mod store;
pub mod tui;
