//! `kapchart sync`: the chart sent to the clinic's FHIR R4 server, once, from every laptop.
//!
//! Each patient's record is built as the FHIR export builds it (the same resources, ids
//! named from the chart's UUID: `domain::identity`), and each resource whose content differs
//! from what the server last acknowledged (the sync log, `domain::sync`) is sent in a
//! `transaction` bundle (https://hl7.org/fhir/R4/http.html#transaction):
//! - with PUT to `Type/id`, so a resend of the same resource leaves one copy (update as
//!   create, where the server allows it: its CapabilityStatement is read first; where it
//!   does not, as a conditional create on the resource's identifier: `create.rs`);
//! - a patient with an MRN under the clinic's `[clinic] mrn_system` is created only if the
//!   server holds no patient with that identifier (`ifNoneExist`, conditional create), in a
//!   transaction of its own; a patient another laptop sent before is then the one this
//!   laptop's resources point at, and is not overwritten.
//!
//! Patients first, then clinicians, encounters and the rest, in bundles of `[sync]
//! bundle_size`. Nothing is recorded before the server answers; a bundle the server refused
//! records nothing, and the sync stops there. What a sync cut short did not record is sent
//! again next time, and the server still ends with one copy of each resource.

mod anchor;
mod bundle;
mod create;
pub mod server;

pub use anchor::{AUDIT_HEAD_EXTENSION, CHART_EXTENSION, acknowledged_heads, anchor_id};
use bundle::{acknowledged, query_text, transaction};
pub use create::{Create, Creates, ID_TAG_SYSTEM};

use crate::app::care::Head;
use crate::app::{AppError, Chart};
use crate::config::Config;
use crate::domain::PatientId;
use crate::domain::sync::{Scope, Sent};
use chrono::{DateTime, FixedOffset};
use serde_json::Value;
use server::{Server, ServerError};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};

/// One resource to send: its JSON as the export builds it and the hash of that content.
#[derive(Debug, Clone)]
pub struct Resource {
    pub rtype: String,
    pub id: String,
    pub json: Value,
    pub sha256: String,
    /// For a patient matched by the clinic's MRN, or a clinician by a staff id or NPI: the
    /// search that finds one the server holds.
    pub if_none_exist: Option<String>,
    /// Where the server holds it when that is not this chart's id (`where_held`).
    pub held_at: Option<String>,
    /// For a server that does not create by update: the conditional create on its own
    /// identifier, while the server holds no copy (`Creates::prepare`).
    pub create: Option<Create>,
    /// Whether it points at something of this chart the server does not hold yet (sent in
    /// a later bundle): recorded as sent but to be sent again, so that the next sync points
    /// it where the server then holds that.
    pub resend: bool,
}

impl Resource {
    pub fn key(&self) -> String {
        format!("{}/{}", self.rtype, self.id)
    }
}

/// What a sync would send, found by building each patient's record in scope once and
/// comparing each resource with what the server last acknowledged. It keeps counts and the
/// patients with something to send, not the resources: sending builds those patients again,
/// one at a time, so a sync holds one patient's record at once whatever the chart's size.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The patients with something to send, in the order they are sent.
    pub patients: Vec<PatientId>,
    /// How many resources would be sent.
    pub to_send: usize,
    /// How many of them are patients created only if the server holds none by MRN (each in
    /// a transaction of its own).
    pub conditional: usize,
    /// How many resources were built and found as the server acknowledged them.
    pub unchanged: usize,
    /// How many patients' records were built.
    pub built: usize,
    /// Whether every patient's record was built.
    pub full: bool,
    by_type: Vec<(String, usize)>,
    /// The types sent with PUT (update as create).
    put_types: Vec<String>,
    /// `Type/id` and SHA-256 of each resource to send, when asked for (`--dry-run --json`).
    pub listed: Vec<(String, String)>,
    /// The chart's audit head before anything was built, and the fingerprint of what else
    /// the content depends on: recorded as the server's base once all of it is sent.
    pub head: Option<Head>,
    pub fingerprint: String,
}

impl Plan {
    /// How many of each resource type would be sent, by type name.
    pub fn by_type(&self) -> Vec<(String, usize)> {
        self.by_type.clone()
    }

    /// How many bundles sending takes with `bundle_size` resources a bundle.
    pub fn bundles(&self, bundle_size: usize) -> usize {
        self.conditional + (self.to_send - self.conditional).div_ceil(bundle_size.max(1))
    }

