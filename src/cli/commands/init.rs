//! `kapchart init`: creates a new, encrypted chart, its first clinician the team's admin,
//! and prints the root fingerprint to keep away from the laptop.

use crate::app::{AppError, Chart};
use crate::cli::prompt::{chart_passphrase, check_strength};
use crate::cli::{Ctx, Failure, Outcome};
use crate::logging;
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The clinician who charts in it (default: your user name)
    #[arg(long)]
    clinician: Option<String>,
}

pub fn run(ctx: &Ctx, args: Args, out: &mut impl Write) -> Outcome {
    let clinician = args
        .clinician
        .or_else(|| std::env::var("USER").ok())
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| Failure::runtime("who charts here? give --clinician NAME"))?;
    if ctx.paths.chart.exists() {
        return Err(AppError::already_exists(ctx.paths.chart.clone()).into());
    }
    let passphrase = chart_passphrase(true)?;
    check_strength(&ctx.config, &passphrase, &clinician, "no chart was created")?;
    let chart = Chart::create(
        &ctx.paths.chart,
        &passphrase,
        &clinician,
        ctx.config.chart.busy_timeout_ms,
        crate::clock::now(),
    )?;
    logging::event(&ctx.paths.log, "chart.create", &[]);
    writeln!(out, "created {}", ctx.paths.chart.display())?;
    if let Some(root) = chart.root()? {
        writeln!(
            out,
            "root {root}\n(the fingerprint of {}'s key, which every clinician's key is certified back to: keep it away from this laptop, e.g. on paper in the clinic's records, and check it with `kapchart verify --root`)",
            chart.clinician().name
        )?;
    }
    Ok(())
}
