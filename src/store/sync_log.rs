//! The sync log: what a clinic's FHIR server acknowledged (`domain::sync`), append-only.

use super::{Chart, Result};
use crate::domain::sync::Sent;
use chrono::{DateTime, FixedOffset};
use rusqlite::params;
use std::collections::HashMap;

impl Chart {
    /// The newest acknowledgement of each resource by `server`, by `Type/id`.
    pub fn sync_sent(&self, server: &str) -> Result<HashMap<String, Sent>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT resource, sha256, server_id, version FROM sync_log s
                 WHERE server = ?1 AND id = (SELECT max(id) FROM sync_log t
                   WHERE t.server = s.server AND t.resource = s.resource)",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([server], |r| {
                Ok(Sent {
                    resource: r.get(0)?,
                    sha256: r.get(1)?,
                    server_id: r.get(2)?,
                    version: r.get(3)?,
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<Sent>>>())
            .map_err(|e| self.err(e))?;
        Ok(rows.into_iter().map(|s| (s.resource.clone(), s)).collect())
    }

    /// Records what `server` acknowledged, with the chart's audit head now, in one
    /// transaction: all of it or none (what is not recorded is sent again, and a PUT of the
    /// same content leaves one copy on the server).
    pub fn record_sync(
        &mut self,
        server: &str,
        sent: &[Sent],
        now: DateTime<FixedOffset>,
    ) -> Result<()> {
        let head = self.head()?.unwrap_or(super::audit::Head {
            seq: 0,
            hash: String::new(),
        });
        let author = self.clinician.id;
        self.write(|tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO sync_log (server, resource, sha256, server_id, version, sent_at, head_seq, head_hash, author_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for s in sent {
                stmt.execute(params![
                    server,
                    s.resource,
                    s.sha256,
                    s.server_id,
                    s.version,
                    now.timestamp_millis(),
                    head.seq,
                    head.hash,
                    author
                ])?;
            }
            Ok(())
        })
    }
}
