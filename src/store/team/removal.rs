//! Removing a clinician from the team, and re-keying: each removal re-keys the chart to a
//! new chart key sealed only to the clinicians who stay, so the removed one's passphrase no
//! longer opens it; a removal interrupted is finished by the next kapchart that has the
//! chart alone. Changing one's passphrase re-seals the same key.

use super::*;

impl Chart {
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
