//! The Spravato REMS queue as the chart holds it: which sessions gave a REMS drug, and which of
//! them have a submission charted. Read with one indexed statement each, so that the home
//! screen's count never decodes a session.

use super::{Chart, Result};
use crate::domain::SessionId;
use chrono::NaiveDate;

/// The REMS treatments without a submission that stands: how many, and the earliest
/// treatment date among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RemsOutstanding {
    pub count: usize,
    pub earliest_treatment: Option<NaiveDate>,
}

/// Dosing sessions with a dose of one of the drugs (`?1`, a JSON array) that stands, each with
/// the local date of its first such dose. `{dose_index}` is empty (SQLite chooses; the
/// covering `entries_dose_drug_time`) or pins the index of the first pass.
const TREATED: &str = "
    SELECT d.session_id AS sid,
           min(date(d.event_at / 1000 + d.event_offset, 'unixepoch')) AS day
      FROM entries d {dose_index}
     WHERE d.kind = 'dose'
       AND json_extract(d.payload, '$.drug') IN (SELECT value FROM json_each(?1))
       AND NOT EXISTS (SELECT 1 FROM entries x WHERE x.corrects = d.id)
     GROUP BY d.session_id";

/// A standing submission of the session `t.sid`. Uses `entries_rems_submitted`.
const SUBMITTED: &str = "
    EXISTS (SELECT 1 FROM entries r
             WHERE r.session_id = t.sid AND r.kind = 'rems-submitted'
               AND NOT EXISTS (SELECT 1 FROM entries x WHERE x.corrects = r.id))";

/// The forms still due, reading no dose row: the sessions with a standing dose of one of the
/// drugs (`?1`) from the covering `entries_dose_drug_time` index, less those with a standing
/// submission (`entries_rems_submitted`), and only then, for the dosing sessions left, the
/// local date of their first such dose (the same date `TREATED` gives), from the same index.
const OUTSTANDING_READING_ONLY_THEIR_DOSES: &str = "
    WITH t AS (
        SELECT DISTINCT d.session_id AS sid FROM entries d
         WHERE d.kind = 'dose'
           AND json_extract(d.payload, '$.drug') IN (SELECT value FROM json_each(?1))
           AND NOT EXISTS (SELECT 1 FROM entries x WHERE x.corrects = d.id)),
    due AS (
        SELECT t.sid FROM t
         WHERE NOT {SUBMITTED}
           AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = t.sid AND s.kind = 'dosing'))
    SELECT count(*), min(
        (SELECT min(date(d.event_at / 1000 + d.event_offset, 'unixepoch')) FROM entries d
          WHERE d.session_id = due.sid AND d.kind = 'dose'
            AND json_extract(d.payload, '$.drug') IN (SELECT value FROM json_each(?1))
            AND NOT EXISTS (SELECT 1 FROM entries x WHERE x.corrects = d.id)))
      FROM due";

/// How [`Chart::rems_outstanding_by`] finds the forms still due: from the covering index of
/// the doses with their time, dates worked out only for the forms still due, or as before
/// (every REMS dose's row read for its time, by `entries_dose_drug`), kept so that a bench
/// and a test can hold the two to the same answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemsScan {
    ReadingOnlyOutstandingDoses,
    /// Kept for the tests and benches only (the `testing` feature).
    #[cfg(any(test, feature = "testing"))]
    ReadingEveryDose,
}

fn outstanding_sql(scan: RemsScan) -> String {
    match scan {
        RemsScan::ReadingOnlyOutstandingDoses => {
            OUTSTANDING_READING_ONLY_THEIR_DOSES.replace("{SUBMITTED}", SUBMITTED)
        }
        #[cfg(any(test, feature = "testing"))]
        RemsScan::ReadingEveryDose => format!(
            "WITH t AS ({})
             SELECT count(*), min(t.day) FROM t JOIN sessions s ON s.id = t.sid
              WHERE s.kind = 'dosing' AND NOT {SUBMITTED}",
            TREATED.replace("{dose_index}", "INDEXED BY entries_dose_drug")
        ),
    }
}

fn drugs_json(drugs: &[String]) -> String {
    serde_json::Value::from(
        drugs
            .iter()
            .map(|d| d.trim().to_lowercase())
            .collect::<Vec<_>>(),
    )
    .to_string()
}

fn day(text: Option<String>) -> Option<NaiveDate> {
    text.and_then(|t| NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok())
}

impl Chart {
    /// The dosing sessions in which one of `drugs` was given (a dose that stands), oldest
    /// treatment first.
    pub fn rems_sessions(&self, drugs: &[String]) -> Result<Vec<SessionId>> {
        let sql = format!(
            "WITH t AS ({})
             SELECT t.sid FROM t JOIN sessions s ON s.id = t.sid
              WHERE s.kind = 'dosing' ORDER BY t.day, t.sid",
            TREATED.replace("{dose_index}", "")
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([drugs_json(drugs)], |r| r.get(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<SessionId>>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// How many dosing sessions with one of `drugs` have no submission standing, and the
    /// earliest treatment date among them: one statement on the two REMS indexes, reading
    /// dose rows only for the forms still due.
    pub fn rems_outstanding(&self, drugs: &[String]) -> Result<RemsOutstanding> {
        self.rems_outstanding_by(drugs, RemsScan::ReadingOnlyOutstandingDoses)
    }

    /// [`Chart::rems_outstanding`], found as `scan` says (the same answer either way).
    pub fn rems_outstanding_by(&self, drugs: &[String], scan: RemsScan) -> Result<RemsOutstanding> {
        let (count, earliest): (i64, Option<String>) = self
            .conn
            .prepare_cached(&outstanding_sql(scan))
            .and_then(|mut stmt| {
                stmt.query_row([drugs_json(drugs)], |r| Ok((r.get(0)?, r.get(1)?)))
            })
            .map_err(|e| self.err(e))?;
        Ok(RemsOutstanding {
            count: usize::try_from(count).unwrap_or(0),
            earliest_treatment: day(earliest),
        })
    }

    /// How SQLite runs [`Chart::rems_outstanding_by`], one line per step (for the tests that
    /// hold it to its indexes).
    #[cfg(any(test, feature = "testing"))]
    pub fn rems_outstanding_plan(&self, drugs: &[String], scan: RemsScan) -> Result<Vec<String>> {
        let sql = format!("EXPLAIN QUERY PLAN {}", outstanding_sql(scan));
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([drugs_json(drugs)], |r| r.get::<_, String>(3))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }
}
