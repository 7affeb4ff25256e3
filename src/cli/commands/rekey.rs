//! `kapchart rekey`: changes the signed-in clinician's own passphrase. The old one first
//! (as for every command), then the new one twice at the terminal, or
//! `KAPCHART_NEW_PASSPHRASE` for scripts. Their private keys are wrapped again under the new
//! one; the chart key and the chart do not change. Backups keep the team's passphrases as
//! they were when they were made.

use crate::app::Chart;
use crate::cli::prompt::{Ask, chart_passphrase, check_strength, passphrase};
use crate::cli::sign_in::{guarded, who};
use crate::cli::{Ctx, Failure, Outcome};
use std::io::Write;
use zeroize::Zeroizing;

/// The new passphrase: `KAPCHART_NEW_PASSPHRASE`, or asked for twice without echo.
fn new_passphrase() -> Result<Zeroizing<String>, Failure> {
    passphrase(&Ask {
        env: "KAPCHART_NEW_PASSPHRASE",
        no_terminal: "no new passphrase: set KAPCHART_NEW_PASSPHRASE, or run kapchart rekey in a terminal to be asked",
        prompt: "New passphrase: ",
        empty: None,
        again: Some((
            "Same new passphrase again: ",
            "the two new passphrases differ; the passphrase was not changed",
        )),
    })
}

pub fn run(ctx: &Ctx, out: &mut impl Write) -> Outcome {
    let who = who(&ctx.paths.chart)?;
    let old = chart_passphrase(false)?;
    let mut chart = guarded(&ctx.paths.chart, || {
        Chart::open_as(
            &ctx.paths.chart,
            &who,
            &old,
            ctx.config.chart.busy_timeout_ms,
        )
    })?;
    let new = new_passphrase()?;
    if *new == *old {
        return Err(Failure::runtime(
            "the new passphrase is the same as the old one; nothing was changed",
        ));
    }
    check_strength(
        &ctx.config,
        &new,
        &chart.clinician().name,
        "nothing was changed",
    )?;
    chart.change_passphrase(&new)?;
    crate::logging::event(&ctx.paths.log, "chart.rekey", &[]);
    writeln!(
        out,
        "passphrase changed for {} on {} (the chart key stays as it was); backups made before keep the passphrase they were made with",
        chart.clinician().name,
        ctx.paths.chart.display()
    )?;
    Ok(())
}
