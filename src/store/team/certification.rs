//! Certification: every team member's keys certified back to the chart's root, as `verify`
//! checks them, and the keyring entries the team does not certify.

use super::*;

/// What `verify` found about the team: every clinician's keys certified back to the root,
/// and the keys the chain's signatures are checked against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamCheck {
    /// The chart's root: the fingerprint of the first admin's key (`domain::team`).
    pub root: Option<String>,
    /// Team members whose keys are certified.
    pub certified: usize,
    /// Team members recorded before kapchart certified keys (their keys are held by the
    /// signed chain that follows them).
    pub before_certificates: usize,
    /// One line per member whose keys are not certified, or whose certificate fails.
    pub problems: Vec<String>,
    pub keys: crate::store::chain::TeamKeys,
}

/// One member as the certificate check reads them.
struct CertifiedRow {
    row: i64,
    clinician: i64,
    name: String,
    role: String,
    credentials: Option<String>,
    agreement: Vec<u8>,
    signing: Vec<u8>,
    added_at: i64,
    certificate: Option<(i64, u32, Vec<u8>)>,
    removed_at: Option<i64>,
    removal_seq: Option<i64>,
}

impl Chart {
    /// The keyring beside the chart against the team: every entry must be a clinician who
    /// stands on the team, with the public keys the team certifies for them. An entry of a
    /// removed clinician is a removal not finished (their passphrase still opens the chart
    /// key); an entry with other keys was made or changed behind kapchart's back. Nothing
    /// for a chart without a keyring beside it (a copy being checked).
    pub fn keyring_problems(&self, team: &TeamCheck) -> Result<Vec<String>> {
        let Some(ring) = keyring::read(&keyring::path_of(&self.path))? else {
            return Ok(Vec::new());
        };
        let members = self.team_members()?;
        let mut problems = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for e in &ring.entries {
            let who = format!("clinician {} ({})", e.id, e.name);
            if !seen.insert(e.id) {
                problems.push(format!(
                    "keyring: more than one entry for {who} (one was added behind kapchart's back)"
                ));
                continue;
            }
            let Some(m) = members.iter().find(|m| m.id == e.id) else {
                problems.push(format!(
                    "keyring: the entry for {who} is not a member of the chart's team (added behind kapchart's back)"
                ));
                continue;
            };
            if m.agreement_public != e.agreement_public || m.signing_public != e.signing_public {
                problems.push(format!(
                    "keyring: the entry for {who} holds keys the team does not certify for them (changed behind kapchart's back)"
                ));
                continue;
            }
            if m.removed.is_some() {
                problems.push(format!(
                    "keyring: {} was removed from the team but the removal is not finished (their keyring entry still holds the chart key): the next kapchart that opens the chart with no other kapchart using it finishes it",
                    m.name
                ));
                continue;
            }
            if team.keys.get(&e.id).is_some_and(|k| !k.trusted) {
                problems.push(format!(
                    "keyring: the entry for {who} holds keys the team does not certify"
                ));
            }
        }
        Ok(problems)
    }

    /// Checks every team member's certificate: signed by an admin who stood on the team when
    /// they were added and whose own keys are certified, back to the first admin, who
    /// certifies their own keys and whose key is the chart's root. Members recorded before
    /// kapchart certified keys are counted as such. Also gives the keys (and removals) that
    /// the chain's signatures are checked against.
    pub fn check_team(&self) -> Result<TeamCheck> {
        let before: i64 = crate::store::audit::signed_from(&self.conn)
            .map_err(|e| self.err(e))?
            .map_or(i64::MAX, |(_, member)| member);
        let rows = self.certified_rows()?;
        let mut check = TeamCheck::default();
        // Admins whose keys are trusted, with when they were removed (if they were).
        let mut admins: std::collections::HashMap<i64, (ed25519_dalek::VerifyingKey, Option<i64>)> =
            std::collections::HashMap::new();
        for (i, m) in rows.iter().enumerate() {
            let who = format!("{} (clinician {})", m.name, m.clinician);
            let key = <[u8; 32]>::try_from(m.signing.as_slice())
                .ok()
                .and_then(|k| ed25519_dalek::VerifyingKey::from_bytes(&k).ok());
            let Some(key) = key else {
                check.problems.push(format!(
                    "team member {who}: the recorded signing key is not a valid Ed25519 key"
                ));
                continue;
            };
            if i == 0 {
                check.root = Some(crate::domain::team::root_fingerprint(&key.to_bytes()));
            }
            let trusted = match &m.certificate {
                None if m.row <= before => {
                    check.before_certificates += 1;
                    true
                }
                None => {
                    check.problems.push(format!(
                        "team member {who}: their keys are not certified by an admin (recorded behind kapchart's back, or their certificate was removed)"
                    ));
                    false
                }
                Some((by, version, signature)) => {
                    match certificate_holds(m, i == 0, *by, *version, signature, &key, &admins) {
                        Ok(()) => {
                            check.certified += 1;
                            true
                        }
                        Err(why) => {
                            check.problems.push(format!("team member {who}: {why}"));
                            false
                        }
                    }
                }
            };
            if trusted && m.role == Role::Admin.as_str() {
                admins.insert(m.clinician, (key, m.removed_at));
            }
            check.keys.insert(
                m.clinician,
                crate::store::chain::MemberKey {
                    name: m.name.clone(),
                    key,
                    trusted,
                    removed_at_seq: m.removal_seq,
                },
            );
        }
        Ok(check)
    }

