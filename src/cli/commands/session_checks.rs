//! `kapchart session checks ID [--json]`: every protocol check of a dosing session with its
//! due time, state (upcoming, due, overdue, done, done late, missed), the entry that closed
//! it, and for a round charted in part the signs still missing. Missed and late checks are
//! part of the record.

use crate::cli::Outcome;
use crate::domain::chart::SessionChart;
use crate::domain::protocol::CheckStatus;
use chrono::{DateTime, FixedOffset};
use std::io::Write;

pub fn print(
    session: &SessionChart,
    now: DateTime<FixedOffset>,
    json: bool,
    out: &mut impl Write,
) -> Outcome {
    let checks = session.checks(now);
    if json {
        let rows: Vec<_> = checks
            .iter()
            .map(|c| {
                let late = match c.status {
                    CheckStatus::DoneLate { late_min, .. } => Some(late_min),
                    _ => None,
                };
                serde_json::json!({
                    "check": c.kind.to_string(),
                    "t_plus_min": c.t_plus_min,
                    "due": c.due.map(|d| d.to_rfc3339()),
                    "state": c.status.as_str(),
                    "late_min": late,
                    "closed_by": c.status.closed_by(),
                    "needs": c.needs,
                    "charted": c.charted,
                    "missing": c.missing().unwrap_or_default(),
                })
            })
            .collect();
        let v = serde_json::json!({ "session": session.session().id, "checks": rows });
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&v).unwrap_or_default()
        )?;
        return Ok(());
    }
    if !session.is_dosing() {
        writeln!(
            out,
            "session {} is {} session: the protocol's checks apply to dosing sessions",
            session.session().id,
            crate::domain::with_article(session.session().kind.as_str())
        )?;
        return Ok(());
    }
    if checks.is_empty() {
        writeln!(out, "no checks: the protocol asks for none yet")?;
    }
    for c in &checks {
        let due = c
            .due
            .map(|d| d.format("%H:%M").to_string())
            .unwrap_or_else(|| "before the dose".into());
        let t = c
            .t_plus_min
            .map(|t| crate::domain::since_dose::t_plus_minutes(i64::from(t)))
            .unwrap_or_default();
        let by = c
            .status
            .closed_by()
            .map(|e| format!("  entry {e}"))
            .unwrap_or_default();
        writeln!(
            out,
            "{due:>15}  {t:<6} {:<24} {}{by}",
            c.kind.to_string(),
            c.state_text()
        )?;
    }
    Ok(())
}
