//! `kapchart strike ENTRY --reason TEXT`: withdraws an entry made in error; it stays in the
//! record, struck through, with the reason.

use crate::app::charting;
use crate::cli::{Ctx, Outcome};
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct Args {
    entry: i64,
    /// Why the entry is withdrawn
    #[arg(long)]
    reason: String,
}

pub fn run(ctx: &Ctx, args: Args, out: &mut impl Write) -> Outcome {
    let mut chart = ctx.open()?;
    let id = charting::strike_entry(
        &mut chart,
        args.entry,
        &args.reason,
        &crate::clock::now_local(),
    )?
    .id;
    writeln!(out, "{id}")?;
    Ok(())
}
