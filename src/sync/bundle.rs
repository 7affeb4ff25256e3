//! A transaction bundle as kapchart sends it (PUT to each resource's id, or a conditional
//! create), its references pointed where the server holds them, and what the server's
//! transaction-response acknowledged.

use super::Resource;
use super::server::Server;
use crate::domain::sync::Sent;
use serde_json::{Value, json};

/// The transaction bundle of `batch`, each reference pointed where `placed` says (a patient
/// or clinician the server holds under another id, what the bundle itself creates).
pub(super) fn transaction(
    server: &Server,
    batch: &[Resource],
    placed: &dyn Fn(&str) -> Option<String>,
) -> Value {
    let entries: Vec<Value> = batch
        .iter()
        .map(|r| {
            let mut resource = r.json.clone();
            repoint(&mut resource, placed);
            if let Some(create) = &r.create {
                return json!({
                    "fullUrl": create.full_url,
                    "resource": resource,
                    "request": { "method": "POST", "url": r.rtype, "ifNoneExist": create.search },
                });
            }
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

/// Points every `reference` that `placed` knows elsewhere at where it says.
pub(super) fn repoint(v: &mut Value, placed: &dyn Fn(&str) -> Option<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("reference")
                && let Some(there) = placed(r.as_str())
            {
                *r = there;
            }
            map.values_mut().for_each(|x| repoint(x, placed));
        }
        Value::Array(list) => list.iter_mut().for_each(|x| repoint(x, placed)),
        _ => {}
    }
}

/// Every relative reference (`Type/id`) in `v`, each once.
pub(super) fn references(v: &Value) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("reference")
                    && r.split('/').count() == 2
                    && r.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                    && !out.contains(r)
                {
                    out.push(r.clone());
                }
                map.values().for_each(|x| walk(x, out));
            }
            Value::Array(list) => list.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut out);
    out
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
            // Recorded as sent but to be sent again: a resource pointing at something the
            // server did not hold yet, and one a conditional create found already there (a
            // bundle whose answer was lost: what the server holds may be older).
            let again = r.resend || (r.create.is_some() && status.starts_with("200"));
            Ok(Sent {
                resource: r.key(),
                sha256: if again {
                    String::new()
                } else {
                    r.sha256.clone()
                },
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
