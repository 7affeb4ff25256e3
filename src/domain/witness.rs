//! Witnessed doses. Ketamine is Schedule III in the US (21 CFR 1308.13); each dose given is
//! recorded and commonly witnessed by a second licensed person (21 CFR 1304.22; clinical.md
//! section 3). A witness is an entry of its own, authored by the witness and pointing at the
//! dose; these rules say which doses a clinician may witness. kapchart records the witness;
//! whether a clinic requires one is the clinic's to decide.

use super::entry::{Payload, Witness};
use super::{ChartLine, ClinicianId, Entry, EntryId, EntryStatus};

/// Why a witness is refused, in words that say what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessRefusal {
    #[error("entry {entry} is {kind}, not a dose: only doses are witnessed")]
    NotADose { entry: EntryId, kind: String },
    #[error(
        "entry {entry} is a dose {author} charted: a witness is a second clinician, so someone else signs in to witness it"
    )]
    OwnDose { entry: EntryId, author: String },
    #[error("the dose, entry {entry}, was already witnessed by {by} (entry {witness})")]
    AlreadyWitnessed {
        entry: EntryId,
        by: String,
        witness: EntryId,
    },
    #[error("entry {entry} was {how} by entry {by}; witness the dose that stands")]
    NotCurrent {
        entry: EntryId,
        how: &'static str,
        by: EntryId,
    },
}

/// The standing witness of `dose` among a session's lines, if any.
pub fn witness_of(lines: &[ChartLine], dose: EntryId) -> Option<&ChartLine> {
    lines.iter().find(|l| {
        l.status == EntryStatus::Current
            && matches!(l.entry.payload, Payload::Witness(Witness { entry }) if entry == dose)
    })
}

/// Whether clinician `witness` may witness the dose `target` (a line of its session, with
/// `author_id` the id of who charted it), given the session's `lines`.
pub fn check(
    lines: &[ChartLine],
    target: &ChartLine,
    author_id: ClinicianId,
    witness: ClinicianId,
) -> Result<(), WitnessRefusal> {
    let e: &Entry = &target.entry;
    if !matches!(e.payload, Payload::Dose(_)) {
        return Err(WitnessRefusal::NotADose {
            entry: e.id,
            kind: super::with_article(e.payload.kind()),
        });
    }
    match target.status {
        EntryStatus::Current => {}
        EntryStatus::Amended { by } => {
            return Err(WitnessRefusal::NotCurrent {
                entry: e.id,
                how: "amended",
                by,
            });
        }
        EntryStatus::Struck { by } => {
            return Err(WitnessRefusal::NotCurrent {
                entry: e.id,
                how: "struck",
                by,
            });
        }
    }
    if author_id == witness {
        return Err(WitnessRefusal::OwnDose {
            entry: e.id,
            author: e.author.clone(),
        });
    }
    if let Some(w) = witness_of(lines, e.id) {
        return Err(WitnessRefusal::AlreadyWitnessed {
            entry: e.id,
            by: w.entry.author.clone(),
            witness: w.entry.id,
        });
    }
    Ok(())
}
