//! Why a use case refused: typed, so that each front end words it for its own user (the CLI
//! names `--reason`, the TUI opens the field to type it in).

use crate::domain::SessionId;
use crate::domain::chart::AckRefusal;
use crate::domain::discharge::DischargeConcern;
use crate::domain::grammar::GrammarError;
use crate::store::StoreError;
use chrono::{DateTime, FixedOffset};
use std::fmt;

#[derive(Debug, thiserror::Error)]
pub enum ChartingError {
    #[error("{0}")]
    Grammar(#[from] GrammarError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Refused(#[from] Refusal),
    /// Something kapchart itself could not do (a template file, the demo's own data).
    #[error("{0}")]
    Invalid(String),
}

/// A use case that the record's rules refuse, with what the user can do about it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    /// An amendment or a strike without a reason.
    CorrectionNeedsReason,
    /// An amendment whose line makes more or fewer than one entry.
    AmendNotOneEntry { entries: usize },
    /// Ending a session that has already ended.
    AlreadyEnded {
        session: SessionId,
        at: DateTime<FixedOffset>,
    },
    /// Ending a session with something standing against it, and no reason given.
    EndNeedsReason {
        session: SessionId,
        concerns: Vec<DischargeConcern>,
    },
    /// A session end written as a plain form entry instead of through its own use case.
    EndThroughEndSession,
    /// An acknowledgement of an entry with nothing open, or timed before it.
    Acknowledgement(AckRefusal),
    /// `witness` on an amendment's line: the witness signs for the dose that stands.
    WitnessOnAmendment,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::CorrectionNeedsReason => f.write_str("a correction needs a reason"),
            Refusal::AmendNotOneEntry { entries } => write!(
                f,
                "an amendment replaces one entry, but this line makes {entries}; amend each entry on its own"
            ),
            Refusal::AlreadyEnded { session, at } => write!(
                f,
                "session {session} already ended at {}",
                at.format("%Y-%m-%d %H:%M")
            ),
            Refusal::EndNeedsReason { session, concerns } => {
                let list: Vec<String> = concerns.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "session {session} needs a reason to end now: {}",
                    list.join("; ")
                )
            }
            Refusal::EndThroughEndSession => {
                f.write_str("a session is ended through its end command, which checks it first")
            }
            Refusal::Acknowledgement(r) => write!(f, "{r}"),
            Refusal::WitnessOnAmendment => f.write_str(
                "an amendment cannot ask for a witness; amend the dose without `witness`, then the witness witnesses the amended dose",
            ),
        }
    }
}
