//! `kapchart backup` and `kapchart restore`, with a progress bar on a terminal.

use super::{Ctx, Failure, Outcome, passphrase, who};
use crate::app::care::{self as backup, CopyReport};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::Path;

/// A progress bar on stderr when it is a terminal; hidden when output is piped.
pub fn progress_bar(what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

fn summary(r: &CopyReport) -> String {
    let head = r
        .verify
        .head
        .as_ref()
        .map_or_else(|| "none".to_string(), ToString::to_string);
    format!(
        "{} patients, {} sessions, {} entries, {} notes; audit trail of {} rows verified; head {head}",
        r.counts.patients, r.counts.sessions, r.counts.entries, r.counts.notes, r.verify.audit_rows
    )
}

pub fn backup_to(ctx: &Ctx, to: &Path, out: &mut impl Write) -> Outcome {
    let mut chart = ctx.open()?;
    let bar = progress_bar("backing up");
    let report = chart.backup_to(to, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    // Once the copy is written and verified, the trail says who made it and which audit
    // row it ends at (the backup itself ends before this row).
    if let Some(head) = report.verify.head.clone() {
        super::audit::record_access(&mut chart, crate::app::access::Access::Backup(head));
    }
    crate::logging::event(
        &ctx.paths.log,
        "chart.backup",
        &[("entries", report.counts.entries)],
    );
    writeln!(
        out,
        "backup written and verified: {} ({})",
        to.display(),
        summary(&report)
    )?;
    if let Some(root) = &report.verify.team.root {
        writeln!(out, "root {root}")?;
    }
    Ok(())
}

pub fn restore(
    ctx: &Ctx,
    from: &Path,
    replace: bool,
    reason: Option<&str>,
    out: &mut impl Write,
) -> Outcome {
    let who = who(if ctx.paths.chart.exists() {
        &ctx.paths.chart
    } else {
        from
    })?;
    let pass = passphrase(false)?;
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
