//! What `kapchart sync` knows of a clinic's FHIR server: which resources it acknowledged,
//! with what content (its SHA-256), under which id and version. A resource is sent again
//! only when its content changed since the server last acknowledged it.

/// One resource as the server acknowledged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// `Type/id` as kapchart names it (`Observation/<uuid>`).
    pub resource: String,
    /// SHA-256 (hex) of the resource's JSON as sent.
    pub sha256: String,
    /// The id the server keeps it under (kapchart's own, or the server's for a patient it
    /// already held under the clinic's MRN).
    pub server_id: String,
    /// The server's version id, when it said.
    pub version: Option<String>,
}

/// Where the chart stood when a sync last left `server` holding all of it: the audit head
/// read before that sync built the record, the time it built it at, and the fingerprint of
/// what else the content depends on (kapchart's version and the clinic's config). What
/// changed since is in the audit rows after the head; a sync cut short records no base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    pub head_seq: i64,
    pub head_hash: String,
    /// When that sync built the record (milliseconds since the epoch).
    pub built_at_ms: i64,
    pub fingerprint: String,
}

/// The patients the audit rows after a head name, directly or through what they touched.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Touched {
    /// A change every patient's record may show (the team, a restore, a kind of row the
    /// sync does not know): rebuild them all.
    pub everything: bool,
    pub patients: Vec<super::PatientId>,
}

/// Which patients' records a sync builds: all of them, or those the audit rows since the
/// server last held the whole chart name and those whose record depends on the clock
/// (`app::sync::scope`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Full,
    Patients(Vec<super::PatientId>),
}
