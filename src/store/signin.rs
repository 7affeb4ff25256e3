//! Opening a chart as one clinician of its team: their passphrase opens their keys in the
//! keyring, their keys open the chart key, the chart key opens the chart. A chart from
//! before keyrings opens with its passphrase and is upgraded to a keyring when no other
//! kapchart has it open.

use super::keyring::{self, Keyring, Unlocked};
use super::{Chart, ChartSecret, Result, StoreError, files, key, lock, schema};
use crate::domain::Clinician;
use crate::domain::team::Role;
use chrono::{DateTime, FixedOffset};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

impl Chart {
    /// Creates a chart as kapchart did before keyrings: keyed with the passphrase itself,
    /// no team. For tests of the upgrade only.
    #[doc(hidden)]
    pub fn create_without_keyring(
        path: &Path,
        passphrase: &str,
        clinician: &str,
        busy_timeout_ms: u32,
        now: DateTime<FixedOffset>,
    ) -> Result<()> {
        files::create_private_file(path)?;
        let lock = lock::ChartLock::shared(path, Duration::from_millis(busy_timeout_ms.into()))?;
        let wrap = |e| StoreError::from_sqlite(e, path);
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(wrap)?;
        let secret = ChartSecret::Passphrase(zeroize::Zeroizing::new(passphrase.to_string()));
        key(&conn, &secret).map_err(wrap)?;
        conn.pragma_update(None, "application_id", schema::APPLICATION_ID)
            .map_err(wrap)?;
        // As that kapchart built it: the schema it had (before signed rows), its clinician
        // and their unsigned audit row.
        let wrap = |e| StoreError::from_sqlite(e, path);
        let mut chart = Chart::nobody_signed_in(conn, path, secret, false, Some(lock));
        chart
            .conn
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(wrap)?;
        chart.migrate(schema::signed_chain_version() - 1)?;
        let tx = chart.conn.transaction().map_err(wrap)?;
        tx.execute(
            "INSERT INTO clinicians (name, created_at) VALUES (?1, ?2)",
            rusqlite::params![clinician.trim(), now.timestamp_millis()],
        )
        .map_err(wrap)?;
        let id = tx.last_insert_rowid();
        super::audit::record_unsigned(
            &tx,
            now.timestamp_millis(),
            None,
            "clinician.add",
            super::audit::ObjectKind::Clinician,
            id,
        )
        .map_err(wrap)?;
        tx.commit().map_err(wrap)?;
        Ok(())
    }

    /// Opens the chart at `path` signed in as `who` (an id or a name, any case; empty for the
    /// team's only clinician). A clinician and passphrase that do not go together are
    /// refused with the chart and keyring untouched, without saying which was wrong. A
    /// removed clinician is refused.
    pub fn open_as(
        path: &Path,
        who: &str,
        passphrase: &str,
        busy_timeout_ms: u32,
    ) -> Result<Chart> {
        Chart::open_with_lock(path, who, passphrase, busy_timeout_ms, false, 0)
    }

    /// Like `open_as`, but only while no other kapchart has the chart open (refused naming
    /// them otherwise); for what re-keys the chart (removing a clinician).
    pub fn open_alone_as(
        path: &Path,
        who: &str,
        passphrase: &str,
        busy_timeout_ms: u32,
    ) -> Result<Chart> {
        Chart::open_with_lock(path, who, passphrase, busy_timeout_ms, true, 0)
    }

