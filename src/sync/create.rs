//! Sending to a server that does not create by update (its CapabilityStatement says
//! `updateCreate: false` for a type kapchart sends: https://hl7.org/fhir/R4/capabilitystatement-definitions.html#CapabilityStatement.rest.resource.updateCreate).
//!
//! Such a server gives each new resource an id of its own. A resource it does not hold yet
//! goes as a conditional create on its business identifier (`[sync] identifier_system`, else
//! the chart's URN, as the system; the resource's UUID as the value), `POST Type` with `ifNoneExist` (https://hl7.org/fhir/R4/http.html#ccreate):
//! a resend after a bundle whose answer was lost finds the copy the server made and makes no
//! second. A resource with no such identifier (R4 Provenance has none; a lot's Medication and
//! a supplier are named by their content) carries its kapchart id as a `meta.tag` in
//! [`ID_TAG_SYSTEM`] and is matched by `_tag` (https://hl7.org/fhir/R4/search.html#tag).
//! Within a bundle, references to what it creates are `urn:uuid:` full URLs, which the server
//! rewrites to the ids it gives (https://hl7.org/fhir/R4/bundle.html#references); references to
//! what an earlier bundle or sync created point at the server's id, from the sync log. Once
//! held, a resource is updated in place (PUT to the server's id), which such a server allows.

use super::Resource;
use super::bundle::references;
use crate::app::{AppError, Chart};
use crate::domain::identity::{ChartUuid, is_uuid};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

/// The tag system under which a resource without a business identifier carries its
/// kapchart id, so that a resend finds it.
pub const ID_TAG_SYSTEM: &str = "https://kapchart.org/fhir/CodeSystem/resource-id";

/// A conditional create: the search that finds a copy the server already holds, and the
/// bundle's full URL for it (what references in the same bundle point at).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Create {
    pub search: String,
    pub full_url: String,
}

/// The resource types a server takes only by create, the chart they come from and the
/// system of their business identifiers.
#[derive(Debug, Clone)]
pub struct Creates {
    types: Vec<String>,
    chart: ChartUuid,
    system: String,
}

impl Creates {
    pub fn new(types: Vec<String>, chart: ChartUuid, system: String) -> Creates {
        Creates {
            types,
            chart,
            system,
        }
    }

    /// Whether no type goes by create (the server creates by update).
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    pub fn covers(&self, rtype: &str) -> bool {
        self.types.iter().any(|t| t == rtype)
    }

    /// Readies `r` for a server that creates it only by create: tagged with its id when it
    /// has no identifier of this chart, and, when the server holds no copy of it yet
    /// (`held` false) and nothing else matches it (a patient by MRN), a conditional create.
    pub(super) fn prepare(&self, mut r: Resource, held: bool) -> Resource {
        if !self.covers(&r.rtype) {
            return r;
        }
        let search = match own_identifier(&r.json, &self.system, &r.id) {
            true => format!(
                "identifier={}|{}",
                super::query_text(&self.system),
                super::query_text(&r.id)
            ),
            false => {
                tag(&mut r.json, &r.id);
                format!(
                    "_tag={}|{}",
                    super::query_text(ID_TAG_SYSTEM),
                    super::query_text(&r.id)
                )
            }
        };
        if !held && r.if_none_exist.is_none() {
            let uuid = if is_uuid(&r.id) {
                r.id.clone()
            } else {
                self.chart.name(&format!("sync/full-url/{}", r.key()))
            };
            r.create = Some(Create {
                search,
                full_url: format!("urn:uuid:{uuid}"),
            });
        }
        r
    }
}

/// For a server that takes some types only by create: where each reference of `batch` must
/// point (beyond the patients and clinicians in `matched`): at the full URL of what the
/// bundle creates, at the server's id of what it holds under another id, from the sync log.
/// A resource pointing at something of this chart the server holds nowhere yet (sent in a
/// later bundle) is marked to be sent again.
pub(super) fn placed(
    chart: &Chart,
    server: &str,
    batch: &mut [Resource],
    matched: &HashMap<String, String>,
    creates: &Creates,
) -> Result<HashMap<String, String>, AppError> {
    let mut local = HashMap::new();
    if creates.is_empty() {
        return Ok(local);
    }
    let mut in_batch = HashSet::new();
    for r in batch.iter() {
        in_batch.insert(r.key());
        if let Some(c) = &r.create {
            local.insert(r.key(), c.full_url.clone());
        } else if let Some(at) = &r.held_at {
            local.insert(r.key(), format!("{}/{at}", r.rtype));
        }
    }
    for r in batch.iter_mut() {
        for target in references(&r.json) {
            if in_batch.contains(&target)
                || local.contains_key(&target)
                || matched.contains_key(&target)
            {
                continue;
            }
            let Some((rtype, id)) = target.split_once('/') else {
                continue;
            };
            if !creates.covers(rtype) {
                continue;
            }
            match crate::app::sync::sent_one(chart, server, &target)? {
                Some(s) if s.server_id != id => {
                    local.insert(target.clone(), format!("{rtype}/{}", s.server_id));
                }
                Some(_) => {}
                None => r.resend = true,
            }
        }
    }
    Ok(local)
}

