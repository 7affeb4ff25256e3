//! `kapchart backup --to FILE`: a verified, encrypted copy of the chart, with a progress bar
//! on a terminal (safe while kapchart is in use).

use crate::app::care::CopyReport;
use crate::cli::audited::record_access;
use crate::cli::progress::progress_bar;
use crate::cli::{Ctx, Outcome};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The new backup file (must not exist)
    #[arg(long)]
    to: PathBuf,
}

/// What a verified copy holds, in a line (also said by `restore`).
pub(crate) fn summary(r: &CopyReport) -> String {
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

pub fn run(ctx: &Ctx, args: Args, out: &mut impl Write) -> Outcome {
    let to = args.to.as_path();
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
        record_access(&mut chart, crate::app::access::Access::Backup(head));
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
