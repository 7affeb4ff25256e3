//! One module per command: its arguments (`Args`, or `Command` for a command with
//! subcommands) and its `run`. `cli/mod.rs` names each in the `Command` enum and dispatches.

pub mod ack;
pub mod amend;
pub mod audit;
pub mod backup;
pub mod chart;
pub mod clinician;
pub mod completions;
pub mod course;
pub mod demo;
pub mod export;
pub mod init;
pub mod integrations;
pub mod log;
pub mod measure;
pub mod note;
pub mod paths;
pub mod patient;
pub mod rekey;
pub mod rems;
pub mod restore;
pub mod search;
pub mod session;
mod session_checks;
pub mod stock;
pub mod strike;
pub mod sync;
pub mod verify;
pub mod witness;
