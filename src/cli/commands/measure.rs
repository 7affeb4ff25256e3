//! `kapchart measure add|list`: outcome measures (PHQ-9, GAD-7, PCL-5) answered item by
//! item, with their totals and bands.

use crate::app::access::Access;
use crate::app::charting;
use crate::app::course;
use crate::cli::audited::record_access;
use crate::cli::lines::{join_ids, say_safety, to_json};
use crate::cli::{Ctx, Failure, Outcome};
use crate::domain::measures::Instrument;
use clap::Subcommand;
use std::io::Write;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Record a questionnaire answered item by item: phq9 (9 items 0-3), gad7 (7 items 0-3),
    /// pcl5 (20 items 0-4); prints the entry id
    Add {
        #[arg(long)]
        session: i64,
        /// phq9, gad7 or pcl5
        instrument: String,
        /// The answers, in item order
        #[arg(num_args = 1.., allow_negative_numbers = true)]
        items: Vec<String>,
    },
    /// A patient's questionnaires with total and band, oldest first
    List {
        #[arg(long)]
        patient: i64,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(ctx: &Ctx, cmd: Command, out: &mut impl Write) -> Outcome {
    match cmd {
        Command::Add {
            session,
            instrument,
            items,
        } => {
            let mut chart = ctx.open()?;
            let known = Instrument::ALL
                .iter()
                .find(|i| i.keyword() == instrument.to_lowercase());
            let Some(instrument) = known else {
                return Err(Failure::runtime(format!(
                    "unknown questionnaire '{instrument}'; expected phq9, gad7 or pcl5"
                )));
            };
            let line = format!("{} {}", instrument.keyword(), items.join(" "));
            let charted = charting::record_line(
                &mut chart,
                &ctx.config,
                session,
                &line,
                &crate::clock::now_local(),
            )?;
            writeln!(out, "{}", join_ids(&charted.ids))?;
            say_safety(&charted);
            Ok(())
        }
        Command::List { patient, json } => {
            let mut chart = ctx.open()?;
            chart.patient(patient)?;
            let rows = course::patient_measures(&chart, patient)?;
            record_access(&mut chart, Access::ViewPatient(patient));
            if json {
                let v: Vec<_> = rows
                    .iter()
                    .map(|(id, at, m)| {
                        serde_json::json!({
                            "entry": id, "at": at, "instrument": m.instrument,
                            "items": m.items, "total": m.total, "band": m.band,
                        })
                    })
                    .collect();
                writeln!(out, "{}", to_json(&v))?;
            } else {
                for (id, at, m) in rows {
                    writeln!(
                        out,
                        "{id:>5}  {}  {} {} ({})",
                        at.format("%Y-%m-%d %H:%M"),
                        m.instrument,
                        m.total,
                        m.band
                    )?;
                }
            }
            Ok(())
        }
    }
}