    fn count(&mut self, r: &Resource) {
        match self.by_type.iter_mut().find(|(t, _)| *t == r.rtype) {
            Some((_, n)) => *n += 1,
            None => self.by_type.push((r.rtype.clone(), 1)),
        }
        if r.if_none_exist.is_some() {
            self.conditional += 1;
        } else if !self.put_types.contains(&r.rtype) {
            self.put_types.push(r.rtype.clone());
        }
        self.to_send += 1;
    }
}

/// Why a sync stopped.
#[derive(Debug)]
pub enum SyncError {
    Chart(AppError),
    /// The server, with which bundle it was (1-based) of how many.
    Server {
        bundle: usize,
        of: usize,
        error: ServerError,
    },
    /// The server cannot take what kapchart sends (its CapabilityStatement says so).
    Unsuitable(String),
    /// Every bundle went and was recorded; the anchor (the audit head) did not.
    Anchor(ServerError),
    /// The server acknowledged bundle `bundle` of `of`, and the chart could not record it (a
    /// full disk, a read-only chart): it is sent again next time, to the same ids.
    Unrecorded {
        bundle: usize,
        of: usize,
        error: AppError,
    },
}

impl std::fmt::Display for SyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncError::Chart(e) => write!(f, "{e}"),
            SyncError::Server { bundle, of, error } if *of > 0 => write!(
                f,
                "{error}; bundle {bundle} of {of} was not recorded as sent (the bundles before it were), and the next sync sends it again"
            ),
            SyncError::Server { error, .. } => write!(f, "{error}; nothing was sent"),
            SyncError::Unsuitable(why) => write!(f, "{why}; nothing was sent"),
            SyncError::Unrecorded { bundle, of, error } => write!(
                f,
                "the FHIR server acknowledged bundle {bundle} of {of}, but the chart could not record it: {error}; the chart is as it was before that bundle, and the next sync sends it again to the same ids (the server keeps one copy)"
            ),
            SyncError::Anchor(error) => write!(
                f,
                "{error}; every bundle was sent and recorded, but not the chart's audit head (the server's anchor for verify --against-server): the next sync that sends something sends it"
            ),
        }
    }
}

impl From<AppError> for SyncError {
    fn from(e: AppError) -> Self {
        SyncError::Chart(e)
    }
}

/// The order resources are sent in: what others point at first.
fn rank(rtype: &str) -> u8 {
    match rtype {
        "Patient" => 0,
        "Practitioner" => 1,
        "Encounter" => 2,
        "Medication" => 3,
        _ => 4,
    }
}

/// The types one resource of which several patients' records hold (a clinician, a vial,
/// the clinic): sent once per sync, with the first patient that holds it. Every other
/// resource belongs to one patient's record.
const SHARED: [&str; 3] = ["Practitioner", "Medication", "Organization"];

/// The fingerprint of what a patient's exported record depends on besides the chart and
/// the clock: kapchart's version (how it exports) and the clinic's config (its MRN system,
/// protocol, REMS rules). A base recorded under another fingerprint names no changes.
pub fn fingerprint(config: &Config) -> String {
    let text = format!("{}\n{config:?}", env!("CARGO_PKG_VERSION"));
    crate::domain::signature::hex(&Sha256::digest(text.as_bytes()))
}

