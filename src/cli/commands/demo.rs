//! `kapchart demo`: creates (or reopens) a demo chart with synthetic patients and a team,
//! or one of clinic size (`--patients N`), then opens it.

use crate::app::Chart;
use crate::cli::progress::progress_bar;
use crate::cli::screen::{Start, open_tui};
use crate::cli::{Ctx, Failure, Outcome};
use crate::{demo, logging};
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only create the demo chart; do not open the TUI
    #[arg(long)]
    no_tui: bool,
    /// Generate a chart of clinic size instead: this many synthetic patients, each with
    /// a whole course (about 300 entries each; a ten-year clinic is about 2,000)
    #[arg(long)]
    patients: Option<usize>,
    /// Seed for --patients: the same seed gives the same chart
    #[arg(long, default_value_t = 1, requires = "patients")]
    seed: u64,
}

pub fn run(ctx: &Ctx, args: Args, out: &mut impl Write) -> Outcome {
    let Args {
        no_tui,
        patients,
        seed,
    } = args;
    let passphrase = std::env::var("KAPCHART_PASSPHRASE")
        .ok()
        .filter(|p| !p.is_empty());
    let announced = passphrase.is_none();
    let passphrase = passphrase.unwrap_or_else(|| demo::DEMO_PASSPHRASE.to_string());
    if let Some(n) = patients {
        let chart = scale_demo(ctx, &passphrase, n, seed, out)?;
        if announced {
            writeln!(out, "demo passphrase: {passphrase}")?;
        }
        return if no_tui {
            Ok(())
        } else {
            out.flush()?;
            open_tui(ctx, ctx.paths.demo_chart.clone(), Some(chart), Start::Home)
        };
    }
    let who = std::env::var("KAPCHART_CLINICIAN").unwrap_or_default();
    let (chart, created) = demo::open_or_create(
        &ctx.paths.demo_chart,
        &who,
        &passphrase,
        &ctx.config,
        crate::clock::now_local(),
    )?;
    let verb = if created { "created" } else { "reopened" };
    writeln!(out, "demo chart {verb}: {}", ctx.paths.demo_chart.display())?;
    if announced {
        writeln!(out, "demo passphrase: {passphrase}")?;
    }
    if created {
        let team: Vec<String> = std::iter::once(format!("{} (admin)", demo::DEMO_ADMIN))
            .chain(
                demo::DEMO_TEAM
                    .iter()
                    .map(|(name, role, _)| format!("{name} ({role})")),
            )
            .collect();
        writeln!(
            out,
            "demo team, each with the demo passphrase (sign in with KAPCHART_CLINICIAN=NAME): {}",
            team.join(", ")
        )?;
    }
    if no_tui {
        Ok(())
    } else {
        out.flush()?;
        open_tui(ctx, ctx.paths.demo_chart.clone(), Some(chart), Start::Home)
    }
}

/// A new chart of clinic size, with progress on a terminal.
fn scale_demo(
    ctx: &Ctx,
    passphrase: &str,
    patients: usize,
    seed: u64,
    out: &mut impl Write,
) -> Result<Chart, Failure> {
    if patients == 0 {
        return Err(Failure::runtime("--patients needs at least 1"));
    }
    let path = &ctx.paths.demo_chart;
    let now = crate::clock::now();
    let mut chart = Chart::create(
        path,
        passphrase,
        "Dr. Demo Clinician",
        ctx.config.chart.busy_timeout_ms,
        now,
    )?;
    let bar = progress_bar("generating entries");
    let started = std::time::Instant::now();
    let report = crate::demo::scale::generate(
        &mut chart,
        &ctx.config,
        patients,
        seed,
        now,
        &mut |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    )?;
    bar.finish_and_clear();
    // What was written is walked once, as the next open would, so that it starts from here.
    chart.check_written()?;
    let secs = started.elapsed().as_secs_f64();
    logging::event(
        &ctx.paths.log,
        "demo.scale",
        &[
            ("patients", report.patients as i64),
            ("entries", report.entries as i64),
        ],
    );
    writeln!(
        out,
        "demo chart created: {} ({} patients, {} sessions, {} entries in {secs:.1} s)",
        path.display(),
        report.patients,
        report.sessions,
        report.entries
    )?;
    Ok(chart)
}
