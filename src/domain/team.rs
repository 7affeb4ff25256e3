//! A clinic's team: who may chart, and in which role. The role says what a clinician does
//! on the team; only an admin changes the team (adds and removes clinicians).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use super::ClinicianId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Prescriber,
    Therapist,
    Nurse,
    Monitor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Prescriber,
        Role::Therapist,
        Role::Nurse,
        Role::Monitor,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Prescriber => "prescriber",
            Role::Therapist => "therapist",
            Role::Nurse => "nurse",
            Role::Monitor => "monitor",
            Role::Admin => "admin",
        }
    }

    /// Whether this role may add and remove clinicians.
    pub fn manages_team(self) -> bool {
        self == Role::Admin
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        let s = s.trim();
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "'{s}' is not a role; expected one of prescriber, therapist, nurse, monitor, admin"
                )
            })
    }
}

/// A clinician on the sign-in list: read from the keyring without a passphrase, so names
/// and roles only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMember {
    pub id: ClinicianId,
    pub name: String,
    pub role: Role,
}

/// What an admin's certificate of a clinician's keys covers: who, in which role, with which
/// public keys, added when and by whom. Signed with the certifying admin's Ed25519 key; the
/// team's first admin certifies their own keys, and their key's fingerprint is the chart's
/// root ([`root_fingerprint`]). Version 1 of the message is UTF-8 text, one `name: value`
/// line per field, each ending in a newline:
///
/// ```text
/// kapchart team certificate v1
/// clinician-id: 3
/// name: Nia Nurse
/// role: nurse
/// credentials: RN                  (empty when none)
/// x25519-key: 64 lowercase hex digits
/// ed25519-key: 64 lowercase hex digits
/// added-at: 2026-11-26T14:45:00.000Z
/// certified-by: 1
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate<'a> {
    pub clinician_id: ClinicianId,
    pub name: &'a str,
    pub role: Role,
    pub credentials: Option<&'a str>,
    pub agreement_public: [u8; 32],
    pub signing_public: [u8; 32],
    pub added_at: chrono::DateTime<chrono::Utc>,
    pub certified_by: ClinicianId,
}

/// The certificate message format kapchart writes now.
pub const CERTIFICATE_VERSION: u32 = 1;

impl Certificate<'_> {
    /// The bytes a version-1 certificate signature covers.
    pub fn message_v1(&self) -> Vec<u8> {
        use super::signature::{hex, signed_at_text};
        format!(
            "kapchart team certificate v1\nclinician-id: {}\nname: {}\nrole: {}\ncredentials: {}\nx25519-key: {}\ned25519-key: {}\nadded-at: {}\ncertified-by: {}\n",
            self.clinician_id,
            self.name,
            self.role,
            self.credentials.unwrap_or(""),
            hex(&self.agreement_public),
            hex(&self.signing_public),
            signed_at_text(self.added_at),
            self.certified_by
        )
        .into_bytes()
    }
}

/// The chart's root: the SHA-256 of the first admin's Ed25519 public key (with a label, so
/// that it is never the hash of anything else), 64 lowercase hex digits. Printed by `init`,
/// `verify`, `backup`, every export and the report, for a clinic to keep outside the laptop:
/// a chart whose root differs from the one kept is not the chart the clinic began.
pub fn root_fingerprint(first_admin_key: &[u8; 32]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"kapchart root v1\n");
    h.update(first_admin_key);
    super::signature::hex(&h.finalize())
}

/// A fingerprint as a clinic may have written it down: hex digits, any case, with spaces,
/// colons or dashes between groups. `None` unless it is 64 hex digits.
pub fn parse_fingerprint(text: &str) -> Option<String> {
    let hex: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | ':' | '-'))
        .collect::<String>()
        .to_ascii_lowercase();
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

