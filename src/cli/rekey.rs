//! `kapchart rekey`: changes the signed-in clinician's own passphrase. The old one first
//! (as for every command), then the new one twice at the terminal, or
//! `KAPCHART_NEW_PASSPHRASE` for scripts. Their private keys are wrapped again under the new
//! one; the chart key and the chart do not change. Backups keep the team's passphrases as
//! they were when they were made.

use super::{Ctx, Failure, Outcome, passphrase};
use crate::app::Chart;
use crate::domain::passphrase::{check_new, guessable_words};
use std::io::{IsTerminal, Write};
use zeroize::Zeroizing;

/// The new passphrase: `KAPCHART_NEW_PASSPHRASE`, or asked for twice without echo.
pub(crate) fn new_passphrase() -> Result<Zeroizing<String>, Failure> {
    if let Some(p) = std::env::var("KAPCHART_NEW_PASSPHRASE")
        .ok()
        .map(Zeroizing::new)
        .filter(|p| !p.is_empty())
    {
        return Ok(p);
    }
    if !std::io::stderr().is_terminal() {
        return Err(Failure::runtime(
            "no new passphrase: set KAPCHART_NEW_PASSPHRASE, or run kapchart rekey in a terminal to be asked",
        ));
    }
    let first = super::prompt::hidden("New passphrase: ")?;
    let second = super::prompt::hidden("Same new passphrase again: ")?;
    if first != second {
        return Err(Failure::runtime(
            "the two new passphrases differ; the passphrase was not changed",
        ));
    }
    Ok(first)
}

/// Refuses a weak new passphrase with the reason (the clinic's `min_passphrase_score`).
/// `outcome` says what was left as it was ("nothing was changed").
pub(crate) fn check_strength(
    ctx: &Ctx,
    new: &str,
    clinician: &str,
    outcome: &str,
) -> Result<(), Failure> {
    let words = guessable_words(clinician, &ctx.config.chart.clinic);
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    check_new(new, ctx.config.chart.min_passphrase_score, &words)
        .map_err(|why| Failure::runtime(format!("{why}; {outcome}")))
}

pub fn rekey(ctx: &Ctx, out: &mut impl Write) -> Outcome {
    let who = super::who(&ctx.paths.chart)?;
    let old = passphrase(false)?;
    let mut chart = super::guarded(&ctx.paths.chart, || {
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
    check_strength(ctx, &new, &chart.clinician().name, "nothing was changed")?;
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
