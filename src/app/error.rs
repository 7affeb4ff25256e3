//! Why a use case refused: typed, so that each front end words it for its own user (the CLI
//! names `--reason`, the TUI opens the field to type it in).

use crate::domain::chart::AckRefusal;
use crate::domain::discharge::DischargeConcern;
use crate::domain::grammar::GrammarError;
use crate::domain::{EntryId, SessionId};
use crate::store::{Existing, StoreError};
use chrono::{DateTime, FixedOffset};
use std::fmt;
use std::path::PathBuf;

/// Why the chart itself could not do what was asked, as the front ends tell it apart: the
/// words are the chart's own (what exists, what was not written, the way out), and the kind
/// says what a front end does about it (ask for the passphrase again, offer the way past a
/// duplicate, stop a batch). The store's own error stays behind the door.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{text}")]
pub struct AppError {
    kind: ErrorKind,
    text: String,
}

/// What kind of trouble an [`AppError`] is.
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorKind {
    /// A wrong passphrase, or a file that is not a kapchart chart.
    WrongPassphrase,
    /// The same, when the chart's keyring is not beside it either.
    WrongPassphraseOrNoKeyring,
    /// A clinician and passphrase that do not open the chart together.
    WrongSignIn,
    /// The write would duplicate or silently replace what exists; nothing was written.
    Exists(Existing),
    /// No chart where one was expected.
    NoChart,
    /// A file already stands where a chart was to be made.
    AlreadyExists,
    /// The chart cannot take writes at all (a full disk, read-only media, damage found by
    /// SQLCipher or by `verify`, a file it cannot open): nothing more will be written.
    Unwritable,
    /// Anything else the chart refused or failed at.
    Other,
}

impl AppError {
    /// What kind of trouble this is.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// Input the use case refuses, worded for the user.
    pub fn invalid(text: impl Into<String>) -> AppError {
        AppError {
            kind: ErrorKind::Other,
            text: text.into(),
        }
    }

    /// No chart at `path`: create one with `kapchart init` or pass `--db PATH`.
    pub fn no_chart(path: PathBuf) -> AppError {
        StoreError::NoChart(path).into()
    }

    /// A file already at `path`, which kapchart will not overwrite.
    pub fn already_exists(path: PathBuf) -> AppError {
        StoreError::AlreadyExists(path).into()
    }

    /// The chart at `path` can be read but not changed.
    pub fn read_only(path: PathBuf) -> AppError {
        StoreError::ReadOnly(path).into()
    }

    /// A wrong passphrase or sign-in of any kind: the wrong person, or the right person
    /// mistyping.
    pub fn is_wrong_sign_in(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::WrongPassphrase
                | ErrorKind::WrongSignIn
                | ErrorKind::WrongPassphraseOrNoKeyring
        )
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        let text = e.to_string();
        let kind = match e {
            StoreError::WrongPassphrase => ErrorKind::WrongPassphrase,
            StoreError::WrongPassphraseOrNoKeyring(_) => ErrorKind::WrongPassphraseOrNoKeyring,
            StoreError::WrongSignIn => ErrorKind::WrongSignIn,
            StoreError::Exists(existing) => ErrorKind::Exists(existing),
            StoreError::NoChart(_) => ErrorKind::NoChart,
            StoreError::AlreadyExists(_) => ErrorKind::AlreadyExists,
            StoreError::DiskFull(_)
            | StoreError::ReadOnly(_)
            | StoreError::Corrupt { .. }
            | StoreError::Damaged { .. }
            | StoreError::CannotOpen(_) => ErrorKind::Unwritable,
            _ => ErrorKind::Other,
        };
        AppError { kind, text }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChartingError {
    #[error("{0}")]
    Grammar(#[from] GrammarError),
    #[error("{0}")]
    Chart(#[from] AppError),
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
    /// An acknowledgement of an entry that has no alert waiting (none, acknowledged
    /// already, or not in the chart).
    NothingToAcknowledge { entry: EntryId },
    /// An acknowledgement without words of its own where the front end showed none to
    /// record in their place.
    AcknowledgementNeedsWords,
    /// An acknowledgement timed before what it acknowledges.
    Acknowledgement(AckRefusal),
    /// `witness` on an amendment's line: the witness signs for the dose that stands.
    WitnessOnAmendment,
    /// What the controlled-substance stock refuses (a draw above a balance, an unknown or
    /// ambiguous container, a count that differs without a reason).
    Stock(crate::domain::stock::StockRefusal),
    /// Ending a session with containers opened in it that still hold something, without
    /// saying whether each rest is wasted or kept.
    ContainerRestUnanswered {
        containers: Vec<(crate::domain::stock::ContainerId, f64)>,
    },
}

impl From<StoreError> for ChartingError {
    fn from(e: StoreError) -> ChartingError {
        match e {
            StoreError::Stock(r) => ChartingError::Refused(Refusal::Stock(r)),
            e => ChartingError::Chart(e.into()),
        }
    }
}

impl From<crate::domain::stock::StockRefusal> for ChartingError {
    fn from(r: crate::domain::stock::StockRefusal) -> ChartingError {
        ChartingError::Refused(Refusal::Stock(r))
    }
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
            Refusal::NothingToAcknowledge { entry } => {
                write!(f, "entry {entry} has no alert waiting for acknowledgement")
            }
            Refusal::AcknowledgementNeedsWords => {
                f.write_str("an acknowledgement says what was decided")
            }
            Refusal::Acknowledgement(r) => write!(f, "{r}"),
            Refusal::WitnessOnAmendment => f.write_str(
                "an amendment cannot ask for a witness; amend the dose without `witness`, then the witness witnesses the amended dose",
            ),
            Refusal::Stock(r) => write!(f, "{r}"),
            Refusal::ContainerRestUnanswered { containers } => {
                let list: Vec<String> = containers
                    .iter()
                    .map(|(c, mg)| format!("{c} holds {} mg", crate::domain::entry::trim_number(*mg, 3)))
                    .collect();
                write!(
                    f,
                    "containers opened in this session still hold something ({}): say whether each rest is wasted or kept",
                    list.join(", ")
                )
            }
        }
    }
}
