//! Signing in: who the team is, opening the chart after the wait that wrong sign-ins ask
//! for, a hand-over or an unlock at an open chart, and a second clinician witnessing a dose.
//! A refused try at an open chart leaves its audit row (who it named, never what was typed)
//! here, once, for every front end.

use super::access::{SignInKind, record_refused_sign_in};
use super::{AppError, Chart};
use crate::domain::team::TeamMember;
use crate::domain::{Clinician, EntryId, SessionId};
use chrono::{DateTime, FixedOffset};
use std::path::Path;
use std::time::Duration;

/// The team on the chart's sign-in list (its keyring): names and roles, no secrets. Read
/// before the chart is open, to ask who is signing in.
pub fn team(chart: &Path) -> Result<Vec<TeamMember>, AppError> {
    Ok(crate::store::team(chart)?)
}

/// Opens the chart with `open` after the wait that the wrong sign-ins before it ask for
/// (they are counted beside the chart, so they add up across commands); `waiting` is told
/// how many were wrong in a row and how long the wait is, before it starts. A wrong pair
/// counts one more; a sign-in that opens clears the count.
pub fn guarded<T>(
    chart: &Path,
    waiting: impl FnOnce(u32, Duration),
    open: impl FnOnce() -> Result<T, AppError>,
) -> Result<T, AppError> {
    let now = crate::clock::now().timestamp_millis();
    let wrong = crate::store::wrong_sign_ins(chart, now);
    let wait = wrong.wait_at(now);
    if !wait.is_zero() {
        waiting(wrong.count, wait);
        std::thread::sleep(wait);
    }
    let opened = open();
    match &opened {
        Err(e) if e.is_wrong_sign_in() => {
            crate::store::count_wrong_sign_in(chart, crate::clock::now().timestamp_millis());
        }
        Ok(_) => crate::store::clear_wrong_sign_ins(chart),
        Err(_) => {}
    }
    opened
}

/// Signs `who` in at the open chart (a hand-over or an unlock, as `kind` says); a refused
/// try leaves its audit row and is returned as it was.
pub fn sign_in(
    chart: &mut Chart,
    kind: SignInKind,
    who: &str,
    passphrase: &str,
    now: DateTime<FixedOffset>,
) -> Result<Clinician, AppError> {
    chart.store.sign_in(who, passphrase).map_err(|e| {
        record_refused_sign_in(chart, kind, who, now);
        e.into()
    })
}

/// Records `who` as the witness of `dose`, signed with their keys; gives back who
/// witnessed and the dose's session. A refused try leaves its audit row.
pub fn witness(
    chart: &mut Chart,
    dose: EntryId,
    who: &str,
    passphrase: &str,
    now: DateTime<FixedOffset>,
) -> Result<(Clinician, SessionId), AppError> {
    let (witness, _) = chart
        .store
        .record_as_witness(dose, who, passphrase, now)
        .map_err(|e| {
            record_refused_sign_in(chart, SignInKind::Witness, who, now);
            AppError::from(e)
        })?;
    let session = chart.store.entry(dose)?.session_id;
    Ok((witness, session))
}
