//! The witness panel: a second clinician signs in to witness one dose or waste, opened by
//! `witness` at the end of a dose or waste line (once it is charted) or by a key on the
//! timeline. The signed-in clinician does not change; Esc leaves it unwitnessed.

use super::sign_in::{Purpose, SignIn};
use crate::domain::witness::witness_of;
use crate::domain::{ChartLine, EntryId, EntryStatus, Payload};

#[derive(Debug, Clone)]
pub struct WitnessPanel {
    /// The dose or waste witnessed.
    pub dose: EntryId,
    /// "dose" or "waste": what is witnessed, for the panel's words.
    pub what: &'static str,
    /// The dose or waste as charted, and who charted it, for the panel's text.
    pub summary: String,
    pub author: String,
    pub sign_in: SignIn,
}

impl WitnessPanel {
    /// A panel for the dose or waste `dose` among the session's `lines`, or why it cannot
    /// be witnessed (the store checks again when it writes, by `domain::witness::check`).
    pub fn for_dose(
        lines: &[ChartLine],
        dose: EntryId,
        signed_in: Option<i64>,
    ) -> Result<WitnessPanel, String> {
        let line = lines
            .iter()
            .find(|l| l.entry.id == dose)
            .ok_or_else(|| format!("entry {dose} is not in this session"))?;
        let what = match line.entry.payload {
            Payload::Dose(_) => "dose",
            Payload::Waste(_) => "waste",
            _ => {
                return Err(format!(
                    "entry {dose} is {}, not a dose or a waste: only those are witnessed",
                    crate::domain::with_article(line.entry.payload.kind())
                ));
            }
        };
        if line.status != EntryStatus::Current {
            return Err(format!(
                "entry {dose} was corrected; witness the {what} that stands"
            ));
        }
        if let Some(w) = witness_of(lines, dose) {
            return Err(format!(
                "the {what}, entry {dose}, was already witnessed by {} (entry {})",
                w.entry.author, w.entry.id
            ));
        }
        Ok(WitnessPanel {
            dose,
            what,
            summary: line.entry.payload.to_string(),
            author: line.entry.author.clone(),
            sign_in: SignIn::new(Purpose::Witness(dose), signed_in),
        })
    }
}
