//! `kapchart integrations`: the integration sessions due, upcoming and overdue (48-72 h
//! after each dosing session).

use crate::cli::lines::to_json;
use crate::cli::{Ctx, Outcome};
use crate::domain::integration::{self, IntegrationStatus};
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: Args, out: &mut impl Write) -> Outcome {
    let chart = ctx.open()?;
    let sessions = chart.sessions(None)?;
    let now = crate::clock::now();
    let doses = crate::app::views::first_doses(&chart, &ctx.config, &sessions)?;
    let dues = integration::pending(&sessions, &doses, &ctx.config.integration, now);
    if args.json {
        let v: Vec<_> = dues
            .iter()
            .map(|d| {
                let state = match d.status {
                    IntegrationStatus::Overdue { .. } => "overdue",
                    IntegrationStatus::Due { .. } => "due",
                    IntegrationStatus::Upcoming { .. } => "upcoming",
                    IntegrationStatus::Done { .. } => "done",
                };
                serde_json::json!({"dosing_session": d.dosing, "patient": d.patient, "from": d.window.0, "until": d.window.1, "status": state})
            })
            .collect();
        writeln!(out, "{}", to_json(&v))?;
        return Ok(());
    }
    for d in dues {
        let name = chart.patient(d.patient).map(|p| p.name).unwrap_or_default();
        writeln!(out, "dosing session {:<4} {name}: {}", d.dosing, d.status)?;
    }
    Ok(())
}