    /// `depth` counts the times opening went from the keyring to the passphrase and back
    /// (an upgrade by another kapchart while this one waited): a few at most.
    fn open_with_lock(
        path: &Path,
        who: &str,
        passphrase: &str,
        busy_timeout_ms: u32,
        alone: bool,
        depth: u8,
    ) -> Result<Chart> {
        if !path.exists() {
            return Err(StoreError::NoChart(path.to_path_buf()));
        }
        if depth > 3 {
            return Err(StoreError::Invalid(format!(
                "the chart {} and its keyring do not open together; nothing was changed: restore both from a backup",
                path.display()
            )));
        }
        let wait = Duration::from_millis(busy_timeout_ms.into());
        let held = if alone {
            lock::ChartLock::exclusive(path)?
        } else {
            lock::ChartLock::shared(path, wait)?
        };
        let ring_path = keyring::path_of(path);
        let new_path = keyring::new_path_of(path);
        let ring = keyring::read(&ring_path)?;
        let ring_new = keyring::read(&new_path)?;
        if ring.is_none() && ring_new.is_none() {
            drop(held);
            return Chart::open_before_keyring(
                path,
                who,
                passphrase,
                busy_timeout_ms,
                alone,
                depth,
            );
        }
        // The keyring first; then the `.new` one a re-key writes before it re-keys the chart
        // (a kill between the two steps leaves the chart on either key).
        let mut refusal = None;
        for (ring, journal) in [(ring.as_ref(), false), (ring_new.as_ref(), true)] {
            let Some(ring) = ring else { continue };
            let entry = match ring.find(who) {
                Ok(e) => e,
                // A removal's new keyring lacks the removed clinician: the keyring decides.
                Err(e) => {
                    refusal.get_or_insert(e);
                    continue;
                }
            };
            let Some(unlocked) = entry.unlock(passphrase)? else {
                // With nobody named (a team of one), only the passphrase can be wrong.
                refusal.get_or_insert(if who.trim().is_empty() {
                    StoreError::WrongPassphrase
                } else {
                    StoreError::WrongSignIn
                });
                continue;
            };
            let secret = ChartSecret::Raw(unlocked.chart_key.clone());
            let mut chart = match Chart::open_unlocked(path, &secret, busy_timeout_ms) {
                Ok(c) => c,
                Err(StoreError::WrongPassphrase) => {
                    refusal = Some(StoreError::Invalid(format!(
                        "the keyring {} does not open this chart (they do not belong together); restore both from a backup",
                        ring_path.display()
                    )));
                    continue;
                }
                Err(e) => return Err(e),
            };
            if !chart.read_only {
                if journal {
                    // The chart was re-keyed: the new keyring takes the old one's place.
                    keyring::promote(&new_path, &ring_path)?;
                } else if new_path.exists() {
                    // A re-key that did not get as far as the chart: its keyring is of no use.
                    let _ = std::fs::remove_file(&new_path);
                }
                files::remove_stale_restores(path);
                keyring::remove_stale_temporaries(path);
            }
            chart.signed_in_from(entry.id, unlocked)?;
            chart.alone = alone;
            chart._lock = Some(held);
            if !chart.read_only {
                chart.settle_interrupted_add()?;
            }
            if !chart.read_only && !chart.unfinished_removals()?.is_empty() {
                if alone {
                    chart.finish_removals()?;
                } else if depth < UNFINISHED {
                    // A removal killed before its re-key: finished now if no other kapchart
                    // has the chart open, else writes wait for the kapchart that can.
                    drop(chart);
                    return match Chart::open_with_lock(
                        path,
                        who,
                        passphrase,
                        busy_timeout_ms,
                        true,
                        depth + 1,
                    ) {
                        Ok(mut finished) => {
                            if let Some(lock) = &finished._lock {
                                lock.share();
                            }
                            finished.alone = false;
                            Ok(finished)
                        }
                        Err(StoreError::InUse { holders, .. }) => {
                            let mut held = Chart::open_with_lock(
                                path,
                                who,
                                passphrase,
                                busy_timeout_ms,
                                false,
                                UNFINISHED,
                            )?;
                            if let Some(why) = &mut held.held_back {
                                *why = why.replace(
                                    "another kapchart",
                                    &format!(
                                        "another kapchart ({})",
                                        if holders.is_empty() {
                                            "another process".to_string()
                                        } else {
                                            holders.join(", ")
                                        }
                                    ),
                                );
                            }
                            Ok(held)
                        }
                        Err(e) => Err(e),
                    };
                } else {
                    let names = chart
                        .unfinished_removals()?
                        .into_iter()
                        .map(|m| m.name)
                        .collect::<Vec<_>>()
                        .join(", ");
                    chart.held_back = Some(format!(
                        "the removal of {names} from the team is not finished (their passphrase still opens the chart key) and cannot be finished while another kapchart has the chart open: close it there, then run kapchart again, which finishes the removal; nothing was written"
                    ));
                }
            }
            chart.check_since_last_head()?;
            return Ok(chart);
        }
        if ring.is_none() {
            // Only a `.new` keyring, and it does not open the chart: an upgrade was killed
            // before it re-keyed the chart, which still opens with its passphrase.
            drop(held);
            let _ = std::fs::remove_file(&new_path);
            return Chart::open_before_keyring(
                path,
                who,
                passphrase,
                busy_timeout_ms,
                alone,
                depth,
            );
        }
        if ring_new.as_ref().is_some_and(|r| r.entries.is_empty()) {
            // An empty `.new` keyring: a restore of a backup from before keyrings, killed
            // after the chart was put in place. If the chart opens with the passphrase, the
            // old keyring is of no use any more.
            let secret = ChartSecret::passphrase(passphrase);
            if Chart::open_unlocked(path, &secret, busy_timeout_ms).is_ok() {
                let _ = std::fs::remove_file(&ring_path);
                let _ = std::fs::remove_file(&new_path);
                drop(held);
                return Chart::open_before_keyring(
                    path,
                    who,
                    passphrase,
                    busy_timeout_ms,
                    alone,
                    depth,
                );
            }
        }
        Err(refusal.unwrap_or(StoreError::WrongSignIn))
    }

