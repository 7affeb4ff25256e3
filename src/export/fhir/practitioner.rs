//! A Practitioner for each clinician the record names, with an id derived from the name.

use super::builder::Builder;
use super::ids::reference;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A Practitioner's id: from the name, so that it is the same in every export.
pub(super) fn practitioner_id(name: &str) -> String {
    let digest = Sha256::digest(name.as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("kapchart-practitioner-{hex}")
}

impl<'a> Builder<'a> {
    pub(super) fn practitioner_ref(&self, name: &str) -> Value {
        let mut r = reference("Practitioner", &practitioner_id(name));
        r["display"] = json!(name);
        r
    }

    /// A Practitioner for each clinician in the record, then for anyone else a resource names
    /// (a note's author), so that every reference resolves.
    pub(super) fn practitioners(&mut self) {
        let mut names: Vec<&str> = Vec::new();
        let notes = self.record.sessions.iter().filter_map(|s| s.note.as_ref());
        let others = self.record.sessions.iter().flat_map(|s| {
            std::iter::once(s.session.clinician.as_str())
                .chain(s.lines.iter().map(|l| l.entry.author.as_str()))
        });
        let note_people = notes.flat_map(|n| {
            std::iter::once(n.author.as_str())
                .chain(n.signature.iter().map(|s| s.signer.as_str()))
                .chain(n.addenda.iter().map(|a| a.author.as_str()))
        });
        let all = self
            .record
            .clinicians
            .iter()
            .map(String::as_str)
            .chain(others)
            .chain(note_people);
        for name in all {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        for name in names {
            self.push(json!({
                "resourceType": "Practitioner",
                "id": practitioner_id(name),
                "name": [{ "text": name }],
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn practitioner_ids_are_stable_and_valid_fhir_ids() {
        let id = practitioner_id("Dr. Mara Quinn");
        assert_eq!(id, practitioner_id("Dr. Mara Quinn"));
        assert_ne!(id, practitioner_id("Dr. Lee"));
        assert!(id.len() <= 64);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        );
    }
}
