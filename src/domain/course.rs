//! The course around the sessions: a patient's changeable details, the course plan and
//! goals, and integration notes with their drafts, signature and addenda.

use super::signature::Ed25519Seal;
use super::{ClinicianId, PatientId, SessionId};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// What can change about a patient after intake; each change is a new version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_kg: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency_contact: Option<String>,
    /// Who usually takes the patient home after a dosing session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ride_contact: Option<String>,
    /// The patient's address: the controlled-substance log names it beside each
    /// administration (21 CFR 1304.22(c): the name and address of the person).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Sex as the clinic records it (the Spravato REMS form asks for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<String>,
    /// Current medications as written ("clonazepam 0.5 mg at night").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub medications: Vec<String>,
}

/// Planned dosing sessions when a course does not say (clinical.md section 1: about six
/// sessions over two to three weeks).
pub const DEFAULT_PLANNED_DOSING: u32 = 6;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Course {
    pub id: i64,
    pub patient_id: PatientId,
    pub planned_dosing: u32,
    pub goals: Vec<String>,
    pub started: DateTime<FixedOffset>,
}

pub type NoteId = i64;

/// An integration note: one per dosing session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub id: NoteId,
    pub dosing_session_id: SessionId,
    /// dap, soap or birp.
    pub format: String,
    pub created: DateTime<FixedOffset>,
    pub author: String,
    /// The latest saved draft (before signing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft: Option<Draft>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<Signature>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addenda: Vec<Addendum>,
}

impl Note {
    /// The note's text as it stands: the signed text, else the latest draft.
    pub fn text(&self) -> &str {
        match (&self.signature, &self.draft) {
            (Some(s), _) => &s.text,
            (None, Some(d)) => &d.text,
            (None, None) => "",
        }
    }

    pub fn is_signed(&self) -> bool {
        self.signature.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub text: String,
    pub saved: DateTime<FixedOffset>,
}

/// The signed text, locked: its SHA-256 proves it unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signature {
    pub text: String,
    pub sha256: String,
    pub signer: String,
    pub signer_id: ClinicianId,
    pub signed: DateTime<FixedOffset>,
    /// Why it was signed despite an open alert, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The signer's Ed25519 signature; `None` for a note signed before kapchart signed
    /// with clinicians' keys (its SHA-256 alone locks it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ed25519: Option<Ed25519Seal>,
}

/// Text added after signing, with its own author, time and signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Addendum {
    pub id: i64,
    pub text: String,
    pub sha256: String,
    pub author: String,
    pub author_id: ClinicianId,
    pub at: DateTime<FixedOffset>,
    /// The author's Ed25519 signature; `None` for an addendum from before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ed25519: Option<Ed25519Seal>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(minute: u32) -> DateTime<FixedOffset> {
        FixedOffset::east_opt(0)
            .unwrap()
            .with_ymd_and_hms(2026, 11, 26, 12, minute, 0)
            .unwrap()
    }

    /// The note screen opens on this text: the draft until the note is signed, then the
    /// signed text, whatever a later draft row holds.
    #[test]
    fn a_note_reads_as_its_draft_until_signed_and_as_its_signed_text_after() {
        let mut note = Note {
            id: 1,
            dosing_session_id: 2,
            format: "dap".into(),
            created: at(0),
            author: "Dr. Ada".into(),
            draft: None,
            signature: None,
            addenda: Vec::new(),
        };
        assert_eq!(note.text(), "");
        assert!(!note.is_signed());
        note.draft = Some(Draft {
            text: "D: calm at T+60".into(),
            saved: at(1),
        });
        assert_eq!(note.text(), "D: calm at T+60");
        note.signature = Some(Signature {
            text: "D: calm at T+60, signed".into(),
            sha256: "0".repeat(64),
            signer: "Dr. Ada".into(),
            signer_id: 1,
            signed: at(2),
            reason: None,
            ed25519: None,
        });
        note.draft = Some(Draft {
            text: "a later draft".into(),
            saved: at(3),
        });
        assert_eq!(note.text(), "D: calm at T+60, signed");
        assert!(note.is_signed());
    }
}
