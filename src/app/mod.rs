//! kapchart's use cases, between the front ends (TUI, CLI, exports) and the chart: chart a
//! line, amend, strike, acknowledge, end a session, draft/save/sign/addend a note, load what a
//! screen shows, gather a record for export. Imports domain, store and config only.

pub mod access;
pub mod authorship;
pub mod care;
pub mod chart;
pub mod charting;
pub mod course;
pub mod error;
pub mod patient_list;
pub mod record;
pub mod rems;
pub mod search;
pub mod sign_in;
pub mod stock;
pub mod stock_log;
pub mod sync;
pub mod views;

/// The plain records the use cases take and give back (a new patient or session, what
/// already stands, whether a second record is meant).
pub use crate::store::{Existing, NewPatient, NewSession, Second};
pub use chart::Chart;
pub use error::{AppError, ChartingError, ErrorKind, Refusal};