/// One patient's resources as the export builds them, in sending order, leaving out those
/// of a shared type already in `seen`.
pub fn patient_resources(
    chart: &Chart,
    config: &Config,
    patient: PatientId,
    now: DateTime<FixedOffset>,
    seen: &mut HashSet<String>,
) -> Result<Vec<Resource>, AppError> {
    let mrn_system = config.clinic.mrn_system();
    let staff_system = config.clinic.staff_id_system();
    let record = crate::app::record::course_record_from(chart, config, patient, now)?;
    let mut bundle = crate::export::fhir::bundle(&record);
    let mut own: HashSet<String> = HashSet::new();
    let mut out: Vec<Resource> = Vec::new();
    let entries = match bundle["entry"].as_array_mut() {
        Some(list) => std::mem::take(list),
        None => Vec::new(),
    };
    for mut entry in entries {
        let json = entry["resource"].take();
        let rtype = json["resourceType"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let id = json["id"].as_str().unwrap_or_default().to_string();
        let key = format!("{rtype}/{id}");
        let first = if SHARED.contains(&rtype.as_str()) {
            seen.insert(key)
        } else {
            own.insert(key)
        };
        if !first {
            continue;
        }
        // Matched by identifier rather than sent under this chart's id: a patient by their
        // MRN under the clinic's system, a clinician by the clinic's staff id, else their NPI.
        let if_none_exist = match rtype.as_str() {
            "Patient" => mrn_system.and_then(|system| identifier_search(&json, system)),
            "Practitioner" => staff_system
                .and_then(|system| identifier_search(&json, system))
                .or_else(|| identifier_search(&json, crate::domain::npi::NPI_SYSTEM)),
            _ => None,
        };
        let sha256 = crate::domain::signature::hex(&Sha256::digest(json.to_string().as_bytes()));
        out.push(Resource {
            rtype,
            id,
            json,
            sha256,
            if_none_exist,
            held_at: None,
            create: None,
            resend: false,
        });
    }
    out.sort_by_key(|r| rank(&r.rtype));
    Ok(out)
}

/// The conditional create's search for `resource` by its identifier under `system`
/// (`identifier=system|value`), if it has one.
fn identifier_search(resource: &Value, system: &str) -> Option<String> {
    resource["identifier"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["system"] == system)
        .and_then(|i| i["value"].as_str())
        .map(|value| format!("identifier={}|{}", query_text(system), query_text(value)))
}

/// Every resource of the chart as the export builds it, each once, in sending order (every
/// patient's record held at once: for tests and small charts; a sync streams).
pub fn resources(
    chart: &Chart,
    config: &Config,
    now: DateTime<FixedOffset>,
) -> Result<Vec<Resource>, AppError> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for patient in crate::app::sync::patients(chart)? {
        out.extend(patient_resources(chart, config, patient, now, &mut seen)?);
    }
    out.sort_by_key(|r| rank(&r.rtype));
    Ok(out)
}

/// Whether the server has not acknowledged `r` as it stands.
fn changed(chart: &Chart, server: &str, r: &Resource) -> Result<bool, AppError> {
    Ok(crate::app::sync::sent_one(chart, server, &r.key())?.is_none_or(|s| s.sha256 != r.sha256))
}

/// Finds what a sync of `scope` would send to `server`: builds each patient's record in
/// scope, one at a time, and compares each resource with what the server last acknowledged.
/// `list` keeps each resource's `Type/id` and hash in the plan (for `--dry-run --json`).
pub fn plan(
    chart: &Chart,
    config: &Config,
    server: &str,
    scope: &Scope,
    now: DateTime<FixedOffset>,
    list: bool,
) -> Result<Plan, AppError> {
    let mut plan = Plan {
        head: chart.head()?,
        fingerprint: fingerprint(config),
        full: *scope == Scope::Full,
        ..Plan::default()
    };
    let patients = match scope {
        Scope::Full => crate::app::sync::patients(chart)?,
        Scope::Patients(p) => p.clone(),
    };
    let mut seen = HashSet::new();
    for patient in patients {
        let mut any = false;
        for r in patient_resources(chart, config, patient, now, &mut seen)? {
            if changed(chart, server, &r)? {
                plan.count(&r);
                if list {
                    plan.listed.push((r.key(), r.sha256.clone()));
                }
                any = true;
            } else {
                plan.unchanged += 1;
            }
        }
        plan.built += 1;
        if any {
            plan.patients.push(patient);
        }
    }
    Ok(plan)
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub sent: usize,
    pub bundles: usize,
    pub unchanged: usize,
}

