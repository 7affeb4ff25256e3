//! The clinic's team in the chart: who is on it, in which role, with which public keys, and
//! who was removed, when, by whom and why. Adding a clinician seals the current chart key to
//! them; removing one re-keys the chart for everyone else (see `signin::rekey_with`).

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
                tx.record(
                    now.timestamp_millis(),
                    by,
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
        self.reseal_to_standing_team(&ring, stop)
    }

    /// A new chart key, sealed to the clinicians who stand on the team, each to the public
    /// key the team certifies for them (never a key read from the keyring file alone, which
    /// anyone with the file can edit), and the chart re-keyed to it. A keyring entry whose
    /// keys the team does not certify, or of a clinician removed, gets nothing.
    fn reseal_to_standing_team(&mut self, ring: &Keyring, stop: RekeyStop) -> Result<()> {
        let team = self.check_team()?;
        let standing: Vec<MemberRecord> = self
            .team_members()?
            .into_iter()
            .filter(|m| m.removed.is_none())
            .filter(|m| team.keys.get(&m.id).is_some_and(|k| k.trusted))
            .collect();
        let chart_key = keyring::crypto::new_chart_key().map_err(StoreError::Invalid)?;
        let mut entries = Vec::new();
        for m in &standing {
            let certified = ring.entries.iter().find(|e| {
                e.id == m.id
                    && e.agreement_public == m.agreement_public
                    && e.signing_public == m.signing_public
            });
            if let Some(e) = certified {
                entries.push(e.resealed(&chart_key)?);
            }
        }
        self.rekey_with(
            &Keyring {
                entries,
                damage: ring.damage.clone(),
            },
            chart_key,
            stop,
        )
    }

    /// Removed clinicians whose entry is still in the keyring beside the chart: a removal
    /// killed before it re-keyed the chart (their passphrase still opens the chart key).
    pub fn unfinished_removals(&self) -> Result<Vec<MemberRecord>> {
        let Some(ring) = keyring::read(&keyring::path_of(&self.path))? else {
            return Ok(Vec::new());
        };
        Ok(self
            .team_members()?
            .into_iter()
            .filter(|m| m.removed.is_some() && ring.entries.iter().any(|e| e.id == m.id))
            .collect())
    }

    /// Finishes removals killed before their re-key: the chart is re-keyed to a new key
    /// sealed to the standing team only. Only while this kapchart has the chart alone.
    pub(crate) fn finish_removals(&mut self) -> Result<()> {
        let ring = self.current_keyring()?;
        self.reseal_to_standing_team(&ring, RekeyStop::Never)
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
        keyring::write(
            &keyring::path_of(&self.path),
            &Keyring {
                entries,
                damage: ring.damage.clone(),
            },
        )
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
    pub keys: super::chain::TeamKeys,
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
        let before: i64 = super::audit::signed_from(&self.conn)
            .map_err(|e| self.err(e))?
            .map_or(i64::MAX, |(_, member)| member);
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
        let rows = stmt
            .query_map([], |r| {
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
            .map_err(|e| self.err(e))?;
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
                super::chain::MemberKey {
                    name: m.name.clone(),
                    key,
                    trusted,
                    removed_at_seq: m.removal_seq,
                },
            );
        }
        Ok(check)
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
    let role: Role = m
        .role
        .parse()
        .map_err(|e: String| format!("their role cannot be read ({e})"))?;
    let agreement: [u8; 32] = m
        .agreement
        .as_slice()
        .try_into()
        .map_err(|_| "their recorded X25519 key is not 32 bytes".to_string())?;
    let message = crate::domain::team::Certificate {
        clinician_id: m.clinician,
        name: &m.name,
        role,
        credentials: m.credentials.as_deref(),
        agreement_public: agreement,
        signing_public: key.to_bytes(),
        added_at: from_stored(m.added_at, 0).with_timezone(&chrono::Utc),
        certified_by: by,
    }
    .message_v1();
    let signature = ed25519_dalek::Signature::from_slice(signature)
        .map_err(|_| "their certificate's signature is not 64 bytes".to_string())?;
    certifier.verify_strict(&message, &signature).map_err(|_| {
        "their certificate does not verify over the name, role and keys the team holds for them (a key replaced behind kapchart's back)".to_string()
    })
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
