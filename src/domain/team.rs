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
    let wanted = who.to_lowercase();
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