/// Reads the server's CapabilityStatement: refuses a server that does not take transactions,
/// or that allows neither update as create nor conditional create of a type kapchart sends;
/// gives the types it allows only to create (sent by conditional create: `create.rs`).
pub fn check_server(server: &Server, plan: &Plan) -> Result<Vec<String>, SyncError> {
    let caps = server.capabilities().map_err(|error| SyncError::Server {
        bundle: 0,
        of: 0,
        error,
    })?;
    if caps["resourceType"] != "CapabilityStatement" {
        return Err(SyncError::Unsuitable(format!(
            "{}/metadata is not a FHIR CapabilityStatement; is {} a FHIR R4 base URL?",
            server.base, server.base
        )));
    }
    let rest = caps["rest"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["mode"] == "server"));
    let Some(rest) = rest else {
        return Err(SyncError::Unsuitable(
            "the server's CapabilityStatement offers no REST server".into(),
        ));
    };
    let transaction = rest["interaction"]
        .as_array()
        .is_some_and(|i| i.iter().any(|x| x["code"] == "transaction"));
    if !transaction {
        return Err(SyncError::Unsuitable(
            "the server does not take transaction bundles (its CapabilityStatement says so)".into(),
        ));
    }
    let resources = rest["resource"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let declared = |t: &str, flag: &str| {
        resources
            .iter()
            .find(|r| r["type"] == t)
            .is_some_and(|r| r[flag] == true)
    };
    // The chart's anchor is a Provenance, sent after every sync that sent something.
    let mut types: Vec<&str> = plan.put_types.iter().map(String::as_str).collect();
    if !types.contains(&"Provenance") {
        types.push("Provenance");
    }
    types.sort();
    let refused: Vec<&str> = types
        .iter()
        .copied()
        .filter(|t| !declared(t, "updateCreate") && !declared(t, "conditionalCreate"))
        .collect();
    if !refused.is_empty() {
        return Err(SyncError::Unsuitable(format!(
            "the server allows neither update as create nor conditional create of {} (its CapabilityStatement): kapchart sends each resource to its own id, or creates it only if the server holds none with its identifier, so that a resend leaves one copy; ask the server's administrator to allow one of them",
            refused.join(", ")
        )));
    }
    // Every type the server does not create by update, sent in this sync or not: what this
    // sync sends may point at one an earlier sync created, which the server holds under an
    // id of its own.
    let mut by_create: Vec<String> = resources
        .iter()
        .filter(|r| r["updateCreate"] != true)
        .filter_map(|r| r["type"].as_str().map(str::to_string))
        .collect();
    by_create.extend(
        types
            .iter()
            .filter(|t| !declared(t, "updateCreate"))
            .map(|t| t.to_string()),
    );
    by_create.sort();
    by_create.dedup();
    Ok(by_create)
}

/// Sends the plan: builds each of its patients' records again, one at a time, and sends
/// what the server has not acknowledged: a patient matched by MRN in a transaction of its
/// own, the rest in bundles of `bundle_size`, recording each bundle the server acknowledged
/// before sending the next. Once all of it went, records the plan's head as the server's
/// base (what the next sync compares against). `by_create` are the types the server takes
/// only by create (`check_server`). `progress` hears (resources sent, of how many) after each
/// bundle.
#[allow(clippy::too_many_arguments)]
pub fn send(
    chart: &mut Chart,
    config: &Config,
    server: &Server,
    plan: Plan,
    by_create: Vec<String>,
    bundle_size: usize,
    now: DateTime<FixedOffset>,
    mut progress: impl FnMut(usize, usize),
) -> Result<Done, SyncError> {
    let size = bundle_size.max(1);
    let creates = Creates::new(
        by_create,
        chart.uuid()?,
        crate::app::record::identifier_system(chart, config)?,
    );
    let total = plan.to_send;
    let mut of = plan.bundles(size);
    // Where this chart's patients and clinicians are on the server when another laptop's
    // record holds them (matched by an identifier before).
    let mut matched: HashMap<String, String> = crate::app::sync::sent_people(chart, &server.base)?
        .into_values()
        .filter_map(|s| held_elsewhere(&s))
        .collect();
    let mut seen = HashSet::new();
    let mut pending: Vec<Resource> = Vec::new();
    let mut last: Vec<Resource> = Vec::new();
    let mut sent = 0;
    let mut bundles = 0;
    let mut again = false;
    for &patient in &plan.patients {
        let mut rest = Vec::new();
        for r in patient_resources(chart, config, patient, now, &mut seen)? {
            let before = crate::app::sync::sent_one(chart, &server.base, &r.key())?;
            if before.as_ref().is_some_and(|s| s.sha256 == r.sha256) {
                continue;
            }
            let r = creates.prepare(where_held(r, before.as_ref()), before.is_some());
            if r.if_none_exist.is_some() {
                bundles += 1;
                of = of.max(bundles);
                let to = Delivery {
                    bundle: bundles,
                    of,
                };
                last = deliver(chart, server, vec![r], &mut matched, &creates, to, now)?;
                again |= last.iter().any(|r| r.resend);
                sent += 1;
                progress(sent, total.max(sent));
            } else {
                rest.push(r);
            }
        }
        pending.extend(rest);
        while pending.len() >= size {
            let batch: Vec<Resource> = pending.drain(..size).collect();
            bundles += 1;
            of = of.max(bundles);
            sent += batch.len();
            let to = Delivery {
                bundle: bundles,
                of,
            };
            last = deliver(chart, server, batch, &mut matched, &creates, to, now)?;
            again |= last.iter().any(|r| r.resend);
            progress(sent, total.max(sent));
        }
    }
    if !pending.is_empty() {
        let batch = std::mem::take(&mut pending);
        bundles += 1;
        of = of.max(bundles);
        sent += batch.len();
        let to = Delivery {
            bundle: bundles,
            of,
        };
        last = deliver(chart, server, batch, &mut matched, &creates, to, now)?;
        again |= last.iter().any(|r| r.resend);
        progress(sent, total.max(sent));
    }
    // A resource recorded to be sent again (`Resource::resend`) is in no patient the next
    // sync would otherwise build: no base, so that it builds them all.
    if let Some(head) = plan.head.as_ref().filter(|_| !again) {
        crate::app::sync::record_base(chart, &server.base, head, now, &plan.fingerprint)?;
    }
    if !last.is_empty() {
        anchor::anchor(chart, server, &last, &creates, now)?;
    }
    Ok(Done {
        sent,
        bundles,
        unchanged: plan.unchanged,
    })
}

