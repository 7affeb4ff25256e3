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
/// the local date of its first such dose. Uses `entries_dose_drug` (migration
/// REMS_QUEUE_INDEXES).
const TREATED: &str = "
    SELECT d.session_id AS sid,
           min(date(d.event_at / 1000 + d.event_offset, 'unixepoch')) AS day
      FROM entries d
     WHERE d.kind = 'dose'
       AND json_extract(d.payload, '$.drug') IN (SELECT value FROM json_each(?1))
       AND NOT EXISTS (SELECT 1 FROM entries x WHERE x.corrects = d.id)
     GROUP BY d.session_id";

/// A standing submission of the session `t.sid`. Uses `entries_rems_submitted`.
const SUBMITTED: &str = "
    EXISTS (SELECT 1 FROM entries r
             WHERE r.session_id = t.sid AND r.kind = 'rems-submitted'
               AND NOT EXISTS (SELECT 1 FROM entries x WHERE x.corrects = r.id))";

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
            "WITH t AS ({TREATED})
             SELECT t.sid FROM t JOIN sessions s ON s.id = t.sid
              WHERE s.kind = 'dosing' ORDER BY t.day, t.sid"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([drugs_json(drugs)], |r| r.get(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<SessionId>>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// How many dosing sessions with one of `drugs` have no submission standing, and the
    /// earliest treatment date among them: one statement, on the two REMS indexes.
    pub fn rems_outstanding(&self, drugs: &[String]) -> Result<RemsOutstanding> {
        let sql = format!(
            "WITH t AS ({TREATED})
             SELECT count(*), min(t.day) FROM t JOIN sessions s ON s.id = t.sid
              WHERE s.kind = 'dosing' AND NOT {SUBMITTED}"
        );
        let (count, earliest): (i64, Option<String>) = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut stmt| {
                stmt.query_row([drugs_json(drugs)], |r| Ok((r.get(0)?, r.get(1)?)))
            })
            .map_err(|e| self.err(e))?;
        Ok(RemsOutstanding {
            count: usize::try_from(count).unwrap_or(0),
            earliest_treatment: day(earliest),
        })
    }

    /// How SQLite runs [`Chart::rems_outstanding`], one line per step (for the tests that
    /// hold it to its indexes).
    pub fn rems_outstanding_plan(&self, drugs: &[String]) -> Result<Vec<String>> {
        let sql = format!(
            "EXPLAIN QUERY PLAN WITH t AS ({TREATED})
             SELECT count(*), min(t.day) FROM t JOIN sessions s ON s.id = t.sid
              WHERE s.kind = 'dosing' AND NOT {SUBMITTED}"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([drugs_json(drugs)], |r| r.get::<_, String>(3))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }
}
