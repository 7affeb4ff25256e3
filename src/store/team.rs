//! The clinic's team in the chart: who is on it, in which role, with which public keys, and
//! who was removed, when, by whom and why. Adding a clinician seals the current chart key to
//! them; removing one re-keys the chart for everyone else (see `signin::rekey_with`).

use super::audit::{self, ObjectKind};
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

    pub(crate) fn record_member(
        &mut self,
        id: i64,
        role: Role,
        credentials: Option<&str>,
        keys: &PrivateKeys,
        added_by: Option<i64>,
        now: DateTime<FixedOffset>,
    ) -> Result<()> {
        self.write(|tx| insert_member(tx, id, role, credentials, keys, added_by, now))
    }

    fn require_admin(&self, doing: &str) -> Result<()> {
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
        // The clinician and their place on the team: one transaction.
        let id = self.write(|tx| {
            tx.execute(
                "INSERT INTO clinicians (name, created_at) VALUES (?1, ?2)",
                params![name, now.timestamp_millis()],
            )?;
            let id = tx.last_insert_rowid();
            audit::record(
                tx,
                now.timestamp_millis(),
                Some(by),
                "clinician.add",
                ObjectKind::Clinician,
                id,
            )?;
            insert_member(tx, id, role, credentials, &keys, Some(by), now)?;
            Ok(id)
        })?;
        let mut entries = ring.entries;
        entries.push(keyring::Entry::new(
            id, name, role, &keys, passphrase, &chart_key,
        )?);
        keyring::write(&keyring::path_of(&self.path), &Keyring { entries })?;
        Ok(id)
    }

    fn current_keyring(&self) -> Result<Keyring> {
        keyring::read(&keyring::path_of(&self.path))?.ok_or_else(|| {
            StoreError::Invalid(format!(
                "the keyring {} is missing; restore it with its chart from a backup",
                keyring::path_of(&self.path).display()
            ))
        })
    }

    /// Removes clinician `id` from the team (admins only; never the last admin): the removal
    /// is recorded with its reason, then the chart is re-keyed to a new chart key sealed to
    /// every remaining clinician, so the removed clinician's passphrase no longer opens it.
    /// Their name stays in the chart, on everything they charted. Only while this kapchart
    /// has the chart alone (`open_alone_as`). A removal whose re-key was interrupted is
    /// finished by asking again.
    pub fn remove_team_member(
        &mut self,
        id: i64,
        reason: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<()> {
        self.remove_team_member_until(id, reason, now, RekeyStop::Never)
    }

    #[doc(hidden)]
    pub fn remove_team_member_until(
        &mut self,
        id: i64,
        reason: &str,
        now: DateTime<FixedOffset>,
        stop: RekeyStop,
    ) -> Result<()> {
        if reason.trim().is_empty() {
            return Err(StoreError::Invalid(
                "a removal needs a reason, e.g. --reason \"left the clinic\"".into(),
            ));
        }
        check_text(text::REASON, reason)?;
        self.require_admin("remove clinicians from the team")?;
        self.require_chart_key()?;
        if !self.alone {
            return Err(StoreError::Invalid(
                "removing a clinician re-keys the chart, which needs it open in this kapchart alone".into(),
            ));
        }
        let member = self.member(id)?.ok_or(StoreError::NotFound {
            what: "team member",
            id,
        })?;
        let ring = self.current_keyring()?;
        if member.removed.is_none() {
            let admins_left = self
                .team_members()?
                .iter()
                .filter(|m| m.removed.is_none() && m.role.manages_team() && m.id != id)
                .count();
            if admins_left == 0 {
                return Err(StoreError::Invalid(format!(
                    "{} is the team's only admin; add another admin first: nothing was changed",
                    member.name
                )));
            }
            let by = self.clinician.id;
            let reason = reason.trim().to_string();
            self.write(|tx| {
                tx.execute(
                    "INSERT INTO team_removals (clinician_id, removed_at, removed_by, reason)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![id, now.timestamp_millis(), by, reason],
                )?;
                let row = tx.last_insert_rowid();
                audit::record(
                    tx,
                    now.timestamp_millis(),
                    Some(by),
                    "team.remove",
                    ObjectKind::TeamRemoval,
                    row,
                )?;
                Ok(())
            })?;
        } else if ring.entries.iter().all(|e| e.id != id) {
            return Err(StoreError::Invalid(format!(
                "{} was already removed from the team ({}); nothing was changed",
                member.name,
                member.removed.unwrap_or_default()
            )));
        }
        let remaining: Vec<i64> = self
            .team_members()?
            .into_iter()
            .filter(|m| m.removed.is_none())
            .map(|m| m.id)
            .collect();
        let chart_key = keyring::crypto::new_chart_key().map_err(StoreError::Invalid)?;
        let entries = ring
            .entries
            .iter()
            .filter(|e| remaining.contains(&e.id))
            .map(|e| e.resealed(&chart_key))
            .collect::<Result<Vec<_>>>()?;
        self.rekey_with(&Keyring { entries }, chart_key, stop)
    }

    /// Changes the signed-in clinician's passphrase: their private keys are wrapped again
    /// under the new one (fresh salt and nonce). The chart key and the chart do not change.
    pub fn change_passphrase(&mut self, new_passphrase: &str) -> Result<()> {
        if new_passphrase.is_empty() {
            return Err(StoreError::Invalid(
                "the new passphrase must not be empty".into(),
            ));
        }
        self.require_chart_key()?;
        let Some(keys) = self.keys.as_ref() else {
            return Err(StoreError::Invalid("no keys are open".into()));
        };
        let _writing = lock::keyring_writer(&self.path, Duration::from_secs(10))?;
        let ring = self.current_keyring()?;
        let me = self.clinician.id;
        let entries = ring
            .entries
            .iter()
            .map(|e| {
                if e.id == me {
                    e.rewrapped(keys, new_passphrase)
                } else {
                    Ok(e.clone())
                }
            })
            .collect::<Result<Vec<_>>>()?;
        keyring::write(&keyring::path_of(&self.path), &Keyring { entries })
    }
}

/// A clinician's row on the team, with its audit row, inside the caller's transaction.
fn insert_member(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
    role: Role,
    credentials: Option<&str>,
    keys: &PrivateKeys,
    added_by: Option<i64>,
    now: DateTime<FixedOffset>,
) -> std::result::Result<(), super::WriteError> {
    tx.execute(
        "INSERT INTO team_members
           (clinician_id, role, credentials, x25519_public, ed25519_public, added_at, added_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            id,
            role.as_str(),
            credentials,
            keys.agreement_public().to_vec(),
            keys.signing_public().to_vec(),
            now.timestamp_millis(),
            added_by
        ],
    )?;
    let row = tx.last_insert_rowid();
    audit::record(
        tx,
        now.timestamp_millis(),
        added_by.or(Some(id)),
        "team.add",
        ObjectKind::TeamMember,
        row,
    )?;
    Ok(())
}
