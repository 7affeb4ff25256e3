//! The chart's anchor on the clinic's server: one Provenance whose versions are the audit
//! heads the server acknowledged, read back by `verify --against-server`.

use super::server::{Server, ServerError};
use super::{Resource, SyncError};
use crate::app::{AppError, Chart};
use chrono::{DateTime, FixedOffset};
use serde_json::{Value, json};

/// The extension of the anchor Provenance holding the chart's audit head (`SEQ:HASH`).
pub const AUDIT_HEAD_EXTENSION: &str = "https://kapchart.org/fhir/StructureDefinition/audit-head";
/// The extension of the anchor naming the chart (its URN): R4 Provenance has no identifier.
pub const CHART_EXTENSION: &str = "https://kapchart.org/fhir/StructureDefinition/chart";

/// The id of the chart's anchor on the server: one Provenance, updated by every sync that
/// sent something, whose versions (the server's history) are the audit heads the server
/// acknowledged, each when it was sent.
pub fn anchor_id(chart: &Chart) -> Result<String, AppError> {
    Ok(chart.uuid()?.name("sync/anchor"))
}

/// Sends the anchor: the chart's audit head as it stands after this sync, in a Provenance
/// targeting the last resources sent (https://hl7.org/fhir/R4/provenance.html: "recorded"
/// when, "agent" who ran the sync). `verify --against-server` reads its versions back.
pub(super) fn anchor(
    chart: &Chart,
    server: &Server,
    last: &[Resource],
    now: DateTime<FixedOffset>,
) -> Result<(), ServerError> {
    let (Ok(id), Ok(Some(head)), Ok(uuid)) = (anchor_id(chart), chart.head(), chart.uuid()) else {
        return Ok(());
    };
    let targets: Vec<Value> = last
        .iter()
        .map(|r| json!({ "reference": r.key() }))
        .collect();
    let provenance = json!({
        "resourceType": "Provenance",
        "id": id,
        "extension": [
            { "url": AUDIT_HEAD_EXTENSION, "valueString": head.to_string() },
            { "url": CHART_EXTENSION, "valueUri": uuid.urn() },
        ],
        "target": targets,
        "recorded": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        "agent": [{
            "type": { "coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                "code": "author",
                "display": "Author",
            }] },
            "who": { "display": chart.clinician().name },
        }],
    });
    let bundle = json!({
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{
            "fullUrl": format!("{}/Provenance/{id}", server.base),
            "resource": provenance,
            "request": { "method": "PUT", "url": format!("Provenance/{id}") },
        }],
    });
    server.transaction(&bundle).map(|_| ())
}

/// The audit heads the server acknowledged (the anchor's versions, newest first), each with
/// when it was sent; none when the chart was never synced there.
pub fn acknowledged_heads(
    chart: &Chart,
    server: &Server,
) -> Result<Vec<(String, String)>, SyncError> {
    let id = anchor_id(chart)?;
    let history = match server.get(&format!("Provenance/{id}/_history")) {
        Ok(h) => h,
        Err(ServerError::Refused {
            status: 404 | 410, ..
        }) => return Ok(Vec::new()),
        Err(error) => {
            return Err(SyncError::Server {
                bundle: 0,
                of: 0,
                error,
            });
        }
    };
    Ok(history["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let r = &e["resource"];
            let head = r["extension"]
                .as_array()?
                .iter()
                .find(|x| x["url"] == AUDIT_HEAD_EXTENSION)?["valueString"]
                .as_str()?
                .to_string();
            Some((head, r["recorded"].as_str().unwrap_or("").to_string()))
        })
        .collect())
}