/// Which members `who` names: an id ("2"), or a name compared without regard to case or
/// surrounding spaces. Empty `who` names nobody.
pub fn matching<'a>(members: &'a [TeamMember], who: &str) -> Vec<&'a TeamMember> {
    let who = who.trim();
    if who.is_empty() {
        return Vec::new();
    }
    if let Ok(id) = who.parse::<ClinicianId>() {
        return members.iter().filter(|m| m.id == id).collect();
    }
    // Names are stored NFC (`domain::name`): a name typed decomposed still finds its clinician.
    let wanted: String = unicode_normalization::UnicodeNormalization::nfc(who)
        .collect::<String>()
        .to_lowercase();
    members
        .iter()
        .filter(|m| m.name.trim().to_lowercase() == wanted)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: i64, name: &str) -> TeamMember {
        TeamMember {
            id,
            name: name.into(),
            role: Role::Nurse,
        }
    }

    #[test]
    fn roles_read_in_any_case_and_refuse_others_naming_the_choices() {
        assert_eq!("Nurse".parse::<Role>(), Ok(Role::Nurse));
        assert_eq!(" admin ".parse::<Role>(), Ok(Role::Admin));
        let e = "doctor".parse::<Role>().unwrap_err();
        assert!(
            e.contains("prescriber, therapist, nurse, monitor, admin"),
            "{e}"
        );
        assert!(Role::Admin.manages_team());
        assert!(!Role::Prescriber.manages_team());
    }

    #[test]
    fn a_certificate_message_is_its_documented_lines_and_every_field_counts() {
        use chrono::TimeZone;
        let c = Certificate {
            clinician_id: 3,
            name: "Nia Nurse",
            role: Role::Nurse,
            credentials: Some("RN"),
            agreement_public: [0xaa; 32],
            signing_public: [0xbb; 32],
            added_at: chrono::Utc
                .with_ymd_and_hms(2026, 11, 26, 14, 45, 0)
                .unwrap(),
            certified_by: 1,
        };
        let text = String::from_utf8(c.message_v1()).unwrap();
        assert_eq!(
            text,
            format!(
                "kapchart team certificate v1\nclinician-id: 3\nname: Nia Nurse\nrole: nurse\ncredentials: RN\nx25519-key: {}\ned25519-key: {}\nadded-at: 2026-11-26T14:45:00.000Z\ncertified-by: 1\n",
                "aa".repeat(32),
                "bb".repeat(32)
            )
        );
        for changed in [
            Certificate {
                clinician_id: 4,
                ..c.clone()
            },
            Certificate {
                name: "Nia Nurses",
                ..c.clone()
            },
            Certificate {
                role: Role::Admin,
                ..c.clone()
            },
            Certificate {
                credentials: None,
                ..c.clone()
            },
            Certificate {
                agreement_public: [0xab; 32],
                ..c.clone()
            },
            Certificate {
                signing_public: [0xbc; 32],
                ..c.clone()
            },
            Certificate {
                certified_by: 2,
                ..c.clone()
            },
        ] {
            assert_ne!(changed.message_v1(), c.message_v1());
        }
    }

    #[test]
    fn a_root_fingerprint_reads_back_as_written_down() {
        let root = root_fingerprint(&[7; 32]);
        assert_eq!(root.len(), 64);
        assert_ne!(root, root_fingerprint(&[8; 32]));
        let grouped: Vec<String> = root
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8(c.to_vec()).unwrap().to_uppercase())
            .collect();
        assert_eq!(parse_fingerprint(&grouped.join(" ")), Some(root.clone()));
        assert_eq!(parse_fingerprint(&grouped.join(":")), Some(root));
        assert_eq!(parse_fingerprint("abc"), None);
    }

    #[test]
    fn who_is_an_id_or_a_name_without_regard_to_case() {
        let team = [
            member(1, "Dr. Ada Lee"),
            member(2, "Sam Ortiz"),
            member(3, "sam ortiz"),
        ];
        assert_eq!(matching(&team, "1")[0].id, 1);
        assert_eq!(matching(&team, "dr. ada LEE")[0].id, 1);
        assert_eq!(matching(&team, "SAM ORTIZ").len(), 2);
        assert!(matching(&team, "Nobody").is_empty());
        assert!(matching(&team, "  ").is_empty());
    }
}
