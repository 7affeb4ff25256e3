//! `kapchart ack ENTRY --note TEXT`: an entry's alert or caution seen and weighed, with
//! what was decided.

use crate::app::charting;
use crate::cli::{Ctx, Outcome};
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct Args {
    entry: i64,
    /// What was decided, e.g. "rechecked after 5 min rest; proceeding"; starting with
    /// @HH:MM or @-Nm gives the acknowledgement its own time, as a quick-entry line
    #[arg(long)]
    note: String,
}

/// Records that an alert or caution on an entry was seen and weighed: the note says what was
/// decided, after its own time when it starts with one (`@10:45 rechecked`).
pub fn run(ctx: &Ctx, args: Args, out: &mut impl Write) -> Outcome {
    let now = crate::clock::now_local();
    // Nothing is shown in place of a note left without words: the use case refuses it.
    let mut chart = ctx.open()?;
    let ack = charting::acknowledge(
        &mut chart,
        &ctx.config,
        args.entry,
        None,
        &args.note,
        charting::Unworded::Refused,
        &now,
    )?;
    writeln!(out, "{}", ack.id)?;
    Ok(())
}
