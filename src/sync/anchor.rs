//! The chart's anchor on the clinic's server: one Provenance whose versions are the audit
//! heads the server acknowledged, read back by `verify --against-server`.

use super::bundle::{acknowledged, transaction};
use super::server::{Server, ServerError};
use super::{Creates, Resource, SyncError};
use crate::app::{AppError, Chart};
use chrono::{DateTime, FixedOffset};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

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

/// Where the server holds the chart's anchor: its own id, or the one a server that takes
/// Provenance only by create gave it (kept in the sync log).
fn anchor_on_server(chart: &Chart, server: &str) -> Result<String, AppError> {
    let id = anchor_id(chart)?;
    let held = crate::app::sync::sent_one(chart, server, &format!("Provenance/{id}"))?;
    Ok(held.map(|s| s.server_id).unwrap_or(id))
}

/// Sends the anchor: the chart's audit head as it stands after this sync, in a Provenance
/// targeting the last resources sent, where the server holds them
/// (https://hl7.org/fhir/R4/provenance.html: "recorded" when, "agent" who ran the sync).
/// `verify --against-server` reads its versions back. To a server that takes Provenance only
/// by create, the first is a conditional create, and where the server put it is recorded.
pub(super) fn anchor(
    chart: &mut Chart,
    server: &Server,
    last: &[Resource],
    creates: &Creates,
    now: DateTime<FixedOffset>,
) -> Result<(), SyncError> {
    let (Ok(id), Ok(Some(head)), Ok(uuid)) = (anchor_id(chart), chart.head(), chart.uuid()) else {
        return Ok(());
    };
    let mut targets: Vec<Value> = Vec::new();
    for r in last {
        let at = match crate::app::sync::sent_one(chart, &server.base, &r.key())? {
            Some(s) => format!("{}/{}", r.rtype, s.server_id),
            None => r.key(),
        };
        targets.push(json!({ "reference": at }));
    }
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
    let key = format!("Provenance/{id}");
    let before = crate::app::sync::sent_one(chart, &server.base, &key)?;
    let sha256 = crate::domain::signature::hex(&Sha256::digest(provenance.to_string().as_bytes()));
    let r = Resource {
        rtype: "Provenance".into(),
        id,
        json: provenance,
        sha256,
        if_none_exist: None,
        held_at: None,
        create: None,
        resend: false,
    };
    let batch = [creates.prepare(super::where_held(r, before.as_ref()), before.is_some())];
    let answer = server
        .transaction(&transaction(server, &batch, &|_| None))
        .map_err(SyncError::Anchor)?;
    if creates.covers("Provenance") {
        let held = acknowledged(&batch, &answer)
            .map_err(|why| SyncError::Anchor(ServerError::Unreadable { why }))?;
        crate::app::sync::record(chart, &server.base, &held, now)?;
    }
    Ok(())
}

/// The audit heads the server acknowledged (the anchor's versions, newest first), each with
/// when it was sent; none when the chart was never synced there.
pub fn acknowledged_heads(
    chart: &Chart,
    server: &Server,
) -> Result<Vec<(String, String)>, SyncError> {
    let id = anchor_on_server(chart, &server.base)?;
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