/// Which bundle of how many one delivery is (1-based).
#[derive(Debug, Clone, Copy)]
struct Delivery {
    bundle: usize,
    of: usize,
}

/// Sends one bundle and records what the server acknowledged; gives the batch back.
fn deliver(
    chart: &mut Chart,
    server: &Server,
    mut batch: Vec<Resource>,
    matched: &mut HashMap<String, String>,
    creates: &Creates,
    to: Delivery,
    now: DateTime<FixedOffset>,
) -> Result<Vec<Resource>, SyncError> {
    let Delivery { bundle, of } = to;
    let local = create::placed(chart, &server.base, &mut batch, matched, creates)?;
    let body = transaction(server, &batch, &|key: &str| {
        local.get(key).or_else(|| matched.get(key)).cloned()
    });
    let answer = server
        .transaction(&body)
        .map_err(|error| SyncError::Server { bundle, of, error })?;
    let acknowledged = acknowledged(&batch, &answer).map_err(|why| SyncError::Server {
        bundle,
        of,
        error: ServerError::Unreadable { why },
    })?;
    matched.extend(
        acknowledged
            .iter()
            .filter(|s| {
                s.resource.starts_with("Patient/") || s.resource.starts_with("Practitioner/")
            })
            .filter_map(held_elsewhere),
    );
    crate::app::sync::record(chart, &server.base, &acknowledged, now)
        .map_err(|error| SyncError::Unrecorded { bundle, of, error })?;
    for (r, s) in batch.iter_mut().zip(&acknowledged) {
        r.resend |= s.sha256.is_empty();
    }
    Ok(batch)
}

/// A resource the server acknowledged before goes where the server holds it. Held under this
/// chart's id, it is updated there, even when it has since gained an identifier to match by
/// (a clinician given an NPI after a sync): matching it now would leave a second copy. Held
/// under another laptop's id (matched by an identifier before), it is matched again while it
/// has that identifier (the other laptop's copy is not overwritten), and updated there once
/// it has none (an identifier withdrawn), so that the server keeps one copy.
pub(super) fn where_held(mut r: Resource, before: Option<&Sent>) -> Resource {
    let Some(s) = before else {
        return r;
    };
    if s.server_id == r.id {
        r.if_none_exist = None;
    } else if r.if_none_exist.is_none() {
        r.held_at = Some(s.server_id.clone());
    }
    r
}

/// Where the server holds a resource it acknowledged under another id than this chart's (a
/// patient or clinician another laptop sent first): (this chart's `Type/id`, the server's).
fn held_elsewhere(s: &Sent) -> Option<(String, String)> {
    let (rtype, id) = s.resource.split_once('/')?;
    (id != s.server_id).then(|| (s.resource.clone(), format!("{rtype}/{}", s.server_id)))
}
