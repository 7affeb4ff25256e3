//! `kapchart witness ENTRY`: the clinician signed in (KAPCHART_CLINICIAN and
//! KAPCHART_PASSPHRASE, or asked) witnesses a dose another clinician charted.

use super::{Ctx, Outcome};
use std::io::Write;

pub fn witness(ctx: &Ctx, entry: i64, out: &mut impl Write) -> Outcome {
    let mut chart = ctx.open()?;
    let id = chart.witness_dose(entry, crate::clock::now())?;
    crate::logging::event(&ctx.paths.log, "entry.witness", &[]);
    writeln!(out, "{id}")?;
    Ok(())
}
