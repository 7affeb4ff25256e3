//! Ids and references: every resource id comes from a chart id, so exporting again gives the
//! same ids; every reference is the relative `Type/id`; instants keep their offset.

use crate::domain::EntryId;
use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde_json::{Value, json};

/// RFC 3339 with the offset kept, to the second: 2026-11-26T10:40:00+01:00.
pub(super) fn instant(t: DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

pub(super) fn reference(rtype: &str, id: &str) -> Value {
    json!({ "reference": format!("{rtype}/{id}") })
}

pub(super) fn entry_resource_id(entry: EntryId, suffix: &str) -> String {
    format!("kapchart-entry-{entry}-{suffix}")
}

pub(super) fn session_id(session: i64) -> String {
    format!("kapchart-session-{session}")
}
