//! How the terminal UI words what went wrong, in one place: the use cases hand their errors up
//! typed (`AppError`, `ChartingError`, the grammar's `GrammarError` with its span), and the
//! screens turn them into the clinician's words here, with the way out on screen where there
//! is one. The command line words the same errors in `cli/wording.rs`.

use super::home;
use super::live::LineProblem;
use crate::app::{AppError, ChartingError, ErrorKind, Existing};

/// Why the typed line cannot be charted, as the bar's preview and the error line say it.
pub fn line_problem(problem: &LineProblem) -> String {
    match problem {
        LineProblem::Grammar(g) => g.to_string(),
        LineProblem::Refused(r) => r.to_string(),
        LineProblem::Other(text) => text.clone(),
    }
}

/// A refusal of a home screen form's write: `exists` when it names a record that stands.
pub(super) fn form_refusal(e: &AppError) -> home::Refused {
    home::Refused {
        why: e.to_string(),
        exists: matches!(e.kind(), ErrorKind::Exists(_)),
    }
}

/// A refusal of the chart worded for the terminal UI: what exists, and the way out on screen.
fn refusal(e: &AppError) -> String {
    match e.kind() {
        ErrorKind::Exists(Existing::OpenDosingSession { .. }) => {
            format!("{e}; open it and end it from its discharge panel first")
        }
        _ => e.to_string(),
    }
}

/// What went wrong under a screen's read or write, as the screen says it: the chart's own
/// trouble with the way out on screen ([`refusal`]), the record's rules and the grammar in
/// their own words.
pub fn problem(e: &ChartingError) -> String {
    match e {
        ChartingError::Chart(e) => refusal(e),
        other => other.to_string(),
    }
}

/// A read's or write's result with what went wrong worded for the screen.
pub fn said<T>(result: Result<T, ChartingError>) -> Result<T, String> {
    result.map_err(|e| problem(&e))
}

/// What a read or write finds when the chart is locked (closed until a sign-in).
pub fn locked() -> ChartingError {
    ChartingError::Invalid("the chart is locked".into())
}