    /// The key derivation of a sign-in alone: reads the chart's keyring and unwraps `who`'s
    /// keys with `passphrase` (Argon2id at the keyring's cost), then unseals the chart key.
    /// True when they fit. For the bench that times what a sign-in costs before SQLite.
    #[cfg(any(test, feature = "testing"))]
    pub fn unwrap_chart_key_only(path: &Path, who: &str, passphrase: &str) -> Result<bool> {
        let Some(ring) = keyring::read(&keyring::path_of(path))? else {
            return Ok(false);
        };
        Ok(ring.find(who)?.unlock(passphrase)?.is_some())
    }

    /// A connection to the chart keyed as `who` would open it, without kapchart's lock or
    /// checks: for tests that must act behind kapchart's back.
    #[doc(hidden)]
    pub fn open_raw_connection(
        path: &Path,
        who: &str,
        passphrase: &str,
    ) -> Result<rusqlite::Connection> {
        let secret = match keyring::read(&keyring::path_of(path))? {
            Some(ring) => {
                let entry = ring.find(who)?;
                let unlocked = entry.unlock(passphrase)?.ok_or(StoreError::WrongSignIn)?;
                ChartSecret::Raw(unlocked.chart_key)
            }
            None => ChartSecret::passphrase(passphrase),
        };
        let conn =
            rusqlite::Connection::open(path).map_err(|e| StoreError::from_sqlite(e, path))?;
        super::key(&conn, &secret).map_err(|e| StoreError::from_sqlite(e, path))?;
        Ok(conn)
    }

    /// Makes the clinician `id` of the keyring the signed-in one: they must be on the team
    /// in the chart, not removed, with the same public keys as in the keyring.
    fn signed_in_from(&mut self, id: i64, unlocked: Unlocked) -> Result<()> {
        if self.member(id)?.is_none() && self.founding_admin_missing(id)? && !self.read_only {
            // An upgrade killed after the chart was re-keyed: the first admin's record.
            let now = crate::clock::now();
            self.record_first_admin(id, &unlocked.keys, now)?;
        }
        let member = self.member(id)?.ok_or_else(|| {
            StoreError::SignIn(format!(
                "clinician {id} is in the keyring but not on this chart's team; nothing was changed"
            ))
        })?;
        if let Some(removal) = &member.removed {
            return Err(StoreError::SignIn(format!(
                "{} was removed from this chart's team ({}); nothing was changed",
                member.name, removal
            )));
        }
        if member.signing_public != unlocked.keys.signing_public()
            || member.agreement_public != unlocked.keys.agreement_public()
        {
            return Err(StoreError::Invalid(format!(
                "the keys of {} in the keyring differ from those the chart recorded; restore the keyring with its chart from a backup",
                member.name
            )));
        }
        self.clinician = Clinician {
            id: member.id,
            name: member.name,
        };
        self.secret = ChartSecret::Raw(unlocked.chart_key);
        self.keys = Some(unlocked.keys);
        Ok(())
    }

    /// Switches the signed-in clinician of this open chart to `who`, after checking that
    /// their passphrase opens their keys and that those open this chart. On any failure the
    /// signed-in clinician stays as they were.
    pub fn sign_in(&mut self, who: &str, passphrase: &str) -> Result<Clinician> {
        let ChartSecret::Raw(current) = &self.secret else {
            return Err(StoreError::SignIn(
                "this chart has no team yet: it is upgraded to one the next time it is opened while no other kapchart has it open".into(),
            ));
        };
        let ring = keyring::read(&keyring::path_of(&self.path))?.unwrap_or_default();
        let entry = ring.find(who)?;
        let unlocked = entry.unlock(passphrase)?.ok_or(StoreError::WrongSignIn)?;
        if unlocked.chart_key.as_ref() != current.as_ref() {
            return Err(StoreError::WrongSignIn);
        }
        let before = (
            self.clinician.clone(),
            self.keys.take(),
            self.secret.clone(),
        );
        match self.signed_in_from(entry.id, unlocked) {
            Ok(()) => Ok(self.clinician.clone()),
            Err(e) => {
                (self.clinician, self.keys, self.secret) = before;
                Err(e)
            }
        }
    }

