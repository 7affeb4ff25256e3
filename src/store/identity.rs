//! The chart's UUID: written once when the chart is created; derived from the first link of
//! the audit chain for a chart made before kapchart kept one (`domain::identity`).

use super::{Chart, Result, StoreError};
use crate::domain::identity::ChartUuid;
use chrono::{DateTime, FixedOffset};
use rusqlite::OptionalExtension;

impl Chart {
    /// The chart's UUID: the one recorded, else the one derived from the audit chain's first
    /// link (a chart made before kapchart kept one).
    pub fn chart_uuid(&self) -> Result<ChartUuid> {
        let kept: Option<String> = self
            .conn
            .query_row("SELECT uuid FROM chart_identity WHERE one = 1", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))?;
        if let Some(text) = kept {
            return ChartUuid::parse(&text).ok_or_else(|| {
                StoreError::Invalid(format!(
                    "the chart's recorded UUID {text:?} is not a UUID; the chart may have been changed outside kapchart (run kapchart verify)"
                ))
            });
        }
        let first: Option<String> = self
            .conn
            .query_row("SELECT hash FROM audit ORDER BY seq LIMIT 1", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))?;
        first
            .map(|h| ChartUuid::derived(&h))
            .ok_or_else(|| StoreError::Invalid("the chart has no audit trail to name it by".into()))
    }

    /// Records a new chart's random UUID (at creation).
    pub(crate) fn record_new_uuid(&mut self, now: DateTime<FixedOffset>) -> Result<()> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)
            .map_err(|e| StoreError::Invalid(format!("no random numbers from the system: {e}")))?;
        let uuid = ChartUuid::random(bytes);
        self.conn
            .execute(
                "INSERT INTO chart_identity (one, uuid, created_at) VALUES (1, ?1, ?2)",
                rusqlite::params![uuid.to_string(), now.timestamp_millis()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}
