//! The home screen's session reads: the sessions started since a moment or still open, and
//! the dosing sessions no integration names, from the lists the chart keeps for them (and,
//! for the tests and benches that hold them to one answer, the two older ways).

use super::{SESSION_COLUMNS, session_from_row};
use crate::domain::Session;
use crate::store::{Chart, Result};
use chrono::{DateTime, FixedOffset};
#[cfg(any(test, feature = "testing"))]
use rusqlite::Row;

/// The sessions with no end that stands: every session, less those with a session-end entry
/// no entry corrects (the same end `SESSION_COLUMNS` reads). An anti-join over the
/// `entries_session_end` index, not a per-session lookup.
#[cfg(any(test, feature = "testing"))]
const OPEN_SESSION_IDS: &str = "SELECT id FROM sessions {hint} EXCEPT \
     SELECT e.session_id FROM entries e WHERE e.kind = 'session-end' \
       AND NOT EXISTS (SELECT 1 FROM entries x WHERE x.corrects = e.id)";

/// How the home screen's session reads find their rows: from the lists the chart keeps for
/// them (migration `HOME_LISTS_KEPT_BY_TRIGGERS`: the open sessions, the dosing sessions no
/// integration names), by the indexes of migration `HOME_SCAN_INDEXES` (every session's id
/// walked), or as before that (every session's row read). The two older ways are kept so that
/// a bench and a test can hold all three to the same answer; a clinic's binary has the first
/// only (the `testing` feature).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HomeScan {
    FromKeptLists,
    #[cfg(any(test, feature = "testing"))]
    ByIndex,
    #[cfg(any(test, feature = "testing"))]
    ReadingEverySessionRow,
}

fn sessions_since_or_open_sql(scan: HomeScan) -> String {
    let open = match scan {
        HomeScan::FromKeptLists => "SELECT session_id FROM open_sessions".to_string(),
        #[cfg(any(test, feature = "testing"))]
        HomeScan::ByIndex => OPEN_SESSION_IDS.replace("{hint}", ""),
        #[cfg(any(test, feature = "testing"))]
        HomeScan::ReadingEverySessionRow => OPEN_SESSION_IDS.replace("{hint}", "NOT INDEXED"),
    };
    format!(
        "SELECT {SESSION_COLUMNS} FROM sessions s JOIN clinicians c ON c.id = s.clinician_id
         WHERE s.started_at >= ?1
         UNION
         SELECT {SESSION_COLUMNS} FROM sessions s JOIN clinicians c ON c.id = s.clinician_id
         WHERE s.id IN ({open})
         ORDER BY 4 DESC, 1 DESC"
    )
}

fn dosing_without_integration_sql(scan: HomeScan) -> String {
    let (hint, awaited) = match scan {
        HomeScan::FromKeptLists => (
            "",
            "s.id IN (SELECT dosing_session_id FROM integrations_awaited)",
        ),
        #[cfg(any(test, feature = "testing"))]
        HomeScan::ByIndex => (
            "",
            "s.kind = 'dosing'
             AND NOT EXISTS (SELECT 1 FROM sessions i WHERE i.dosing_session_id = s.id)",
        ),
        #[cfg(any(test, feature = "testing"))]
        HomeScan::ReadingEverySessionRow => (
            "INDEXED BY sessions_started",
            "s.kind = 'dosing'
             AND NOT EXISTS (SELECT 1 FROM sessions i WHERE i.dosing_session_id = s.id)",
        ),
    };
    format!(
        "SELECT {SESSION_COLUMNS} FROM sessions s {hint} JOIN clinicians c ON c.id = s.clinician_id
         WHERE {awaited}
         ORDER BY s.started_at DESC, s.id DESC"
    )
}

impl Chart {
    /// The sessions started at or after `since`, and every session still open whenever it
    /// started, newest first: what the home screen's "today and recent" list is drawn from,
    /// read by the `sessions_started` index and the chart's list of open sessions (rows read
    /// for those shown only).
    pub fn sessions_since_or_open(&self, since: DateTime<FixedOffset>) -> Result<Vec<Session>> {
        self.sessions_since_or_open_by(since, HomeScan::FromKeptLists)
    }

    /// [`Chart::sessions_since_or_open`], found as `scan` says (the same sessions either way).
    pub fn sessions_since_or_open_by(
        &self,
        since: DateTime<FixedOffset>,
        scan: HomeScan,
    ) -> Result<Vec<Session>> {
        let mut stmt = self
            .conn
            .prepare_cached(&sessions_since_or_open_sql(scan))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([since.timestamp_millis()], session_from_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// Dosing sessions no integration session names, newest first (from the chart's list of
    /// integrations awaited): the only ones whose integration can still be to do.
    pub fn dosing_sessions_without_integration(&self) -> Result<Vec<Session>> {
        self.dosing_sessions_without_integration_by(HomeScan::FromKeptLists)
    }

    /// [`Chart::dosing_sessions_without_integration`], found as `scan` says (the same
    /// sessions either way).
    pub fn dosing_sessions_without_integration_by(&self, scan: HomeScan) -> Result<Vec<Session>> {
        let mut stmt = self
            .conn
            .prepare_cached(&dosing_without_integration_sql(scan))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], session_from_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// How SQLite runs the home screen's two session reads ([`Chart::sessions_since_or_open`]
    /// and [`Chart::dosing_sessions_without_integration`]) found as `scan` says, one line per
    /// step, for the tests that hold them to their indexes.
    #[cfg(any(test, feature = "testing"))]
    pub fn home_read_plans(&self, scan: HomeScan) -> Result<(Vec<String>, Vec<String>)> {
        let plan = |sql: &str, bind: bool| -> Result<Vec<String>> {
            let mut stmt = self
                .conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .map_err(|e| self.err(e))?;
            let map = |r: &Row<'_>| r.get::<_, String>(3);
            let rows = if bind {
                stmt.query_map([0i64], map)
            } else {
                stmt.query_map([], map)
            };
            rows.and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| self.err(e))
        };
        Ok((
            plan(&sessions_since_or_open_sql(scan), true)?,
            plan(&dosing_without_integration_sql(scan), false)?,
        ))
    }
}