    /// A chart without a keyring opens with its passphrase, as the clinician who created it.
    /// When no other kapchart has it open, it is upgraded there and then: a random chart key
    /// replaces the passphrase as the chart's key, and the creator becomes the team's first
    /// admin with the same passphrase. Otherwise it opens as before and is upgraded next time.
    fn open_before_keyring(
        path: &Path,
        who: &str,
        passphrase: &str,
        busy_timeout_ms: u32,
        alone: bool,
        depth: u8,
    ) -> Result<Chart> {
        let secret = ChartSecret::passphrase(passphrase);
        let exclusive = match lock::ChartLock::exclusive(path) {
            Ok(l) => Some(l),
            Err(e) if alone => return Err(e),
            Err(_) => None,
        };
        let Some(exclusive) = exclusive else {
            let held =
                lock::ChartLock::shared(path, Duration::from_millis(busy_timeout_ms.into()))?;
            if keyring::path_of(path).exists() || keyring::new_path_of(path).exists() {
                // Another kapchart upgraded it while this one waited for the lock.
                drop(held);
                return Chart::open_with_lock(
                    path,
                    who,
                    passphrase,
                    busy_timeout_ms,
                    alone,
                    depth + 1,
                );
            }
            let mut chart = Chart::open_unlocked(path, &secret, busy_timeout_ms)
                .map_err(|e| no_keyring(e, path))?;
            chart.check_who_before_keyring(who)?;
            chart._lock = Some(held);
            return Ok(chart);
        };
        let mut chart = Chart::open_unlocked(path, &secret, busy_timeout_ms)
            .map_err(|e| no_keyring(e, path))?;
        chart.check_who_before_keyring(who)?;
        // On read-only media, or in a chart with nobody in it to make the first admin
        // (a copy from kapchart's earliest schema), it stays as it is.
        if chart.read_only || chart.first_clinician()?.is_none() {
            chart._lock = Some(exclusive);
            return Ok(chart);
        }
        files::remove_stale_restores(path);
        chart._lock = Some(exclusive);
        chart.alone = true;
        let now = crate::clock::now();
        chart.found_team(passphrase, now)?;
        drop(chart);
        Chart::open_with_lock(path, who, passphrase, busy_timeout_ms, alone, depth + 1)
    }

    fn check_who_before_keyring(&self, who: &str) -> Result<()> {
        let c = &self.clinician;
        let named = who.trim().is_empty()
            || who.trim() == c.id.to_string()
            || who.trim().to_lowercase() == c.name.trim().to_lowercase();
        if named {
            Ok(())
        } else {
            Err(StoreError::SignIn(format!(
                "this chart has no team yet: only {} (id {}) charts in it until it is upgraded",
                c.name, c.id
            )))
        }
    }

    /// Makes the signed-in clinician (the chart's first) the team's first admin, with
    /// `passphrase`, and the chart's key a random one sealed to them. A new chart: the
    /// keyring is written directly. A chart from before keyrings (keyed with the passphrase):
    /// the keyring is written as `.new`, the chart re-keyed, then the keyring takes its name,
    /// so that a kill at any step leaves a chart that opens with the passphrase.
    pub(crate) fn found_team(
        &mut self,
        passphrase: &str,
        now: chrono::DateTime<chrono::FixedOffset>,
    ) -> Result<()> {
        self.found_team_until(passphrase, now, RekeyStop::Never)
    }

    /// Upgrades the chart from before keyrings at `path` and stops where `stop` says, as if
    /// kapchart were killed there: for tests of what such a kill leaves.
    #[doc(hidden)]
    pub fn upgrade_interrupted(
        path: &Path,
        passphrase: &str,
        busy_timeout_ms: u32,
        stop: RekeyStop,
    ) -> Result<()> {
        let exclusive = lock::ChartLock::exclusive(path)?;
        let mut chart =
            Chart::open_unlocked(path, &ChartSecret::passphrase(passphrase), busy_timeout_ms)?;
        chart._lock = Some(exclusive);
        chart.alone = true;
        chart.found_team_until(passphrase, crate::clock::now(), stop)
    }

