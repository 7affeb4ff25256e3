//! Who wrote a session, in a form a reader outside kapchart can check: the session's signed
//! audit rows (the rows `kapchart audit --session` lists that record a write, each with the
//! exact message its author signed) and the team's keys with their certificates.

use super::{AppError, Chart};
use crate::domain::SessionId;
use crate::domain::authorship::{CertifiedKey, SignedRow};

/// The signed audit rows of the session's writes (its start and end, its entries,
/// corrections and witnesses, its note's drafts, signature and addenda), oldest first.
/// Looks at the record (views, exports) are left out: they change nothing in it, and a
/// record exported twice must read the same.
pub fn session_signed_rows(chart: &Chart, session: SessionId) -> Result<Vec<SignedRow>, AppError> {
    Ok(chart
        .store
        .signed_session_trail(session)?
        .into_iter()
        .filter(|r| !super::access::is_look(&r.action))
        .map(|r| SignedRow {
            seq: r.seq,
            at: chrono::DateTime::from_timestamp_millis(r.at_ms).unwrap_or_default(),
            clinician_id: r.clinician_id,
            clinician: r.clinician,
            action: r.action,
            hash: r.hash,
            message: r.message,
            signature: r.signature,
        })
        .collect())
}

/// Every team member's signing key, with the certificate an admin signed for it, in the
/// order they joined (the first is the chart's root).
pub fn team_keys(chart: &Chart) -> Result<Vec<CertifiedKey>, AppError> {
    Ok(chart.store.certified_keys()?)
}
