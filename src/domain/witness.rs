//! Witnessed doses and wastes. Ketamine is Schedule III in the US (21 CFR 1308.13); each dose given is
//! recorded and commonly witnessed by a second licensed person (21 CFR 1304.22; clinical.md
//! section 3). A witness is an entry of its own, authored by the witness and pointing at the
//! dose; these rules say which doses a clinician may witness. kapchart records the witness;
//! whether a clinic requires one is the clinic's to decide.

use super::entry::{Payload, Witness};
use super::{ChartLine, ClinicianId, Entry, EntryId, EntryStatus};

/// Why a witness is refused, in words that say what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessRefusal {
    #[error("entry {entry} is {kind}, not a dose or a waste: only those are witnessed")]
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
    if !matches!(e.payload, Payload::Dose(_) | Payload::Waste(_)) {
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

#[cfg(test)]
mod tests {
    use crate::domain::dose_levels::DoseLevels;
    use crate::domain::grammar::{ParseContext, parse_line};
    use crate::domain::measures::MeasureRules;
    use chrono::{FixedOffset, TimeZone};

    fn witness_of_line(line: &str) -> Result<Option<usize>, String> {
        let drugs = vec!["ketamine".to_string(), "ondansetron".to_string()];
        let ctx = ParseContext {
            now: FixedOffset::east_opt(3600)
                .unwrap()
                .with_ymd_and_hms(2026, 5, 12, 14, 30, 0)
                .unwrap(),
            weight_kg: Some(70.0),
            drugs: &drugs,
            doses: &DoseLevels::default(),
            measures: &MeasureRules::default(),
        };
        parse_line(line, &ctx)
            .map(|p| p.witness)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn witness_names_the_dose_right_before_it_whatever_else_is_on_the_line() {
        assert_eq!(
            witness_of_line("dose ketamine 35mg IM witness"),
            Ok(Some(0))
        );
        assert_eq!(
            witness_of_line("dose ketamine 35mg IM witness bp 120/80"),
            Ok(Some(0))
        );
        // Vitals typed before the dose come first in the line's entries: the dose is second.
        assert_eq!(
            witness_of_line("bp 120/80 dose ketamine 35mg IM witness"),
            Ok(Some(1))
        );
        assert_eq!(
            witness_of_line("dose ondansetron 4mg IV dose ketamine 35mg IM witness"),
            Ok(Some(1))
        );
        assert_eq!(witness_of_line("dose ketamine 35mg IM"), Ok(None));
        for bad in [
            "bp 120/80 witness",
            "dose ketamine 35mg IM bp 120/80 witness",
            "dose ketamine 35mg IM witness witness",
        ] {
            let e = witness_of_line(bad).unwrap_err();
            assert!(e.contains("witness"), "{bad}: {e}");
        }
        // At the start of a line the word is a note, as it always was.
        assert_eq!(witness_of_line("witness arrived late"), Ok(None));
    }
}