    fn found_team_until(
        &mut self,
        passphrase: &str,
        now: chrono::DateTime<chrono::FixedOffset>,
        stop: RekeyStop,
    ) -> Result<()> {
        let keys = keyring::crypto::PrivateKeys::generate().map_err(StoreError::Invalid)?;
        let first = self.clinician.clone();
        let chart_key = match &self.secret {
            ChartSecret::Raw(k) => k.clone(),
            ChartSecret::Passphrase(_) => {
                keyring::crypto::new_chart_key().map_err(StoreError::Invalid)?
            }
        };
        let entry = keyring::Entry::new(
            first.id,
            &first.name,
            Role::Admin,
            &keys,
            passphrase,
            &chart_key,
        )?;
        let ring = Keyring {
            entries: vec![entry],
            ..Keyring::default()
        };
        match &self.secret {
            ChartSecret::Raw(_) => keyring::write(&keyring::path_of(&self.path), &ring)?,
            ChartSecret::Passphrase(_) => {
                self.rekey_with(&ring, chart_key, stop)?;
                if stop != RekeyStop::Never {
                    return Ok(());
                }
            }
        }
        // Last: a kill before this leaves the keyring without the chart's record of the
        // admin, which the next sign-in completes (`signed_in_from`).
        self.record_first_admin(first.id, &keys, now)?;
        self.keys = Some(keys);
        Ok(())
    }

    /// A new chart's team: its first clinician, the first admin, with their keys certified
    /// by themselves (the chart's root), in one signed write; then the keyring, with the
    /// chart key sealed to them.
    pub(crate) fn found_new_team(
        &mut self,
        name: &str,
        passphrase: &str,
        now: chrono::DateTime<chrono::FixedOffset>,
    ) -> Result<()> {
        let ChartSecret::Raw(chart_key) = &self.secret else {
            return Err(StoreError::Invalid(
                "a new chart is keyed with a chart key".into(),
            ));
        };
        let chart_key = chart_key.clone();
        let keys = keyring::crypto::PrivateKeys::generate().map_err(StoreError::Invalid)?;
        // The new chart has no clinician yet: the first one is id 1.
        let id = 1;
        let entry = keyring::Entry::new(id, name, Role::Admin, &keys, passphrase, &chart_key)?;
        self.keys = Some(keys);
        self.found_first_admin(id, name, now)?;
        self.clinician = Clinician {
            id,
            name: name.to_string(),
        };
        keyring::write(
            &keyring::path_of(&self.path),
            &Keyring {
                entries: vec![entry],
                ..Keyring::default()
            },
        )
    }
}

/// The depth at which opening no longer tries to finish an unfinished removal alone (it was
/// tried once, and another kapchart has the chart open).
const UNFINISHED: u8 = 2;

/// Where a re-key stops early: for tests of what a kill between its steps leaves.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RekeyStop {
    Never,
    /// After writing `NAME.keyring.new`, before re-keying the chart.
    AfterJournal,
    /// After re-keying the chart, before the new keyring takes its name.
    AfterRekey,
}

impl Chart {
    /// Re-keys the chart to `chart_key` with `ring` (already sealed to it) as its keyring:
    /// `.new` first, then the chart, then the rename. Only while this process holds the
    /// chart alone.
    pub(crate) fn rekey_with(
        &mut self,
        ring: &Keyring,
        chart_key: keyring::crypto::Secret32,
        stop: RekeyStop,
    ) -> Result<()> {
        if !self.alone {
            return Err(StoreError::Invalid(
                "the chart must be open in this kapchart alone to be re-keyed".into(),
            ));
        }
        let ring_path = keyring::path_of(&self.path);
        let new_path = keyring::new_path_of(&self.path);
        keyring::write(&new_path, ring)?;
        if stop == RekeyStop::AfterJournal {
            return Ok(());
        }
        if let Err(e) = self.rekey_to(ChartSecret::Raw(chart_key)) {
            let _ = std::fs::remove_file(&new_path);
            return Err(e);
        }
        if stop == RekeyStop::AfterRekey {
            return Ok(());
        }
        keyring::promote(&new_path, &ring_path)
    }
}

/// A chart without a keyring that the passphrase does not open: the keyring may be missing.
fn no_keyring(e: StoreError, path: &Path) -> StoreError {
    match e {
        StoreError::WrongPassphrase => StoreError::WrongPassphraseOrNoKeyring(path.to_path_buf()),
        other => other,
    }
}
