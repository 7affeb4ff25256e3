//! Searching the chart by words: the entries, notes and addenda of every patient, or of one,
//! where every typed word begins a word of the text (`domain::search`), newest first, from
//! the chart's search index. Each search that shows something is a read of those patients'
//! records and is audited as one (`app::access`); the words themselves are never recorded
//! nor logged.

use super::AppError;
use super::Chart;
use super::access::{self, Access, Audited};
use crate::domain::PatientId;
use crate::domain::search::{Hit, Words};
use chrono::{DateTime, FixedOffset};

/// Results shown at most, unless asked for more (the most recently written first).
pub const LIMIT: usize = 100;

/// What a search found.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    pub words: Words,
    /// The patient searched, or None for the whole chart.
    pub patient: Option<PatientId>,
    /// Newest first.
    pub hits: Vec<Hit>,
    /// More was found than the limit: the oldest were left out.
    pub more: bool,
}

impl Results {
    /// The patients whose records the results show, each once, in id order.
    pub fn patients_shown(&self) -> Vec<PatientId> {
        let mut ids: Vec<PatientId> = self.hits.iter().map(|h| h.patient).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Why nothing could be found, when the words themselves say so.
    pub fn why_nothing(&self) -> Option<String> {
        match &self.words {
            Words::Empty => Some("no words to look for: type letters or digits".into()),
            Words::Unmatchable(why) => Some(why.to_string()),
            Words::Find(_) => None,
        }
    }
}

/// Searches the chart (or one patient's record) for `typed`, at most `limit` results.
pub fn search(
    chart: &Chart,
    typed: &str,
    patient: Option<PatientId>,
    limit: usize,
) -> Result<Results, AppError> {
    if let Some(id) = patient {
        // A patient the chart does not hold is refused with its own message.
        chart.store.patient(id)?;
    }
    let words = Words::typed(typed);
    let found = chart.store.search(words.words(), patient, limit)?;
    Ok(Results {
        words,
        patient,
        hits: found.hits,
        more: found.more,
    })
}

/// What the audit trail records for a search: the patients whose records it showed (or the
/// one searched), else the chart.
pub fn access(chart: &Chart, results: &Results) -> Result<Access, AppError> {
    let mut shown = results.patients_shown();
    if shown.is_empty() {
        if let Some(p) = results.patient {
            shown.push(p);
        }
    }
    if !shown.is_empty() {
        return Ok(Access::Searched(shown));
    }
    match chart.store.head()? {
        Some(head) => Ok(Access::SearchedChart(head)),
        None => Err(AppError::invalid("the chart has no audit trail")),
    }
}

/// Records the search in the audit trail as the signed-in clinician's read.
pub fn record(chart: &mut Chart, results: &Results, now: DateTime<FixedOffset>) -> Audited {
    match access(chart, results) {
        Ok(a) => access::record(chart, &a, now),
        Err(e) => access::not_recorded(&Access::Searched(results.patients_shown()), &e.to_string()),
    }
}
