//! `kapchart witness ENTRY`: the clinician signed in (KAPCHART_CLINICIAN and
//! KAPCHART_PASSPHRASE, or asked) witnesses a dose another clinician charted.

use crate::cli::{Ctx, Outcome};
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The dose's entry id
    entry: i64,
}

pub fn run(ctx: &Ctx, args: Args, out: &mut impl Write) -> Outcome {
    let mut chart = ctx.open()?;
    let id = chart.witness_dose(args.entry, crate::clock::now())?;
    crate::logging::event(&ctx.paths.log, "entry.witness", &[]);
    writeln!(out, "{id}")?;
    Ok(())
}