/// Whether `resource` carries the identifier `system|id`.
fn own_identifier(resource: &Value, system: &str, id: &str) -> bool {
    let matches = |i: &Value| i["system"] == system && i["value"] == id;
    match &resource["identifier"] {
        Value::Array(list) => list.iter().any(matches),
        one @ Value::Object(_) => matches(one),
        _ => false,
    }
}

/// Adds the `meta.tag` naming `id` in [`ID_TAG_SYSTEM`].
fn tag(resource: &mut Value, id: &str) {
    let own = json!({ "system": ID_TAG_SYSTEM, "code": id });
    if !resource["meta"].is_object() {
        resource["meta"] = json!({});
    }
    match resource["meta"].get_mut("tag") {
        Some(Value::Array(list)) => {
            if !list.contains(&own) {
                list.push(own);
            }
        }
        _ => resource["meta"]["tag"] = json!([own]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(rtype: &str, id: &str, json: Value) -> Resource {
        Resource {
            rtype: rtype.into(),
            id: id.into(),
            json,
            sha256: String::new(),
            if_none_exist: None,
            held_at: None,
            create: None,
            resend: false,
        }
    }

    fn creates() -> Creates {
        Creates::new(
            vec![
                "Observation".into(),
                "Provenance".into(),
                "Medication".into(),
            ],
            ChartUuid::random([7; 16]),
            ChartUuid::random([7; 16]).urn(),
        )
    }

    #[test]
    fn a_resource_with_the_charts_identifier_is_created_on_it_once_and_updated_after() {
        let c = creates();
        let id = c.chart.name("entry/1/hr");
        let system = c.system.clone();
        let json = json!({"resourceType": "Observation", "id": id, "identifier": [{"system": system, "value": id}]});
        let first = c.prepare(resource("Observation", &id, json.clone()), false);
        let create = first.create.expect("a conditional create");
        assert_eq!(create.full_url, format!("urn:uuid:{id}"));
        assert_eq!(
            create.search,
            format!("identifier=urn:uuid:{}|{id}", c.chart)
        );
        assert!(
            first.json.get("meta").is_none(),
            "no tag beside an identifier"
        );
        let held = c.prepare(resource("Observation", &id, json), true);
        assert_eq!(held.create, None, "held: updated in place");
    }

    #[test]
    fn a_resource_without_one_is_tagged_with_its_id_and_matched_by_the_tag() {
        let c = creates();
        let r = c.prepare(
            resource(
                "Medication",
                "kapchart-lot-abc",
                json!({"resourceType": "Medication", "id": "kapchart-lot-abc"}),
            ),
            false,
        );
        assert_eq!(
            r.json["meta"]["tag"],
            json!([{ "system": ID_TAG_SYSTEM, "code": "kapchart-lot-abc" }])
        );
        let create = r.create.expect("a conditional create");
        assert_eq!(
            create.search,
            "_tag=https://kapchart.org/fhir/CodeSystem/resource-id|kapchart-lot-abc"
        );
        assert!(create.full_url.starts_with("urn:uuid:"));
        assert!(is_uuid(create.full_url.trim_start_matches("urn:uuid:")));
        // Tagged when updated too, so that the server's copy keeps what matches it.
        let held = c.prepare(
            resource(
                "Medication",
                "kapchart-lot-abc",
                json!({"resourceType": "Medication", "id": "kapchart-lot-abc", "meta": {"tag": []}}),
            ),
            true,
        );
        assert_eq!(held.json["meta"]["tag"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn types_the_server_creates_by_update_and_people_matched_otherwise_are_left_alone() {
        let c = creates();
        let p = c.prepare(
            resource(
                "Patient",
                "x",
                json!({"resourceType": "Patient", "id": "x"}),
            ),
            false,
        );
        assert_eq!(p.create, None);
        assert!(p.json.get("meta").is_none());
        let mut o = resource(
            "Observation",
            "y",
            json!({"resourceType": "Observation", "id": "y"}),
        );
        o.if_none_exist = Some("identifier=a|b".into());
        assert_eq!(c.prepare(o, false).create, None);
    }
}
