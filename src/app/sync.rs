//! The use cases behind `kapchart sync`: which patients the chart holds, what a clinic's FHIR
//! server last acknowledged of each resource, and recording what it acknowledged now.

use super::access::Access;
use super::{AppError, Chart};
use crate::domain::PatientId;
use crate::domain::sync::Sent;
use chrono::{DateTime, FixedOffset};
use std::collections::HashMap;

/// Every patient of the chart, by id.
pub fn patients(chart: &Chart) -> Result<Vec<PatientId>, AppError> {
    Ok(chart.store.patients()?.into_iter().map(|p| p.id).collect())
}

/// The newest acknowledgement of each resource by `server` (`Type/id` as kapchart names it).
pub fn sent(chart: &Chart, server: &str) -> Result<HashMap<String, Sent>, AppError> {
    Ok(chart.store.sync_sent(server)?)
}

/// Records what `server` acknowledged of one bundle, all or none.
pub fn record(
    chart: &mut Chart,
    server: &str,
    sent: &[Sent],
    now: DateTime<FixedOffset>,
) -> Result<(), AppError> {
    Ok(chart.store.record_sync(server, sent, now)?)
}

/// The audit row of a sync that sent the record out: a disclosure, like an export.
pub fn access(chart: &Chart) -> Result<Access, AppError> {
    match chart.store.head()? {
        Some(head) => Ok(Access::Synced(head)),
        None => Err(AppError::invalid("the chart has no audit trail")),
    }
}
