//! `kapchart audit`: who did what to the record, newest first. The trail holds ids, never
//! what the record says, so this lists clinicians' names, actions and object ids only.

use crate::app::care::{TrailOf, TrailRow};
use crate::cli::lines::to_json;
use crate::cli::{Ctx, Outcome};
use chrono::{Local, TimeZone, Utc};
use std::io::Write;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("about").args(["patient", "session"])))]
pub struct Args {
    /// Only the rows about this patient's record: details, courses, sessions, entries,
    /// notes and exports
    #[arg(long, value_name = "ID")]
    patient: Option<i64>,
    /// Only the rows about this session: its entries, its note and its exports
    #[arg(long, value_name = "ID")]
    session: Option<i64>,
    /// At most this many rows (the newest)
    #[arg(long, value_name = "N", value_parser = parse_limit)]
    limit: Option<u32>,
    /// Machine-readable output: an array of objects
    #[arg(long)]
    json: bool,
}

fn parse_limit(s: &str) -> Result<u32, String> {
    s.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            format!("'{s}' is not a number of rows; expected a whole number from 1, e.g. 20")
        })
}

pub fn run(ctx: &Ctx, args: Args, out: &mut impl Write) -> Outcome {
    let chart = ctx.open()?;
    let of = match (args.patient, args.session) {
        (Some(p), _) => {
            chart.patient(p)?;
            TrailOf::Patient(p)
        }
        (None, Some(s)) => {
            chart.session(s)?;
            TrailOf::Session(s)
        }
        (None, None) => TrailOf::Chart,
    };
    let rows = chart.audit_trail(of, args.limit)?;
    if args.json {
        let v: Vec<serde_json::Value> = rows.iter().map(row_json).collect();
        writeln!(out, "{}", to_json(&v))?;
        return Ok(());
    }
    if rows.is_empty() {
        writeln!(out, "no audit rows")?;
        return Ok(());
    }
    let width = rows
        .iter()
        .map(|r| who(r).chars().count())
        .max()
        .unwrap_or(0)
        .min(32);
    for r in &rows {
        writeln!(
            out,
            "{:>6}  {}  {:<width$}  {:<15} {} {}",
            r.seq,
            when(r).format("%Y-%m-%d %H:%M:%S %:z"),
            who(r),
            r.action,
            r.object_kind,
            r.object_id
        )?;
    }
    Ok(())
}

/// The row's time on this machine's clock.
fn when(r: &TrailRow) -> chrono::DateTime<Local> {
    Utc.timestamp_millis_opt(r.at_ms)
        .single()
        .unwrap_or_default()
        .with_timezone(&Local)
}

/// The clinician's name, or "kapchart" for rows the program wrote itself.
fn who(r: &TrailRow) -> String {
    match (&r.clinician, r.clinician_id) {
        (Some(name), _) => name.clone(),
        (None, Some(id)) => format!("clinician {id}"),
        (None, None) => "kapchart".into(),
    }
}

/// The JSON object of one row; these field names are stable.
fn row_json(r: &TrailRow) -> serde_json::Value {
    serde_json::json!({
        "seq": r.seq,
        "at": when(r).to_rfc3339(),
        "clinician_id": r.clinician_id,
        "clinician": r.clinician,
        "action": r.action,
        "object_kind": r.object_kind,
        "object_id": r.object_id,
    })
}
