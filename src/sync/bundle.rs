//! A transaction bundle as kapchart sends it (PUT to each resource's id, or a conditional
//! create), its references pointed where the server holds them, and what the server's
//! transaction-response acknowledged.

use super::Resource;
use super::server::Server;
use crate::domain::sync::Sent;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The transaction bundle of `batch`, its references to patients and clinicians the server
/// holds under another id pointed there.
pub(super) fn transaction(
    server: &Server,
    batch: &[Resource],
    patients: &HashMap<String, String>,
) -> Value {
    let entries: Vec<Value> = batch
        .iter()
        .map(|r| {
            let mut resource = r.json.clone();
            repoint(&mut resource, patients);
            match &r.if_none_exist {
                Some(search) => json!({
                    "fullUrl": format!("urn:uuid:{}", r.id),
                    "resource": resource,
                    "request": { "method": "POST", "url": r.rtype, "ifNoneExist": search },
                }),
                None => {
                    let at = match &r.held_at {
                        Some(id) => {
                            resource["id"] = json!(id);
                            format!("{}/{id}", r.rtype)
                        }
                        None => r.key(),
                    };
                    json!({
                        "fullUrl": format!("{}/{at}", server.base),
                        "resource": resource,
                        "request": { "method": "PUT", "url": at },
                    })
                }
            }
        })
        .collect();
    json!({ "resourceType": "Bundle", "type": "transaction", "entry": entries })
}

/// Points every `reference` to one of `patients` (or clinicians) at where the server keeps it.
pub(super) fn repoint(v: &mut Value, patients: &HashMap<String, String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("reference")
                && let Some(there) = patients.get(r.as_str())
            {
                *r = there.clone();
            }
            map.values_mut().for_each(|x| repoint(x, patients));
        }
        Value::Array(list) => list.iter_mut().for_each(|x| repoint(x, patients)),
        _ => {}
    }
}

/// What the transaction-response says of each resource of `batch`, in order: its id on the
/// server (from `location`) and version.
pub(super) fn acknowledged(batch: &[Resource], answer: &Value) -> Result<Vec<Sent>, String> {
    let entries = answer["entry"]
        .as_array()
        .ok_or("the transaction-response has no entries")?;
    if entries.len() != batch.len() {
        return Err(format!(
            "the transaction-response has {} entries for {} sent",
            entries.len(),
            batch.len()
        ));
    }
    batch
        .iter()
        .zip(entries)
        .map(|(r, e)| {
            let status = e["response"]["status"].as_str().unwrap_or_default();
            if !(status.starts_with("200") || status.starts_with("201")) {
                return Err(format!("{} came back {status:?}", r.key()));
            }
            let location = e["response"]["location"].as_str().unwrap_or_default();
            let mut parts = location.trim_start_matches('/').split('/');
            let server_id = match (parts.next(), parts.next()) {
                (Some(t), Some(id)) if t == r.rtype && !id.is_empty() => id.to_string(),
                _ => e["resource"]["id"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| r.id.clone()),
            };
            let version = e["resource"]["meta"]["versionId"]
                .as_str()
                .map(str::to_string)
                .or_else(|| {
                    e["response"]["etag"]
                        .as_str()
                        .map(|t| t.trim_start_matches("W/").trim_matches('"').to_string())
                });
            Ok(Sent {
                resource: r.key(),
                sha256: r.sha256.clone(),
                server_id,
                version,
            })
        })
        .collect()
}

/// `text` for a search parameter's value in a URL query: `|`, `,`, `$` and `\` are FHIR's own
/// and are escaped with a backslash (https://hl7.org/fhir/R4/search.html#escaping); the rest
/// is percent-encoded where a URL needs it.
pub(super) fn query_text(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '|' | ',' | '$' | '\\' => {
                out.push_str("%5C");
                out.push_str(&format!("%{:02X}", c as u32));
            }
            c if c.is_ascii_alphanumeric() || "-._~:/".contains(c) => out.push(c),
            c => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    out
}
