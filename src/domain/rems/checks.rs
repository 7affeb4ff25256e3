//! The Spravato REMS checks before discharge, added to the protocol's checks in a session
//! where a REMS drug is given: a BP before discharge, and sedation, dissociation and
//! respiratory status resolved. The REMS page (last update 31 Dec 2024; clinical.md section 2)
//! monitors "for at least two hours and until resolution of sedation, dissociation and
//! respiratory depression"; the BP before and at 40 minutes are the protocol's baseline and
//! T+40 checks (Spravato PI 5.6), and the form asks for the BP before the end.
//!
//! Each is due when the minimum observation ends, turns overdue with the protocol's grace,
//! and is done by an entry of its kind that stands from `discharge_window_min` before that
//! time (the first one after the last that was not resolved): a BP for the BP check; a MOAA/S above `sedation_moaas_at_or_below`, a CADSS-6
//! below `dissociation_cadss6_at_or_above`, a `resp ok`. A later entry that is not resolved
//! opens the check again. Once the session has ended, a check without one is missed. Which
//! of them a clinic uses is `[rems] discharge_checks`.

use super::RemsRules;
use crate::domain::protocol::{Check, CheckKind, CheckStatus, ProtocolConfig};
use crate::domain::{ChartLine, EntryStatus, Payload};
use chrono::{DateTime, Duration, FixedOffset};

/// One before-discharge check a clinic may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DischargeCheck {
    Bp,
    Sedation,
    Dissociation,
    Respiration,
}

impl DischargeCheck {
    /// The check named in `[rems] discharge_checks`.
    pub fn from_name(name: &str) -> Option<DischargeCheck> {
        match name.trim().to_ascii_lowercase().as_str() {
            "bp" => Some(DischargeCheck::Bp),
            "sedation" => Some(DischargeCheck::Sedation),
            "dissociation" => Some(DischargeCheck::Dissociation),
            "respiration" => Some(DischargeCheck::Respiration),
            _ => None,
        }
    }

    fn kind(self) -> CheckKind {
        match self {
            DischargeCheck::Bp => CheckKind::BpBeforeDischarge,
            DischargeCheck::Sedation => CheckKind::SedationResolved,
            DischargeCheck::Dissociation => CheckKind::DissociationResolved,
            DischargeCheck::Respiration => CheckKind::RespirationResolved,
        }
    }

    /// Whether a payload is of this check's kind, and if so whether it resolves it.
    fn resolves(self, rules: &RemsRules, payload: &Payload) -> Option<bool> {
        match (self, payload) {
            (DischargeCheck::Bp, Payload::Vitals(v)) => v.bp.map(|_| true),
            (DischargeCheck::Sedation, Payload::Sedation(s)) => {
                Some(s.moaas > rules.sedation_moaas_at_or_below)
            }
            (DischargeCheck::Dissociation, Payload::Dissociation(d)) => {
                Some(d.total() < rules.dissociation_cadss6_at_or_above)
            }
            (DischargeCheck::Respiration, Payload::Respiration(r)) => Some(!r.depressed),
            _ => None,
        }
    }
}

/// The before-discharge checks of a REMS session at `now` (none before the first dose).
pub fn discharge_checks(
    rules: &RemsRules,
    protocol: &ProtocolConfig,
    first_dose: Option<DateTime<FixedOffset>>,
    ended: Option<DateTime<FixedOffset>>,
    lines: &[ChartLine],
    now: DateTime<FixedOffset>,
) -> Vec<Check> {
    let Some(dose) = first_dose else {
        return Vec::new();
    };
    let due = dose + Duration::minutes(i64::from(protocol.minimum_observation_min));
    let from = due - Duration::minutes(i64::from(rules.discharge_window_min));
    let grace = Duration::minutes(i64::from(protocol.overdue_after_min));
    let limit = ended.unwrap_or(now);
    let mut current: Vec<&ChartLine> = lines
        .iter()
        .filter(|l| l.status == EntryStatus::Current)
        .filter(|l| l.entry.event_time >= from && l.entry.event_time > dose)
        .filter(|l| l.entry.event_time <= limit)
        .collect();
    current.sort_by_key(|l| (l.entry.event_time, l.entry.id));
    rules
        .discharge_checks
        .iter()
        .filter_map(|name| DischargeCheck::from_name(name))
        .filter_map(|check| {
            // The first entry of the last resolved run: an entry that is not resolved opens
            // the check again, and later entries that are do not move the time it was met.
            let mut latest = None;
            for l in &current {
                match check.resolves(rules, &l.entry.payload) {
                    Some(true) if latest.is_none() => latest = Some((*l, true)),
                    Some(false) => latest = None,
                    _ => {}
                }
            }
            let status = match latest {
                Some((l, true)) => CheckStatus::closed(l.entry.id, l.entry.event_time, due, grace),
                // Ended before it fell due: the minimum observation's reminder covers that,
                // as it does for the protocol's checks past the end.
                _ if ended.is_some_and(|e| e < due) => return None,
                _ => CheckStatus::unclosed(due, grace, ended, None, now),
            };
            Some(Check {
                kind: check.kind(),
                due: Some(due),
                t_plus_min: Some(protocol.minimum_observation_min),
                status,
                needs: crate::domain::protocol::Signs::NONE,
                charted: crate::domain::protocol::Signs::NONE,
            })
        })
        .collect()
}
