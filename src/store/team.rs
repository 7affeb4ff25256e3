//! The clinic's team in the chart: who is on it, in which role, with which public keys, and
//! who was removed, when, by whom and why. Adding a clinician seals the current chart key to
//! them; removing one re-keys the chart for everyone else (see `signin::rekey_with`).

mod certification;
mod identifiers;
mod removal;

pub use certification::TeamCheck;

use super::audit::ObjectKind;
use super::keyring::{self, Keyring, crypto::PrivateKeys};
use super::signin::RekeyStop;
use super::{Chart, ChartSecret, Result, StoreError, check_text, from_stored, lock};
use crate::domain::team::{Role, TeamMember};
use crate::domain::{name, text};
use chrono::{DateTime, FixedOffset};
use rusqlite::{OptionalExtension, params};
use std::path::Path;
use std::time::Duration;

/// The sign-in list, read from the keyring beside the chart without a passphrase: ids,
/// names and roles only. Empty for a chart from before keyrings.
pub fn team(path: &Path) -> Result<Vec<TeamMember>> {
    let ring = match keyring::read(&keyring::path_of(path))? {
        Some(r) => Some(r),
        None => keyring::read(&keyring::new_path_of(path))?,
    };
    Ok(ring.map(|r| r.members()).unwrap_or_default())
}

/// A clinician of the team as the chart records them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub credentials: Option<String>,
    pub added_at: DateTime<FixedOffset>,
    pub added_by: Option<i64>,
    /// "on DATE by NAME: REASON" once removed.
    pub removed: Option<String>,
    pub removed_at: Option<DateTime<FixedOffset>>,
    pub agreement_public: [u8; 32],
    pub signing_public: [u8; 32],
}

const MEMBER_SQL: &str = "SELECT c.id, c.name, m.role, m.credentials, m.added_at, m.added_by,
        m.x25519_public, m.ed25519_public, r.removed_at, r.reason, rc.name
   FROM team_members m JOIN clinicians c ON c.id = m.clinician_id
   LEFT JOIN team_removals r ON r.clinician_id = m.clinician_id
   LEFT JOIN clinicians rc ON rc.id = r.removed_by";

fn member_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MemberRecord> {
    let role: String = r.get(2)?;
    let key = |i: usize| -> rusqlite::Result<[u8; 32]> {
        let v: Vec<u8> = r.get(i)?;
        v.try_into().map_err(|_| {
            rusqlite::Error::FromSqlConversionFailure(
                i,
                rusqlite::types::Type::Blob,
                "a public key is not 32 bytes".into(),
            )
        })
    };
    let removed_at: Option<i64> = r.get(8)?;
    let reason: Option<String> = r.get(9)?;
    let by: Option<String> = r.get(10)?;
    let removed_at = removed_at.map(|ms| from_stored(ms, 0));
    Ok(MemberRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        role: role.parse().map_err(|e: String| {
            rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, e.into())
        })?,
        credentials: r.get(3)?,
        added_at: from_stored(r.get(4)?, 0),
        added_by: r.get(5)?,
        removed: removed_at.map(|at| {
            format!(
                "on {} by {}: {}",
                at.format("%Y-%m-%d %H:%M UTC"),
                by.unwrap_or_default(),
                reason.unwrap_or_default()
            )
        }),
        removed_at,
        agreement_public: key(6)?,
        signing_public: key(7)?,
    })
}

