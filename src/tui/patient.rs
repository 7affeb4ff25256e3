//! A patient's details and course: demographics, contacts, medications with the classes
//! that matter flagged, the safety flag, course progress, sessions, and the outcome trend.

pub use crate::app::views::PatientData;
