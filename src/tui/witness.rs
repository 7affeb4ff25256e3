//! The witness panel: a second clinician signs in to witness one dose, opened by `witness`
//! at the end of a dose line (once the dose is charted) or by a key on the timeline. The
//! signed-in clinician does not change; Esc leaves the dose unwitnessed.

use super::sign_in::{Purpose, SignIn};
use crate::domain::witness::witness_of;
use crate::domain::{ChartLine, EntryId, EntryStatus, Payload};

#[derive(Debug, Clone)]
pub struct WitnessPanel {
    pub dose: EntryId,
    /// The dose as charted, and who charted it, for the panel's text.
    pub summary: String,
    pub author: String,
    pub sign_in: SignIn,
}

impl WitnessPanel {
    /// A panel for the dose `dose` among the session's `lines`, or why it cannot be
    /// witnessed (the store checks again when it writes).
    pub fn for_dose(
        lines: &[ChartLine],
        dose: EntryId,
        signed_in: Option<i64>,
    ) -> Result<WitnessPanel, String> {
        let line = lines
            .iter()
            .find(|l| l.entry.id == dose)
            .ok_or_else(|| format!("entry {dose} is not in this session"))?;
        if !matches!(line.entry.payload, Payload::Dose(_)) {
            return Err(format!(
                "entry {dose} is {}, not a dose: only doses are witnessed",
                crate::domain::with_article(line.entry.payload.kind())
            ));
        }
        if line.status != EntryStatus::Current {
            return Err(format!(
                "entry {dose} was corrected; witness the dose that stands"
            ));
        }
        if let Some(w) = witness_of(lines, dose) {
            return Err(format!(
                "the dose, entry {dose}, was already witnessed by {} (entry {})",
                w.entry.author, w.entry.id
            ));
        }
        Ok(WitnessPanel {
            dose,
            summary: line.entry.payload.to_string(),
            author: line.entry.author.clone(),
            sign_in: SignIn::new(Purpose::Witness(dose), signed_in),
        })
    }
}
