//! `kapchart amend ENTRY --reason TEXT LINE`: a corrected entry in place of one; the
//! original stays in the record, pointed at by the correction.

use crate::app::charting;
use crate::cli::{Ctx, Outcome};
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct Args {
    entry: i64,
    /// Why the entry is corrected
    #[arg(long)]
    reason: String,
    /// The corrected entry as a quick-entry line
    line: String,
}

pub fn run(ctx: &Ctx, args: Args, out: &mut impl Write) -> Outcome {
    let mut chart = ctx.open()?;
    let id = charting::amend_entry(
        &mut chart,
        &ctx.config,
        args.entry,
        &args.reason,
        &args.line,
        &crate::clock::now_local(),
    )?
    .id;
    writeln!(out, "{id}")?;
    Ok(())
}
