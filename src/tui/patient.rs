//! A patient's details and course: demographics, contacts, medications with the classes
//! that matter flagged, the safety flag, course progress, sessions, and the outcome trend.

use crate::domain::course::{Course, PatientDetails};
use crate::domain::integration::IntegrationDue;
use crate::domain::measures::{MeasureResponse, SafetyFlag};
use crate::domain::medications::Medication;
use crate::domain::{Patient, Session, SessionKind};
use chrono::{DateTime, FixedOffset};

#[derive(Debug, Clone, PartialEq)]
pub struct PatientData {
    pub patient: Patient,
    pub details: PatientDetails,
    pub medications: Vec<Medication>,
    pub safety: Option<SafetyFlag>,
    pub course: Option<Course>,
    /// Oldest first.
    pub sessions: Vec<Session>,
    /// The questionnaires that stand, oldest first.
    pub measures: Vec<(DateTime<FixedOffset>, MeasureResponse)>,
    pub integrations: Vec<IntegrationDue>,
}

impl PatientData {
    /// Dosing sessions ended, and planned (6 unless the course says otherwise).
    pub fn progress(&self) -> (usize, u32) {
        let done = self
            .sessions
            .iter()
            .filter(|s| s.kind == SessionKind::Dosing && s.ended.is_some())
            .count();
        let planned = self
            .course
            .as_ref()
            .map(|c| c.planned_dosing)
            .unwrap_or(crate::domain::course::DEFAULT_PLANNED_DOSING);
        (done, planned)
    }
}
