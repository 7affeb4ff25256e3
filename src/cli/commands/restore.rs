//! `kapchart restore FILE`: the chart restored from a backup, verified first; an admin of
//! the chart signs in, and to the backup with KAPCHART_BACKUP_PASSPHRASE when their
//! passphrase then differed.

use super::backup::summary;
use crate::app::care as backup;
use crate::cli::prompt::chart_passphrase;
use crate::cli::sign_in::who;
use crate::cli::{Ctx, Failure, Outcome};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The backup file
    from: PathBuf,
    /// Replace an existing chart; it is kept beside it as NAME.replaced-TIMESTAMP
    #[arg(long)]
    replace: bool,
    /// Why a backup whose team includes someone removed since is restored (they are
    /// removed again; recorded)
    #[arg(long)]
    reason: Option<String>,
}

pub fn run(ctx: &Ctx, args: Args, out: &mut impl Write) -> Outcome {
    let (from, replace, reason) = (args.from.as_path(), args.replace, args.reason.as_deref());
    let who = who(if ctx.paths.chart.exists() {
        &ctx.paths.chart
    } else {
        from
    })?;
    let pass = chart_passphrase(false)?;
    // The backup opens with the passphrase its team had when it was made.
    let backup_pass = std::env::var("KAPCHART_BACKUP_PASSPHRASE")
        .ok()
        .filter(|p| !p.is_empty())
        .map(zeroize::Zeroizing::new)
        .unwrap_or_else(|| pass.clone());
    let stamp = crate::clock::now_local()
        .format("%Y%m%d-%H%M%S")
        .to_string();
    let done = backup::restore(&backup::RestoreRequest {
        backup: from,
        chart: &ctx.paths.chart,
        who: &who,
        passphrase: &pass,
        backup_passphrase: &backup_pass,
        replace,
        stamp: &stamp,
        reason,
        now: crate::clock::now(),
    })
    .map_err(|e| Failure::runtime(format!("restore refused: {e}")))?;
    let report = &done.report;
    crate::logging::event(
        &ctx.paths.log,
        "chart.restore",
        &[("entries", report.counts.entries)],
    );
    writeln!(
        out,
        "restored {} from {} ({})",
        ctx.paths.chart.display(),
        from.display(),
        summary(report)
    )?;
    if let Some(root) = &report.verify.team.root {
        writeln!(out, "root {root}")?;
    }
    if let Some(k) = &done.kept {
        writeln!(out, "the chart it replaced was kept at {}", k.display())?;
    }
    if !done.removed_again.is_empty() {
        writeln!(
            out,
            "removed again (they had been removed since the backup was made; the restored chart was re-keyed): {}",
            done.removed_again.join(", ")
        )?;
    }
    Ok(())
}
