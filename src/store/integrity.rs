//! What `verify` checks beyond the audit chain: that the schema is exactly the one kapchart's
//! migrations build (every append-only trigger present and unchanged, nothing added), that
//! every stored payload still decodes, and the damage mark that stops writes to a chart
//! found damaged until it verifies again (after a restore).

use super::audit::Head;
use super::{Chart, Result, StoreError, schema};
use crate::domain::course::PatientDetails;
use crate::domain::{Flag, Payload};
use rusqlite::{Connection, OptionalExtension};
use std::path::{Path, PathBuf};

/// Sessions whose entry in the kept lists (`open_sessions`, `integrations_awaited`)
/// disagrees with the record, one line each: what `verify` reports. Recomputed from the
/// record by the rules the triggers keep.
const KEPT_LISTS_DISAGREEING: &str = "
    SELECT 'session ' || id || ' is open in the record but not in the open sessions list'
      FROM (SELECT id FROM sessions EXCEPT SELECT e.session_id FROM entries e
             WHERE e.kind = 'session-end'
               AND NOT EXISTS (SELECT 1 FROM entries x WHERE x.corrects = e.id)
            EXCEPT SELECT session_id FROM open_sessions)
    UNION ALL
    SELECT 'session ' || o.session_id || ' is in the open sessions list but the record has it ' ||
           CASE WHEN EXISTS (SELECT 1 FROM sessions WHERE id = o.session_id)
                THEN 'ended' ELSE 'nowhere' END
      FROM open_sessions o
     WHERE NOT EXISTS (SELECT 1 FROM sessions WHERE id = o.session_id)
        OR EXISTS (SELECT 1 FROM entries e WHERE e.session_id = o.session_id
                      AND e.kind = 'session-end'
                      AND NOT EXISTS (SELECT 1 FROM entries x WHERE x.corrects = e.id))
    UNION ALL
    SELECT 'dosing session ' || id || ' awaits its integration in the record but is not in the list of integrations awaited'
      FROM (SELECT s.id FROM sessions s WHERE s.kind = 'dosing'
               AND NOT EXISTS (SELECT 1 FROM sessions i WHERE i.dosing_session_id = s.id)
            EXCEPT SELECT dosing_session_id FROM integrations_awaited)
    UNION ALL
    SELECT 'session ' || a.dosing_session_id || ' is in the list of integrations awaited but the record has it ' ||
           CASE WHEN EXISTS (SELECT 1 FROM sessions WHERE id = a.dosing_session_id AND kind = 'dosing')
                THEN 'integrated' ELSE 'not a dosing session' END
      FROM integrations_awaited a
     WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = a.dosing_session_id AND s.kind = 'dosing')
        OR EXISTS (SELECT 1 FROM sessions i WHERE i.dosing_session_id = a.dosing_session_id)
    UNION ALL
    SELECT 'container V' || container_id || ' holds something in the record but is not in the list of containers on hand'
      FROM (SELECT container_id FROM stock_movements GROUP BY container_id
             HAVING sum(change_mg) > 0.0005
            EXCEPT SELECT container_id FROM stock_holding)
    UNION ALL
    SELECT 'container V' || h.container_id || ' is in the list of containers on hand but the record has it empty'
      FROM stock_holding h
     WHERE coalesce((SELECT sum(change_mg) FROM stock_movements m
                      WHERE m.container_id = h.container_id), 0) <= 0.0005";

/// The schema objects (type, name, SQL) kapchart's migrations build, in name order.
fn expected_schema() -> rusqlite::Result<Vec<(String, String, Option<String>)>> {
    let conn = Connection::open_in_memory()?;
    for sql in schema::MIGRATIONS {
        conn.execute_batch(sql)?;
    }
    schema_objects(&conn)
}

fn schema_objects(conn: &Connection) -> rusqlite::Result<Vec<(String, String, Option<String>)>> {
    let mut stmt = conn.prepare(
        "SELECT type, name, sql FROM sqlite_master
         WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
    )?;
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect()
}

impl Chart {
    /// Differences between the chart's schema and the one its migrations build: a trigger
    /// dropped, changed or added, a table or index altered. The search index's tables are
    /// left to [`Chart::search_index_problems`]: derived data, rebuilt rather than restored.
    pub fn schema_problems(&self) -> Result<Vec<String>> {
        Ok(self
            .schema_differences()?
            .into_iter()
            .filter(|(name, _)| !super::search_index::is_index_object(name))
            .map(|(_, what)| what)
            .collect())
    }

