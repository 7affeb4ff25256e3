//! Ids and references: every resource id is a UUID named from the chart's UUID and the row
//! behind it (`domain::identity`), so exporting again gives the same ids, and two laptops'
//! charts never give one id to two records; every reference is the relative `Type/id`;
//! instants keep their offset.

use crate::domain::EntryId;
use crate::domain::identity::{ChartUuid, is_uuid};
use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde_json::{Value, json};

/// RFC 3339 with the offset kept, to the second: 2026-11-26T10:40:00+01:00.
pub(super) fn instant(t: DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

pub(super) fn reference(rtype: &str, id: &str) -> Value {
    json!({ "reference": format!("{rtype}/{id}") })
}

/// The ids of one chart's resources, and the system of their business identifiers.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ids<'a> {
    pub(super) chart: ChartUuid,
    /// `[sync] identifier_system`, else the chart's URN (`app::record::identifier_system`).
    pub(super) system: &'a str,
}

impl Ids<'_> {
    /// The resource `suffix` ("hr", "dose", "response") of entry `entry`.
    pub(super) fn entry(&self, entry: EntryId, suffix: &str) -> String {
        self.chart.name(&format!("entry/{entry}/{suffix}"))
    }

    pub(super) fn session(&self, session: i64) -> String {
        self.chart.name(&format!("session/{session}"))
    }

    /// A protocol check of a session that was not done ("bp-t40").
    pub(super) fn check(&self, session: i64, which: &str) -> String {
        self.chart.name(&format!("session/{session}/check/{which}"))
    }

    pub(super) fn patient(&self, patient: i64) -> String {
        self.chart.name(&format!("patient/{patient}"))
    }

    pub(super) fn note(&self, note: i64) -> String {
        self.chart.name(&format!("note/{note}"))
    }

    pub(super) fn addendum(&self, addendum: i64) -> String {
        self.chart.name(&format!("addendum/{addendum}"))
    }

    /// A clinician, by the name the record carries (the team keeps names unique).
    pub(super) fn clinician(&self, name: &str) -> String {
        self.chart.name(&format!("clinician/{name}"))
    }

    /// Any other row of the chart ("stock/12", "stock/12/V3").
    pub(super) fn row(&self, name: &str) -> String {
        self.chart.name(name)
    }

    /// Gives a resource named from this chart its business identifier: the clinic's
    /// identifier system (else the chart's URN) as the system, the resource's UUID as the value, after the identifiers it has (a
    /// patient's MRN stays first; a QuestionnaireResponse has one identifier, not a list). Resources named by their content
    /// (a lot's Medication, a supplier), whose ids are not UUIDs, are left as they are.
    pub(super) fn stamp(&self, resource: &mut Value) {
        let Some(id) = resource["id"].as_str().filter(|id| is_uuid(id)) else {
            return;
        };
        // R4 Provenance has no identifier.
        if resource["resourceType"] == "Provenance" {
            return;
        }
        let own = json!({ "system": self.system, "value": id });
        if resource["resourceType"] == "QuestionnaireResponse" {
            if resource.get("identifier").is_none() {
                resource["identifier"] = own;
            }
            return;
        }
        match resource.get_mut("identifier") {
            Some(Value::Array(list)) => {
                if !list.contains(&own) {
                    list.push(own);
                }
            }
            Some(_) => {}
            None => resource["identifier"] = json!([own]),
        }
    }
}