    /// Every team member with their keys and certificate, in the order they were added.
    fn certified_rows(&self) -> Result<Vec<CertifiedRow>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT m.id, m.clinician_id, c.name, m.role, m.credentials, m.x25519_public,
                        m.ed25519_public, m.added_at, t.certified_by, t.message_version,
                        t.signature, r.removed_at,
                        (SELECT a.seq FROM audit a WHERE a.object_kind = 'team-removal'
                            AND a.object_id = r.id)
                   FROM team_members m JOIN clinicians c ON c.id = m.clinician_id
                   LEFT JOIN team_certificates t ON t.member_id = m.id
                   LEFT JOIN team_removals r ON r.clinician_id = m.clinician_id
                  ORDER BY m.id",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_map([], |r| {
            let cert: Option<i64> = r.get(8)?;
            Ok(CertifiedRow {
                row: r.get(0)?,
                clinician: r.get(1)?,
                name: r.get(2)?,
                role: r.get(3)?,
                credentials: r.get(4)?,
                agreement: r.get(5)?,
                signing: r.get(6)?,
                added_at: r.get(7)?,
                certificate: match cert {
                    Some(by) => Some((by, r.get(9)?, r.get(10)?)),
                    None => None,
                },
                removed_at: r.get(11)?,
                removal_seq: r.get(12)?,
            })
        })
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(|e| self.err(e))
    }

    /// Every team member's signing key with their certificate as recorded (its message
    /// rebuilt as `check_team` checks it), in the order they were added: for a reader outside
    /// kapchart to check keys back to the root. Whether each holds is `check_team`'s answer.
    pub fn certified_keys(&self) -> Result<Vec<crate::domain::authorship::CertifiedKey>> {
        use crate::domain::authorship::{CertifiedKey, KeyCertificate};
        Ok(self
            .certified_rows()?
            .into_iter()
            .filter_map(|m| {
                let key = <[u8; 32]>::try_from(m.signing.as_slice()).ok()?;
                let v1 = |c: &&(i64, u32, Vec<u8>)| c.1 == crate::domain::team::CERTIFICATE_VERSION;
                let certificate =
                    m.certificate
                        .as_ref()
                        .filter(v1)
                        .and_then(|(by, _, signature)| {
                            Some(KeyCertificate {
                                certified_by: *by,
                                message: certificate_message(&m, *by, &key).ok()?,
                                signature: signature.clone(),
                            })
                        });
                Some(CertifiedKey {
                    clinician_id: m.clinician,
                    name: m.name.clone(),
                    key,
                    certificate,
                })
            })
            .collect())
    }
}

/// Whether one member's certificate holds: its certifier (themselves, for the first admin)
/// was a trusted admin standing when they were added, and the signature verifies over the
/// member's recorded name, role, credentials and keys.
fn certificate_holds(
    m: &CertifiedRow,
    first: bool,
    by: i64,
    version: u32,
    signature: &[u8],
    key: &ed25519_dalek::VerifyingKey,
    admins: &std::collections::HashMap<i64, (ed25519_dalek::VerifyingKey, Option<i64>)>,
) -> std::result::Result<(), String> {
    let certifier = if by == m.clinician {
        if !first {
            return Err(
                "their keys are certified by themselves, which only the chart's first admin (its root) may".into(),
            );
        }
        *key
    } else {
        let Some((certifier, removed)) = admins.get(&by) else {
            return Err(format!(
                "their certificate is signed by clinician {by}, who was not a certified admin of the team before them"
            ));
        };
        if removed.is_some_and(|at| at <= m.added_at) {
            return Err(format!(
                "their certificate is signed by clinician {by}, who had been removed from the team"
            ));
        }
        *certifier
    };
    if version != crate::domain::team::CERTIFICATE_VERSION {
        return Err(format!(
            "their certificate uses message version {version}, which this kapchart does not know"
        ));
    }
    let message = certificate_message(m, by, &key.to_bytes())?;
    let signature = ed25519_dalek::Signature::from_slice(signature)
        .map_err(|_| "their certificate's signature is not 64 bytes".to_string())?;
    certifier.verify_strict(&message, &signature).map_err(|_| {
        "their certificate does not verify over the name, role and keys the team holds for them (a key replaced behind kapchart's back)".to_string()
    })
}

/// The version-1 certificate message of a member as the team holds them, certified by `by`.
fn certificate_message(
    m: &CertifiedRow,
    by: i64,
    key: &[u8; 32],
) -> std::result::Result<Vec<u8>, String> {
    let role: Role = m
        .role
        .parse()
        .map_err(|e: String| format!("their role cannot be read ({e})"))?;
    let agreement: [u8; 32] = m
        .agreement
        .as_slice()
        .try_into()
        .map_err(|_| "their recorded X25519 key is not 32 bytes".to_string())?;
    Ok(crate::domain::team::Certificate {
        clinician_id: m.clinician,
        name: &m.name,
        role,
        credentials: m.credentials.as_deref(),
        agreement_public: agreement,
        signing_public: *key,
        added_at: from_stored(m.added_at, 0).with_timezone(&chrono::Utc),
        certified_by: by,
    }
    .message_v1())
}
