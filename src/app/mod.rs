//! kapchart's use cases, between the front ends (TUI, CLI, exports) and the chart: chart a
//! line, amend, strike, acknowledge, end a session, draft/save/sign/addend a note, load what a
//! screen shows, gather a record for export. Imports domain, store and config only.

pub mod access;
pub mod charting;
pub mod course;
pub mod error;
pub mod patient_list;
pub mod record;
pub mod rems;
pub mod search;
pub mod views;

pub use error::{ChartingError, Refusal};
