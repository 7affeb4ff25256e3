//! The command line's words for what went wrong: a use case's error, a refusal with the
//! option that answers it, the way past a refusal to duplicate a record.

use super::Failure;
use crate::app::charting::{ChartingError, Refusal};
use crate::app::{AppError, ErrorKind, Existing};
use crate::domain::stock::StockRefusal;

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        match e.kind() {
            ErrorKind::Exists(existing) => Failure::runtime(format!("{e}; {}", way_out(existing))),
            _ => Failure::runtime(e.to_string()),
        }
    }
}

/// The explicit way past a refusal to duplicate or replace a record.
fn way_out(existing: &Existing) -> String {
    match existing {
        Existing::Patient { id, .. } => {
            format!("use patient {id}, or give --second-record if this is another person's record")
        }
        Existing::OpenDosingSession { id, .. } => format!(
            "end it first (kapchart session end {id}), or give --second-dosing-session to open another"
        ),
        Existing::Course { .. } => "give --new-course to start a new course in its place \
             (the earlier course stays in the chart)"
            .into(),
    }
}

impl From<ChartingError> for Failure {
    fn from(e: ChartingError) -> Self {
        Failure::runtime(match e {
            ChartingError::Refused(r) => refusal_words(&r),
            e => e.to_string(),
        })
    }
}

/// A refusal in the CLI's words: what was wrong, and the option that answers it.
fn refusal_words(r: &Refusal) -> String {
    match r {
        Refusal::CorrectionNeedsReason => {
            "a correction needs a reason, e.g. --reason \"wrong arm cuff reading\"".into()
        }
        Refusal::EndNeedsReason { session, concerns } => {
            let list: Vec<String> = concerns.iter().map(|c| format!("  - {c}")).collect();
            format!(
                "session {session} was not ended; these stand against ending it now:\n{}\nend it anyway with --reason TEXT (the reason is recorded with the end)",
                list.join("\n")
            )
        }
        Refusal::ContainerRestUnanswered { containers } => {
            let list: Vec<String> = containers
                .iter()
                .map(|(c, mg)| format!("  - {c} holds {} mg", crate::domain::entry::trim_number(*mg, 3)))
                .collect();
            format!(
                "the session was not ended; containers opened in it still hold something:\n{}\nsay what happens to each rest with --waste {} (wasted now, then witnessed) or --keep {} (kept until its beyond-use date)",
                list.join("\n"),
                containers[0].0,
                containers[0].0
            )
        }
        Refusal::Stock(s @ StockRefusal::HeldTooLittle { at, .. }) => format!(
            "{s}\nthe line is charted at {}: name a container that held the amount then, or, if that is not when it was drawn, start the line with the time it was (@HH:MM)",
            at.format("%H:%M")
        ),
        Refusal::AcknowledgementNeedsWords => "an acknowledgement says what was decided, e.g. --note \"rechecked, proceeding\" (or \"@10:45 rechecked, proceeding\" for its own time)".into(),
        r => r.to_string(),
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            // The reader went away (`kapchart ... | head`): nothing more to say.
            return Failure {
                message: String::new(),
                code: 0,
            };
        }
        Failure::runtime(e.to_string())
    }
}
