//! The use cases behind `kapchart sync`: which patients the chart holds, what a clinic's FHIR
//! server last acknowledged of each resource, and recording what it acknowledged now.

use super::access::Access;
use super::care::Head;
use super::{AppError, Chart};
use crate::domain::PatientId;
use crate::domain::sync::{Scope, Sent};
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

/// One resource's newest acknowledgement by `server`, if any.
pub fn sent_one(chart: &Chart, server: &str, resource: &str) -> Result<Option<Sent>, AppError> {
    Ok(chart.store.sync_sent_one(server, resource)?)
}

/// Where `server` keeps each of the chart's patients and clinicians it acknowledged, by
/// `Patient/id` and `Practitioner/id`.
pub fn sent_people(chart: &Chart, server: &str) -> Result<HashMap<String, Sent>, AppError> {
    Ok(chart.store.sync_sent_people(server)?)
}

/// Which patients a sync to `server` at `now` must build so that it sends exactly what
/// building every patient would (`tests/sync_incremental.rs` holds it to that):
/// - every patient when the server never held the whole chart, when kapchart's version or
///   the clinic's config changed since (`fingerprint`), when the chart no longer holds the
///   head it held then (restored from an older backup), when asked to (`full`), or when an
///   audit row since names the team or a kind of change the sync does not map;
/// - else the patients the audit rows since that head name (`Chart::touched_since`), and
///   those whose record depends on the clock since then (`Chart::patients_on_the_clock`:
///   a session still open, whose checks are measured against now; a dose over minutes,
///   in progress until it ends).
pub fn scope(
    chart: &Chart,
    server: &str,
    fingerprint: &str,
    now: DateTime<FixedOffset>,
    full: bool,
) -> Result<Scope, AppError> {
    if full {
        return Ok(Scope::Full);
    }
    let Some(base) = chart.store.sync_base(server)? else {
        return Ok(Scope::Full);
    };
    if base.fingerprint != fingerprint
        || chart.store.audit_hash_at(base.head_seq)?.as_deref() != Some(base.head_hash.as_str())
    {
        return Ok(Scope::Full);
    }
    let touched = chart.store.touched_since(base.head_seq)?;
    if touched.everything {
        return Ok(Scope::Full);
    }
    // The clock may have gone back since (another zone, a corrected clock): from the
    // earlier of the two.
    let since = base.built_at_ms.min(now.timestamp_millis());
    let mut patients = touched.patients;
    patients.extend(chart.store.patients_on_the_clock(since)?);
    patients.sort_unstable();
    patients.dedup();
    Ok(Scope::Patients(patients))
}

/// Records that `server` holds the whole chart as it stood at `head`, built at `built_at`.
pub fn record_base(
    chart: &mut Chart,
    server: &str,
    head: &Head,
    built_at: DateTime<FixedOffset>,
    fingerprint: &str,
) -> Result<(), AppError> {
    Ok(chart
        .store
        .record_sync_base(server, head, built_at, fingerprint)?)
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
