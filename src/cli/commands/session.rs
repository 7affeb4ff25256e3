//! `kapchart session start|end|checks|list|show`: sessions, their protocol checks, and their
//! entries in event-time order with their history.

use super::session_checks;
use crate::app::NewSession;
use crate::app::access::Access;
use crate::app::charting;
use crate::cli::audited::record_access;
use crate::cli::lines::{acknowledged_by, entry_line, patient_line, session_line, to_json};
use crate::cli::parse::parse_container;
use crate::cli::parse::second;
use crate::cli::{Ctx, Outcome};
use crate::domain::SessionKind;
use crate::domain::stock::ContainerId;
use clap::Subcommand;
use std::io::Write;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a session now; prints the new id
    Start {
        #[arg(long)]
        patient: i64,
        /// intake, preparation, dosing, integration or follow-up
        #[arg(long)]
        kind: SessionKind,
        /// The patient's intention (dosing sessions)
        #[arg(long)]
        intention: Option<String>,
        /// The dosing session an integration session follows
        #[arg(long)]
        dosing: Option<i64>,
        /// Open a second dosing session although the patient has one open
        #[arg(long)]
        second_dosing_session: bool,
    },
    /// End a session now. Before the minimum observation, without a ride home, with the
    /// Aldrete score below the level, with alerts not acknowledged or checks without a
    /// reading, it is refused with the list unless --reason is given
    End {
        id: i64,
        /// Why the session ends now despite what stands against it (recorded)
        #[arg(long)]
        reason: Option<String>,
        /// A container opened in the session whose rest is wasted now (a waste entry,
        /// awaiting its witness), like V12; repeat for each
        #[arg(long, value_parser = parse_container)]
        waste: Vec<ContainerId>,
        /// A multi-dose vial opened in the session whose rest is kept until its beyond-use
        /// date, like V12; repeat for each
        #[arg(long, value_parser = parse_container)]
        keep: Vec<ContainerId>,
    },
    /// A dosing session's protocol checks: due time, state, and the entry that closed each
    Checks {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// List sessions, newest first
    List {
        #[arg(long)]
        patient: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Show a session's entries in event-time order, with their history
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(ctx: &Ctx, cmd: Command, out: &mut impl Write) -> Outcome {
    let mut chart = ctx.open()?;
    match cmd {
        Command::Start {
            patient,
            kind,
            intention,
            dosing,
            second_dosing_session,
        } => {
            let now = crate::clock::now();
            let id = crate::app::course::start_session(
                &mut chart,
                NewSession {
                    patient_id: patient,
                    kind,
                    started: now,
                    intention,
                    dosing_session_id: dosing,
                },
                second(second_dosing_session),
                now,
            )?;
            writeln!(out, "{id}")?;
        }
        Command::End {
            id,
            reason,
            waste,
            keep,
        } => {
            let rests: Vec<(ContainerId, charting::Rest)> = waste
                .into_iter()
                .map(|c| (c, charting::Rest::Waste))
                .chain(keep.into_iter().map(|c| (c, charting::Rest::Keep)))
                .collect();
            let written = charting::end_session_with_rests(
                &mut chart,
                &ctx.config,
                id,
                Vec::new(),
                reason.as_deref(),
                &rests,
                &crate::clock::now_local(),
            )?;
            // The end is the last entry written.
            if let Some(end) = written.last() {
                writeln!(out, "{}", end.id)?;
            }
        }
        Command::Checks { id, json } => {
            let s = charting::session_chart(&chart, &ctx.config, id)?;
            record_access(&mut chart, Access::ViewSession(id));
            session_checks::print(&s, crate::clock::now(), json, out)?;
        }
        Command::List { patient, json } => {
            if let Some(p) = patient {
                chart.patient(p)?;
            }
            let sessions = chart.sessions(patient)?;
            if json {
                writeln!(out, "{}", to_json(&sessions))?;
            } else {
                // Each session names its patient (read once per patient).
                let mut ids: Vec<i64> = sessions.iter().map(|s| s.patient_id).collect();
                ids.sort_unstable();
                ids.dedup();
                let names: std::collections::HashMap<i64, String> = chart
                    .patients_with_ids(&ids)?
                    .into_iter()
                    .map(|p| (p.id, p.name))
                    .collect();
                for s in &sessions {
                    let name = names.get(&s.patient_id).map_or("", String::as_str);
                    writeln!(out, "{}", session_line(s, name))?;
                }
            }
        }
        Command::Show { id, json } => {
            let s = chart.session(id)?;
            let patient = chart.patient(s.patient_id)?;
            let session = charting::session_chart(&chart, &ctx.config, id)?;
            let lines = session.lines();
            record_access(&mut chart, Access::ViewSession(id));
            if json {
                let entries: Vec<_> = lines
                    .iter()
                    .map(|l| {
                        let mut v = serde_json::to_value(l).unwrap_or_default();
                        v["kind"] = l.entry.payload.kind().into();
                        v["summary"] = session.summary(&l.entry).into();
                        if let Some(by) = acknowledged_by(&session, l) {
                            v["acknowledged_by"] = by.into();
                        }
                        v
                    })
                    .collect();
                let v = serde_json::json!({ "session": s, "patient": patient, "entries": entries });
                writeln!(out, "{}", to_json(&v))?;
            } else {
                writeln!(out, "{}", session_line(&s, &patient.name))?;
                writeln!(
                    out,
                    "patient {}",
                    patient_line(&patient, crate::clock::today()).trim_start()
                )?;
                if let Some(i) = &s.intention {
                    writeln!(out, "intention: {i}")?;
                }
                for l in lines {
                    writeln!(out, "{}", entry_line(&session, l))?;
                }
            }
        }
    }
    Ok(())
}
