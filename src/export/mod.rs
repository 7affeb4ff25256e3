//! Exports a clinic's other systems can take in: FHIR R4, a printable report (HTML and
//! Markdown), CSV. Each format renders a [`Record`] gathered from the chart by the
//! application layer (`app::record`), so the renderers are pure and testable without a
//! database.

pub mod csv;
pub mod fhir;
pub mod rems;
pub mod report;
pub(crate) mod signatures;
pub mod stock;

pub use crate::app::record::{Record, SessionRecord, course_record_from, session_record_from};