    /// Every difference between the chart's schema and the one its migrations build, with
    /// the name of the object it concerns.
    pub(super) fn schema_differences(&self) -> Result<Vec<(String, String)>> {
        let expected = expected_schema().map_err(|e| self.err(e))?;
        let found = schema_objects(&self.conn).map_err(|e| self.err(e))?;
        let mut problems = Vec::new();
        for (kind, name, sql) in &expected {
            match found.iter().find(|(k, n, _)| k == kind && n == name) {
                None => problems.push((name.clone(), format!("{kind} {name} is missing"))),
                Some((_, _, s)) if s != sql => {
                    problems.push((name.clone(), format!("{kind} {name} was changed")))
                }
                Some(_) => {}
            }
        }
        for (kind, name, _) in &found {
            if !expected.iter().any(|(k, n, _)| k == kind && n == name) {
                problems.push((
                    name.clone(),
                    format!("{kind} {name} is not kapchart's (added behind its back)"),
                ));
            }
        }
        Ok(problems)
    }

    /// Where the lists the chart keeps for the home screen (the open sessions, the
    /// integrations awaited: migration `HOME_LISTS_KEPT_BY_TRIGGERS`) disagree with the record,
    /// one line per session. They are derived from the record by triggers; a disagreement
    /// means they were changed behind kapchart's back.
    pub fn kept_lists_disagreeing(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare(KEPT_LISTS_DISAGREEING)
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<String>>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// Stored rows whose JSON no longer decodes: entries (payload and flags), patient
    /// details and course goals.
    pub fn undecodable_rows(&self) -> Result<Vec<String>> {
        let mut bad = Vec::new();
        let each = |sql: &str, check: &mut dyn FnMut(i64, &str, &str)| -> Result<()> {
            let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
            let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
            while let Some(r) = rows.next().map_err(|e| self.err(e))? {
                let id: i64 = r.get(0).map_err(|e| self.err(e))?;
                let a: String = r.get(1).unwrap_or_default();
                let b: String = r.get(2).unwrap_or_default();
                check(id, &a, &b);
            }
            Ok(())
        };
        each(
            "SELECT id, payload, flags FROM entries ORDER BY id",
            &mut |id, p, f| {
                if serde_json::from_str::<Payload>(p).is_err() {
                    bad.push(format!("entry {id}: its content does not decode"));
                }
                if serde_json::from_str::<Vec<Flag>>(f).is_err() {
                    bad.push(format!("entry {id}: its flags do not decode"));
                }
            },
        )?;
        each(
            "SELECT id, details, '' FROM patient_details ORDER BY id",
            &mut |id, d, _| {
                if serde_json::from_str::<PatientDetails>(d).is_err() {
                    bad.push(format!("patient details {id} do not decode"));
                }
            },
        )?;
        each(
            "SELECT id, goals, '' FROM courses ORDER BY id",
            &mut |id, g, _| {
                if serde_json::from_str::<Vec<String>>(g).is_err() {
                    bad.push(format!("course {id}: its goals do not decode"));
                }
            },
        )?;
        Ok(bad)
    }

    /// Marks the chart as found damaged, in two places so that removing one file does not
    /// clear it: `NAME.damaged` beside the chart (0600, what was found, for a person to
    /// read) and the keyring (`damage`). Every write is refused until a restore puts a sound
    /// chart and its keyring in place, or an admin acknowledges the damage (`acknowledge_damage`).
    /// Best effort: a chart on read-only media takes no writes anyway.
    /// `lost` are heads (of a backup) the chart no longer holds.
    pub fn mark_damaged(&self, problems: &[String], lost: &[Head]) {
        let mut lines: Vec<String> = problems.to_vec();
        lines.extend(lost.iter().map(|h| format!("{LOST_HEAD}{h}")));
        let mut text = String::from(
            "kapchart found this chart damaged; writes are refused until it is restored from a backup or an admin acknowledges the damage (kapchart verify --acknowledge --reason TEXT).\n",
        );
        for l in &lines {
            text.push_str(l);
            text.push('\n');
        }
        let mark = damage_mark(&self.path);
        let _ = std::fs::remove_file(&mark);
        if super::files::create_private_file(&mark).is_ok() {
            let _ = std::fs::write(&mark, text);
        }
        let _ = super::keyring::set_damage(&self.path, &lines);
    }

    /// The damage this chart is marked with (the keyring's, or the mark beside the chart),
    /// first line first; empty when none.
    pub fn damage_found(&self) -> Vec<String> {
        let from_ring = super::keyring::read(&super::keyring::path_of(&self.path))
            .ok()
            .flatten()
            .map(|r| r.damage)
            .unwrap_or_default();
        if !from_ring.is_empty() {
            return from_ring;
        }
        match std::fs::read_to_string(damage_mark(&self.path)) {
            Ok(text) => {
                let lines: Vec<String> = text.lines().skip(1).map(str::to_string).collect();
                if lines.is_empty() {
                    vec!["the chart was marked damaged".into()]
                } else {
                    lines
                }
            }
            Err(_) => Vec::new(),
        }
    }

    /// Refuses a write while the chart is marked damaged or a removal is unfinished. The
    /// marks are read once per open chart (the check on open sets them too).
    pub(super) fn check_not_damaged(&mut self) -> Result<()> {
        if let Some(why) = &self.held_back {
            return Err(StoreError::SignIn(why.clone()));
        }
        if !self.damage_cleared {
            self.damaged = self.damage_found().into_iter().next();
            self.damage_cleared = true;
        }
        match &self.damaged {
            Some(problem) => Err(StoreError::Damaged {
                path: self.path.clone(),
                problem: problem.strip_prefix(LOST_HEAD).map_or_else(
                    || problem.clone(),
                    |h| format!("the chart no longer holds the head {h}"),
                ),
            }),
            None => Ok(()),
        }
    }

    /// The check on open: what was written since the last head kapchart checked (kept beside
    /// the chart in `NAME.checked`) is walked as `verify` walks the whole chain (each row
    /// follows from the one before, its content unchanged, its author's signature holds),
    /// and the chart must still hold that head. Damage found marks the chart (writes stop).
    /// A missing record of the last head is no way around it: the whole chain is walked.
    /// On success the head checked is kept for the next open.
    pub(crate) fn check_since_last_head(&mut self) -> Result<()> {
        if self.read_only {
            return Ok(());
        }
        let found = self.damage_found();
        if !found.is_empty() {
            self.damaged = found.into_iter().next();
            self.damage_cleared = true;
            return Ok(());
        }
        let heads = read_checked_heads(&self.path);
        let mut last = heads.first().cloned();
        for h in &heads {
            if self.holds_head(h)? {
                last = Some(h.clone());
                break;
            }
        }
        if let Some(head) = &last
            && !self.holds_head(head)?
            && let Some(before) = self.restored_over(head)?
        {
            // A restore killed before it recorded the restored chart's head: the restored
            // chart names the head it replaced in its signed restore entry, and was verified
            // whole before it took the chart's place. The walk starts at that entry.
            last = Some(before);
        }
        let walked = self.check_team().and_then(|team| {
            super::audit::walk_after(&self.conn, last.as_ref(), &team.keys)
                .map(|walk| (team, walk))
                .map_err(|e| self.err(e))
        });
        let (team, walk) = match walked {
            Ok(found) => found,
            // A page that no longer decrypts is damage found, like any other: the chart is
            // still read where it can be, and nothing is written to it.
            Err(e @ StoreError::Corrupt { .. }) => {
                let problem = e.to_string();
                self.mark_damaged(std::slice::from_ref(&problem), &[]);
                self.damaged = Some(problem);
                self.damage_cleared = true;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let mut problems = Vec::new();
        if let Some(b) = &walk.first_break {
            problems.push(format!(
                "audit trail broken at sequence number {}: {}",
                b.seq, b.why
            ));
        }
        if let Some(b) = &walk.first_bad_signature {
            problems.push(format!(
                "signature broken at sequence number {}: {}",
                b.seq, b.why
            ));
        }
        problems.extend(team.problems.iter().cloned());
        if !problems.is_empty() {
            self.mark_damaged(&problems, &[]);
            self.damaged = problems.into_iter().next();
            self.damage_cleared = true;
            return Ok(());
        }
        self.damage_cleared = true;
        if let Some(head) = walk.last
            && Some(&head) != last.as_ref()
        {
            keep_checked(&self.path, &head);
        }
        Ok(())
    }

    /// When the newest restore in the chart replaced a chart whose head was `replaced`: the
    /// head just before the restore's own audit row.
    fn restored_over(&self, replaced: &Head) -> Result<Option<Head>> {
        let found: Option<(Option<String>, i64, String)> = self
            .conn
            .query_row(
                "SELECT r.replaced_head, a.seq, a.prev_hash FROM restores r
                   JOIN audit a ON a.object_kind = 'restore' AND a.object_id = r.id
                  ORDER BY r.id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(match found {
            Some((Some(head), seq, prev)) if head == replaced.to_string() && seq > 1 => {
                Some(Head {
                    seq: seq - 1,
                    hash: prev,
                })
            }
            _ => None,
        })
    }

    /// Keeps `head` as the last head checked (after `verify` found the chart sound, or a
    /// restore or an acknowledgement).
    pub(crate) fn keep_checked_head(&self) -> Result<()> {
        if let Some(head) = self.head()? {
            keep_checked(&self.path, &head);
        }
        Ok(())
    }
}

/// Where the last head checked is kept.
fn checked_path(chart: &Path) -> PathBuf {
    super::files::sibling(chart, ".checked")
}

/// The heads kept as checked: one, or two while a restore puts a chart in place (the head
/// the replaced chart was checked at, and the restored chart's), whichever chart is there.
fn read_checked_heads(chart: &Path) -> Vec<Head> {
    std::fs::read_to_string(checked_path(chart))
        .map(|text| text.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default()
}

/// Keeps several heads as checked (see `read_checked_heads`).
pub(super) fn keep_checked_heads(chart: &Path, heads: &[Head]) {
    let path = checked_path(chart);
    let temp = super::files::sibling(&path, &format!(".tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    let text: String = heads.iter().map(|h| format!("{h}\n")).collect();
    if super::files::create_private_file(&temp).is_ok()
        && std::fs::write(&temp, text).is_ok()
        && std::fs::rename(&temp, &path).is_ok()
    {
        return;
    }
    let _ = std::fs::remove_file(&temp);
}

/// The last head checked, as kept beside the chart.
pub(super) fn read_checked(chart: &Path) -> Option<Head> {
    read_checked_heads(chart).into_iter().next()
}

/// Writes the last head checked atomically (a temporary file renamed over it). Not synced:
/// a crash that loses it only makes the next open check more of the chain.
pub(super) fn keep_checked(chart: &Path, head: &Head) {
    let path = checked_path(chart);
    let temp = super::files::sibling(&path, &format!(".tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    if super::files::create_private_file(&temp).is_ok()
        && std::fs::write(&temp, format!("{head}\n")).is_ok()
        && std::fs::rename(&temp, &path).is_ok()
    {
        return;
    }
    let _ = std::fs::remove_file(&temp);
}

/// How the damage mark names a head the chart lost.
const LOST_HEAD: &str = "lost head ";

/// Where the damage mark of the chart at `chart` lives.
pub fn damage_mark(chart: &Path) -> PathBuf {
    let mut s = chart.as_os_str().to_owned();
    s.push(".damaged");
    PathBuf::from(s)
}

/// The head of another chart file (a backup), read without writing a byte to it: the
/// backup is opened read-only and not migrated.
/// The head of a backup: opened with `who`'s passphrase through the keyring beside it, or
/// with the passphrase itself for a backup from before keyrings.
pub fn head_of_copy(path: &Path, who: &str, passphrase: &str) -> Result<Option<Head>> {
    if !path.exists() {
        return Err(StoreError::NoChart(path.to_path_buf()));
    }
    let wrap = |e| StoreError::from_sqlite(e, path);
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(wrap)?;
    let secret = super::copy_secret(path, who, passphrase)?;
    super::key(&conn, &secret).map_err(|e| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => StoreError::WrongPassphrase,
        _ => wrap(e),
    })?;
    super::audit::head(&conn).map_err(wrap)
}

impl Chart {
    /// The problems admins have acknowledged (`acknowledge_damage`), one line each.
    pub fn acknowledged_problems(&self) -> Result<std::collections::HashSet<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT problems FROM damage_acknowledgements ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))?;
        Ok(rows
            .iter()
            .flat_map(|p| p.lines().map(str::to_string))
            .collect())
    }

    /// An admin acknowledges `problems` (what `verify` found, and the marks' own lines) with
    /// a reason: one signed, audited row, after which the marks go and writes go on. The
    /// problems stay in the record: `verify` still reports them, as acknowledged.
    pub fn acknowledge_damage(
        &mut self,
        problems: &[String],
        reason: &str,
        now: chrono::DateTime<chrono::FixedOffset>,
    ) -> Result<()> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::Invalid(
                "an acknowledgement needs a reason, e.g. --reason \"restored entries checked against the paper record\"".into(),
            ));
        }
        super::check_text(crate::domain::text::REASON, reason)?;
        self.require_admin("acknowledge damage")?;
        if problems.is_empty() {
            return Err(StoreError::Invalid(
                "there is no damage to acknowledge: the chart verifies and carries no mark".into(),
            ));
        }
        let text = problems.join("\n");
        let by = self.clinician.id;
        let saved = (self.damaged.take(), self.damage_cleared);
        self.damage_cleared = true;
        let written = self.write(|tx| {
            tx.execute(
                "INSERT INTO damage_acknowledgements (at, by_id, problems, reason)
                 VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![now.timestamp_millis(), by, text, reason],
            )?;
            let id = tx.last_insert_rowid();
            tx.record(
                now.timestamp_millis(),
                by,
                "damage.acknowledge",
                super::audit::ObjectKind::DamageAcknowledgement,
                id,
            )?;
            Ok(())
        });
        if let Err(e) = written {
            (self.damaged, self.damage_cleared) = saved;
            return Err(e);
        }
        super::keyring::set_damage(&self.path, &[])?;
        let _ = std::fs::remove_file(damage_mark(&self.path));
        self.keep_checked_head()
    }
}
