//! `kapchart course start|show`: a patient's course of treatment (planned dosing sessions,
//! goals), and its progress, sessions, outcome trend and integrations.

use crate::app::access::Access;
use crate::app::course;
use crate::cli::audited::record_access;
use crate::cli::lines::{session_line, to_json};
use crate::cli::parse::second;
use crate::cli::{Ctx, Outcome};
use crate::domain::SessionKind;
use crate::domain::course::DEFAULT_PLANNED_DOSING;
use crate::domain::integration;
use crate::domain::measures;
use clap::Subcommand;
use std::io::Write;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a course of treatment for a patient; prints its id
    Start {
        #[arg(long)]
        patient: i64,
        /// Planned dosing sessions (usually about 6)
        #[arg(long, default_value_t = DEFAULT_PLANNED_DOSING)]
        planned: u32,
        /// A goal of the course (repeat for several)
        #[arg(long = "goal")]
        goals: Vec<String>,
        /// Start a new course in place of the patient's course (which stays in the chart)
        #[arg(long)]
        new_course: bool,
    },
    /// Progress, sessions, outcome trend and integrations of a patient's course
    Show {
        #[arg(long)]
        patient: i64,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(ctx: &Ctx, cmd: Command, out: &mut impl Write) -> Outcome {
    let mut chart = ctx.open()?;
    match cmd {
        Command::Start {
            patient,
            planned,
            goals,
            new_course,
        } => {
            let id = course::start_course(
                &mut chart,
                patient,
                planned,
                &goals,
                second(new_course),
                crate::clock::now(),
            )?;
            writeln!(out, "{id}")?;
        }
        Command::Show { patient, json } => {
            let now = crate::clock::now();
            let p = chart.patient(patient)?;
            let sessions = chart.sessions(Some(patient))?;
            let c = chart.course(patient)?;
            let planned = c
                .as_ref()
                .map(|c| c.planned_dosing)
                .unwrap_or(DEFAULT_PLANNED_DOSING);
            let dosing_done = sessions
                .iter()
                .filter(|s| s.kind == SessionKind::Dosing && s.ended.is_some())
                .count();
            let measures: Vec<_> = course::patient_measures(&chart, patient)?
                .into_iter()
                .map(|(_, at, m)| (at, m))
                .collect();
            let trends = measures::trends(&measures);
            let doses = crate::app::views::first_doses(&chart, &ctx.config, &sessions)?;
            let dues = integration::integrations(&sessions, &doses, &ctx.config.integration, now);
            let flag = course::safety_flag(&chart, patient)?;
            record_access(&mut chart, Access::ViewPatient(patient));
            if json {
                let trends: Vec<_> = trends
                    .iter()
                    .map(|t| {
                        serde_json::json!({
                            "instrument": t.instrument,
                            "points": t.points.iter().map(|(at, total)| serde_json::json!({"at": at, "total": total})).collect::<Vec<_>>(),
                            "baseline": t.baseline,
                            "latest": t.latest,
                            "change": t.change,
                        })
                    })
                    .collect();
                let dues: Vec<_> = dues
                    .iter()
                    .map(|d| serde_json::json!({"dosing_session": d.dosing, "from": d.window.0, "until": d.window.1, "status": d.status.to_string()}))
                    .collect();
                let v = serde_json::json!({
                    "patient": p,
                    "course": c,
                    "planned_dosing": planned,
                    "dosing_done": dosing_done,
                    "sessions": sessions,
                    "trends": trends,
                    "integrations": dues,
                    "safety_flag": flag.map(|f| f.to_string()),
                });
                writeln!(out, "{}", to_json(&v))?;
                return Ok(());
            }
            writeln!(out, "{}: dosing {dosing_done} of {planned}", p.name)?;
            if let Some(f) = flag {
                writeln!(out, "! SAFETY: {f}")?;
            }
            for g in c.iter().flat_map(|c| &c.goals) {
                writeln!(out, "goal: {g}")?;
            }
            for s in sessions.iter().rev() {
                writeln!(out, "{}", session_line(s, &p.name))?;
            }
            for t in &trends {
                let points: Vec<String> = t
                    .points
                    .iter()
                    .map(|(at, v)| format!("{} {v}", at.format("%d %b")))
                    .collect();
                let change = t.change.map(|c| format!("{c:+}")).unwrap_or_default();
                let note = measures::change_meaning(t, &ctx.config.measures)
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{}: {} · change from baseline {change}{note}",
                    t.instrument,
                    points.join(" → ")
                )?;
            }
            for d in dues.iter().filter(|d| !d.status.is_done()) {
                writeln!(out, "dosing session {}: {}", d.dosing, d.status)?;
            }
        }
    }
    Ok(())
}
