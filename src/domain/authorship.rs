//! What an outside reader needs to check who wrote a session's record without kapchart:
//! each signed audit row of the session with the exact bytes its author signed, and each
//! clinician's key with the certificate that ties it to the chart's root.

use super::ClinicianId;
use chrono::{DateTime, Utc};

/// One audit row of a session's objects signed by its author (`store::chain`): the row's
/// place in the chain and the exact message its Ed25519 signature covers
/// (`"kapchart audit row v1\n"` and the row's fields as a JSON array).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRow {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub clinician_id: ClinicianId,
    /// The author's name as the team records it.
    pub clinician: String,
    pub action: String,
    /// The row's hash in the chart's chain (`seq:hash` names it as the anchor does).
    pub hash: String,
    pub message: Vec<u8>,
    pub signature: Vec<u8>,
}

/// A team member's signing key and, when an admin certified it, the certificate: its
/// message (`team::Certificate::message_v1`), who signed it, and the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertifiedKey {
    pub clinician_id: ClinicianId,
    pub name: String,
    pub key: [u8; 32],
    pub certificate: Option<KeyCertificate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCertificate {
    pub certified_by: ClinicianId,
    pub message: Vec<u8>,
    pub signature: Vec<u8>,
}

/// The certificates that tie `authors`' keys to the root: each author's, then their
/// certifier's, and so on to the first admin (who certifies their own), each once, in the
/// team's order. An author whose key has no certificate brings only their key.
pub fn chain_to_root<'a>(
    team: &'a [CertifiedKey],
    authors: &[ClinicianId],
) -> Vec<&'a CertifiedKey> {
    let mut wanted: Vec<ClinicianId> = Vec::new();
    let mut todo: Vec<ClinicianId> = authors.to_vec();
    while let Some(id) = todo.pop() {
        if wanted.contains(&id) {
            continue;
        }
        let Some(member) = team.iter().find(|m| m.clinician_id == id) else {
            continue;
        };
        wanted.push(id);
        if let Some(c) = &member.certificate {
            todo.push(c.certified_by);
        }
    }
    team.iter()
        .filter(|m| wanted.contains(&m.clinician_id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: ClinicianId, by: Option<ClinicianId>) -> CertifiedKey {
        CertifiedKey {
            clinician_id: id,
            name: format!("c{id}"),
            key: [id as u8; 32],
            certificate: by.map(|b| KeyCertificate {
                certified_by: b,
                message: Vec::new(),
                signature: Vec::new(),
            }),
        }
    }

    #[test]
    fn the_chain_follows_each_certifier_to_the_root_once() {
        let team = [
            member(1, Some(1)),
            member(2, Some(1)),
            member(3, Some(2)),
            member(4, Some(1)),
        ];
        let ids = |v: Vec<&CertifiedKey>| v.iter().map(|m| m.clinician_id).collect::<Vec<_>>();
        assert_eq!(ids(chain_to_root(&team, &[3])), vec![1, 2, 3]);
        assert_eq!(ids(chain_to_root(&team, &[4, 3])), vec![1, 2, 3, 4]);
        assert_eq!(ids(chain_to_root(&team, &[9])), Vec::<ClinicianId>::new());
    }
}
