//! What `verify` checks beyond the audit chain: that the schema is exactly the one kapchart's
//! migrations build (every append-only trigger present and unchanged, nothing added), that
//! every stored payload still decodes, and the damage mark that stops writes to a chart
//! found damaged until it verifies again (after a restore).

use super::audit::Head;
use super::{Chart, Result, StoreError, schema};
use crate::domain::course::PatientDetails;
use crate::domain::{Flag, Payload};
use rusqlite::Connection;
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
        OR EXISTS (SELECT 1 FROM sessions i WHERE i.dosing_session_id = a.dosing_session_id)";

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
    /// dropped, changed or added, a table or index altered.
    pub fn schema_problems(&self) -> Result<Vec<String>> {
        let expected = expected_schema().map_err(|e| self.err(e))?;
        let found = schema_objects(&self.conn).map_err(|e| self.err(e))?;
        let mut problems = Vec::new();
        for (kind, name, sql) in &expected {
            match found.iter().find(|(k, n, _)| k == kind && n == name) {
                None => problems.push(format!("{kind} {name} is missing")),
                Some((_, _, s)) if s != sql => problems.push(format!("{kind} {name} was changed")),
                Some(_) => {}
            }
        }
        for (kind, name, _) in &found {
            if !expected.iter().any(|(k, n, _)| k == kind && n == name) {
                problems.push(format!(
                    "{kind} {name} is not kapchart's (added behind its back)"
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

    /// Marks the chart as found damaged (beside it, `NAME.damaged` with what was found):
    /// every write refuses until the chart verifies again. Best effort: a chart on read-only
    /// media takes no writes anyway.
    /// `lost` are heads (of a backup) the chart no longer holds: writes stay refused until
    /// the chart holds them again.
    pub fn mark_damaged(&self, problems: &[String], lost: &[Head]) {
        let mut text = String::from(
            "kapchart verify found this chart damaged; writes are refused until it is restored from a backup.\n",
        );
        for p in problems {
            text.push_str(p);
            text.push('\n');
        }
        for h in lost {
            text.push_str(&format!("{LOST_HEAD}{h}\n"));
        }
        let _ = std::fs::write(damage_mark(&self.path), text);
    }

    /// Refuses a write while the chart carries a damage mark, unless it verifies again now
    /// (it was restored), in which case the mark goes. Checked once per open chart.
    pub(super) fn check_not_damaged(&mut self) -> Result<()> {
        if let Some(why) = &self.held_back {
            return Err(StoreError::SignIn(why.clone()));
        }
        if self.damage_cleared {
            return Ok(());
        }
        let mark = damage_mark(&self.path);
        if mark.exists() {
            let report = self.verify()?;
            let mut problems = report.damage();
            let text = std::fs::read_to_string(&mark).unwrap_or_default();
            for line in text.lines() {
                let Some(head) = line.strip_prefix(LOST_HEAD) else {
                    continue;
                };
                if let Ok(h) = head.parse::<Head>()
                    && !self.holds_head(&h)?
                {
                    problems.push(format!("the chart no longer holds the head {h}"));
                }
            }
            if let Some(problem) = problems.into_iter().next() {
                return Err(StoreError::Damaged {
                    path: self.path.clone(),
                    problem,
                });
            }
            let _ = std::fs::remove_file(&mark);
        }
        self.damage_cleared = true;
        Ok(())
    }
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