impl Chart {
    /// Every clinician the team has had, in the order they were added, removed ones too.
    pub fn team_members(&self) -> Result<Vec<MemberRecord>> {
        let mut stmt = self
            .conn
            .prepare(&format!("{MEMBER_SQL} ORDER BY c.id"))
            .map_err(|e| self.err(e))?;
        stmt.query_map([], member_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    pub(crate) fn member(&self, id: i64) -> Result<Option<MemberRecord>> {
        self.conn
            .query_row(&format!("{MEMBER_SQL} WHERE c.id = ?1"), [id], member_row)
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Whether `id` is the chart's first clinician and the team has nobody yet.
    pub(crate) fn founding_admin_missing(&self, id: i64) -> Result<bool> {
        let (members, first): (i64, Option<i64>) = self
            .conn
            .query_row(
                "SELECT (SELECT count(*) FROM team_members), (SELECT min(id) FROM clinicians)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))?;
        Ok(members == 0 && first == Some(id))
    }

    /// The signed-in clinician's role; None for a chart from before keyrings.
    pub fn role(&self) -> Result<Option<Role>> {
        Ok(self.member(self.clinician.id)?.map(|m| m.role))
    }

    /// The signed-in clinician's Ed25519 signing key, for signing notes.
    pub fn signing_key(&self) -> Result<&ed25519_dalek::SigningKey> {
        self.keys.as_ref().map(|k| &k.signing).ok_or_else(|| {
            StoreError::SignIn(
                "this chart has no team keys yet (it is upgraded the next time it is opened while no other kapchart has it open); nothing was signed".into(),
            )
        })
    }

    /// A clinician's Ed25519 verifying key, as the chart recorded it when they were added.
    pub fn public_keys_of(&self, clinician_id: i64) -> Result<ed25519_dalek::VerifyingKey> {
        let member = self.member(clinician_id)?.ok_or(StoreError::NotFound {
            what: "team member",
            id: clinician_id,
        })?;
        ed25519_dalek::VerifyingKey::from_bytes(&member.signing_public).map_err(|_| {
            StoreError::Invalid(format!(
                "the recorded signing key of clinician {clinician_id} is not a valid Ed25519 key"
            ))
        })
    }

    /// A new chart's first clinician and their place on the team as its first admin, in one
    /// write signed with their own key (already `self.keys`).
    pub(crate) fn found_first_admin(
        &mut self,
        id: i64,
        name: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<()> {
        let keys = self
            .keys
            .as_ref()
            .ok_or_else(|| StoreError::Invalid("the first admin has no keys".into()))?;
        let public = (keys.agreement_public(), keys.signing_public());
        self.write(|tx| {
            tx.execute(
                "INSERT INTO clinicians (id, name, created_at) VALUES (?1, ?2, ?3)",
                params![id, name, now.timestamp_millis()],
            )?;
            tx.record(
                now.timestamp_millis(),
                id,
                "clinician.add",
                ObjectKind::Clinician,
                id,
            )?;
            insert_member(tx, id, name, Role::Admin, None, public, None, id, now)
        })
    }

    /// Records the chart's first admin (`id`) on the team, their keys certified by
    /// themselves: the root. Signed with their own key.
    pub(crate) fn record_first_admin(
        &mut self,
        id: i64,
        keys: &PrivateKeys,
        now: DateTime<FixedOffset>,
    ) -> Result<()> {
        let name: String = self
            .conn
            .query_row("SELECT name FROM clinicians WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(e))?;
        let public = (keys.agreement_public(), keys.signing_public());
        self.write_signed_by(&keys.signing, |tx| {
            insert_member(tx, id, &name, Role::Admin, None, public, None, id, now)
        })
    }

    pub(crate) fn require_admin(&self, doing: &str) -> Result<()> {
        match self.role()? {
            Some(r) if r.manages_team() => Ok(()),
            _ => Err(StoreError::SignIn(format!(
                "only an admin may {doing}; {} is signed in as {}; nothing was changed",
                self.clinician.name,
                self.role()?
                    .map_or("a clinician without a team role".into(), |r| r.to_string())
            ))),
        }
    }

    fn require_chart_key(&self) -> Result<keyring::crypto::Secret32> {
        match &self.secret {
            ChartSecret::Raw(k) if self.keys.is_some() => Ok(k.clone()),
            _ => Err(StoreError::SignIn(
                "this chart has no team yet (it is upgraded the next time it is opened while no other kapchart has it open); nothing was changed".into(),
            )),
        }
    }

    /// Adds a clinician to the team (admins only): their row and public keys in the chart,
    /// then their wrapped keys and the current chart key sealed to them in the keyring. The
    /// chart itself is not re-encrypted.
    pub fn add_team_member(
        &mut self,
        name: &str,
        role: Role,
        credentials: Option<&str>,
        passphrase: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<i64> {
        if name.trim().is_empty() {
            return Err(StoreError::Invalid(
                "the clinician's name must not be empty".into(),
            ));
        }
        let name = &super::clean_name(name)?;
        let credentials = match credentials.map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => Some(super::clean_name(c)?),
            None => None,
        };
        let credentials = credentials.as_deref();
        if passphrase.is_empty() {
            return Err(StoreError::Invalid(
                "the passphrase must not be empty".into(),
            ));
        }
        self.require_admin("add clinicians to the team")?;
        let chart_key = self.require_chart_key()?;
        if let Some(same) = self
            .team_members()?
            .into_iter()
            .find(|m| m.removed.is_none() && name::looks_the_same(&m.name, name))
        {
            return Err(StoreError::Invalid(format!(
                "{} (id {}) is already on the team, and the two names read the same; give the newcomer a name that tells them apart (e.g. with a middle initial): nobody was added",
                same.name, same.id
            )));
        }
        let keys = PrivateKeys::generate().map_err(StoreError::Invalid)?;
        let _writing = lock::keyring_writer(&self.path, Duration::from_secs(10))?;
        let ring = self.current_keyring()?;
        let by = self.clinician.id;
        let ring_path = keyring::path_of(&self.path);
        let kept = keyring::kept_path_of(&self.path);
        // The clinician, their place on the team and their keyring entry: both or neither.
        // The new keyring takes the old one's place inside the chart's transaction (the old
        // one kept as NAME.keyring.kept, a second name for the same file, which needs no
        // space); if the commit then fails, the old one is put back. A kill in between is
        // settled by the next open (`settle_interrupted_add`).
        let public = (keys.agreement_public(), keys.signing_public());
        let written = self.write(|tx| {
            tx.execute(
                "INSERT INTO clinicians (id, name, created_at) VALUES ((SELECT max(coalesce((SELECT max(id) FROM clinicians), 0), coalesce((SELECT max(CAST(json_extract(id_floors, '$.clinicians') AS INTEGER)) FROM restores), 0)) + 1), ?1, ?2)",
                params![name, now.timestamp_millis()],
            )?;
            let id = tx.last_insert_rowid();
            tx.record(
                now.timestamp_millis(),
                by,
                "clinician.add",
                ObjectKind::Clinician,
                id,
            )?;
            insert_member(tx, id, name, role, credentials, public, Some(by), by, now)?;
            let mut entries = ring.entries.clone();
            entries.push(keyring::Entry::new(
                id, name, role, &keys, passphrase, &chart_key,
            )?);
            let _ = std::fs::remove_file(&kept);
            std::fs::hard_link(&ring_path, &kept).map_err(|source| StoreError::Io {
                path: kept.clone(),
                source,
            })?;
            let swapped = keyring::write(
                &ring_path,
                &Keyring {
                    entries,
                    damage: ring.damage.clone(),
                },
            );
            if let Err(e) = swapped {
                let _ = std::fs::remove_file(&kept);
                return Err(e.into());
            }
            Ok(id)
        });
        match written {
            Ok(id) => {
                let _ = std::fs::remove_file(&kept);
                Ok(id)
            }
            Err(e) => {
                // The commit failed after the keyring took the newcomer: the old keyring back.
                if kept.exists() {
                    let _ = keyring::promote(&kept, &ring_path);
                }
                Err(e)
            }
        }
    }

    /// A `clinician add` killed between its keyring and its commit leaves the old keyring as
    /// NAME.keyring.kept: when the keyring holds a clinician the chart's team does not, the
    /// commit never happened and the old keyring goes back; otherwise it is of no use.
    pub(crate) fn settle_interrupted_add(&self) -> Result<()> {
        let kept = keyring::kept_path_of(&self.path);
        if !kept.exists() {
            return Ok(());
        }
        let Ok(_writing) = lock::keyring_writer(&self.path, Duration::ZERO) else {
            return Ok(());
        };
        let ring_path = keyring::path_of(&self.path);
        let on_team: Vec<i64> = self.team_members()?.iter().map(|m| m.id).collect();
        let ring = keyring::read(&ring_path)?.unwrap_or_default();
        if ring.entries.iter().any(|e| !on_team.contains(&e.id)) {
            keyring::promote(&kept, &ring_path)?;
        } else {
            let _ = std::fs::remove_file(&kept);
        }
        Ok(())
    }

    fn current_keyring(&self) -> Result<Keyring> {
        keyring::read(&keyring::path_of(&self.path))?.ok_or_else(|| {
            StoreError::Invalid(format!(
                "the keyring {} is missing; restore it with its chart from a backup",
                keyring::path_of(&self.path).display()
            ))
        })
    }
}

/// A clinician's row on the team and its certificate, with their audit rows, inside the
/// caller's transaction. The certificate is signed with the write's key: the adding admin's,
/// or, for the chart's first admin (`certified_by` their own id), their own.
#[allow(clippy::too_many_arguments)]
fn insert_member(
    tx: &super::Tx<'_>,
    id: i64,
    name: &str,
    role: Role,
    credentials: Option<&str>,
    public: ([u8; 32], [u8; 32]),
    added_by: Option<i64>,
    certified_by: i64,
    now: DateTime<FixedOffset>,
) -> std::result::Result<(), super::WriteError> {
    use ed25519_dalek::Signer;
    let (agreement_public, signing_public) = public;
    tx.execute(
        "INSERT INTO team_members
           (clinician_id, role, credentials, x25519_public, ed25519_public, added_at, added_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            id,
            role.as_str(),
            credentials,
            agreement_public.to_vec(),
            signing_public.to_vec(),
            now.timestamp_millis(),
            added_by
        ],
    )?;
    let row = tx.last_insert_rowid();
    tx.record(
        now.timestamp_millis(),
        certified_by,
        "team.add",
        ObjectKind::TeamMember,
        row,
    )?;
    let added_at = super::from_stored(now.timestamp_millis(), 0).with_timezone(&chrono::Utc);
    let certificate = crate::domain::team::Certificate {
        clinician_id: id,
        name,
        role,
        credentials,
        agreement_public,
        signing_public,
        added_at,
        certified_by,
    };
    let signature = tx.key().sign(&certificate.message_v1());
    tx.execute(
        "INSERT INTO team_certificates (member_id, certified_by, message_version, signature)
         VALUES (?1, ?2, ?3, ?4)",
        params![
            row,
            certified_by,
            crate::domain::team::CERTIFICATE_VERSION,
            signature.to_bytes().to_vec()
        ],
    )?;
    let cert = tx.last_insert_rowid();
    tx.record(
        now.timestamp_millis(),
        certified_by,
        "team.certify",
        ObjectKind::TeamCertificate,
        cert,
    )?;
    Ok(())
}

impl Chart {
    /// The chart's root: the fingerprint of its first admin's Ed25519 key
    /// (`domain::team::root_fingerprint`); None for a chart without a team yet.
    pub fn root(&self) -> Result<Option<String>> {
        let key: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT ed25519_public FROM team_members ORDER BY id LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(key
            .and_then(|k| <[u8; 32]>::try_from(k.as_slice()).ok())
            .map(|k| crate::domain::team::root_fingerprint(&k)))
    }
}
