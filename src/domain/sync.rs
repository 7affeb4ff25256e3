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
