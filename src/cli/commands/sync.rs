//! `kapchart sync`: sends what changed since the server last acknowledged it to the clinic's
//! FHIR server (`crate::sync`). The token comes from `KAPCHART_SYNC_TOKEN` or the file
//! `sync-token` beside config.toml, readable by its owner only; never from the config, never
//! into a log.

use crate::cli::{Ctx, Failure, Outcome};
use crate::sync::server::{Server, ServerError};
use crate::sync::{self, SyncError};
use serde_json::json;
use std::io::Write;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The FHIR R4 base URL (default: [sync] server in config.toml)
    #[arg(long)]
    server: Option<String>,
    /// Say what would be sent, by resource type, and send nothing
    #[arg(long)]
    dry_run: bool,
    /// Build every patient's record, not only those changed since the server last held the
    /// whole chart (and those whose record depends on the clock)
    #[arg(long)]
    full: bool,
    /// Print {"ok", "server", "sent", "bundles", "unchanged", "by_type": {...}, "dry_run",
    /// "patients_built", "full"}; with --dry-run, "resources": [{"resource", "sha256"}]
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: Args, out: &mut impl Write) -> Outcome {
    let json = args.json;
    let mut stopped = None;
    match synced(ctx, args, out, &mut stopped) {
        // A script asking for JSON gets JSON when the sync stops too: which bundle, and what
        // the server said, on stdout; the exit status says it failed.
        Err(f) if json && !f.message.is_empty() => {
            let v = failure_json(&f.message, stopped.as_ref());
            writeln!(out, "{v}")?;
            Err(Failure {
                message: String::new(),
                code: f.code,
            })
        }
        other => other,
    }
}

/// `{"ok": false, "error", "bundle", "of", "status", "outcome"}`: the error as the text
/// output words it; the bundle (1-based) of how many when one was being sent; the server's
/// HTTP status and what its OperationOutcome said, when it answered.
fn failure_json(message: &str, stopped: Option<&SyncError>) -> serde_json::Value {
    let (bundle, of, server) = match stopped {
        Some(SyncError::Server { bundle, of, error }) if *of > 0 => {
            (Some(*bundle), Some(*of), Some(error))
        }
        Some(SyncError::Server { error, .. }) | Some(SyncError::Anchor(error)) => {
            (None, None, Some(error))
        }
        Some(SyncError::Unrecorded { bundle, of, .. }) => (Some(*bundle), Some(*of), None),
        _ => (None, None, None),
    };
    let (status, outcome) = match server {
        Some(
            ServerError::Refused { status, said } | ServerError::Unauthorized { status, said },
        ) => (Some(*status), Some(said.clone()).filter(|s| !s.is_empty())),
        _ => (None, None),
    };
    json!({
        "ok": false,
        "error": message,
        "bundle": bundle,
        "of": of,
        "status": status,
        "outcome": outcome,
    })
}

fn synced(ctx: &Ctx, args: Args, out: &mut impl Write, stopped: &mut Option<SyncError>) -> Outcome {
    let base = args
        .server
        .clone()
        .unwrap_or_else(|| ctx.config.sync.server.clone());
    let base = base.trim().trim_end_matches('/').to_string();
    if !(base.starts_with("https://") || base.starts_with("http://")) {
        return Err(Failure::runtime(if base.is_empty() {
            "no FHIR server to sync to: give --server https://... or set [sync] server in config.toml".to_string()
        } else {
            format!(
                "--server {base:?} is not an http:// or https:// URL; give the FHIR R4 base, e.g. https://fhir.clinic.example/fhir/R4"
            )
        }));
    }
    let size = ctx.config.sync.bundle_size;
    if !(1..=50).contains(&size) {
        return Err(Failure::runtime(format!(
            "[sync] bundle_size = {size} in config.toml: expected 1 to 50 resources per bundle"
        )));
    }
    let create_size = ctx.config.sync.create_bundle_size;
    if !(1..=50).contains(&create_size) {
        return Err(Failure::runtime(format!(
            "[sync] create_bundle_size = {create_size} in config.toml: expected 1 to 50 resources per bundle"
        )));
    }
    let timeout = ctx.config.sync.timeout_seconds;
    if !(1..=3600).contains(&timeout) {
        return Err(Failure::runtime(format!(
            "[sync] timeout_seconds = {timeout} in config.toml: expected 1 to 3600 seconds"
        )));
    }
    let token = token(ctx)?;
    let mut chart = ctx.open()?;
    let now = crate::clock::now();
    let fingerprint = sync::fingerprint(&ctx.config);
    let scope = crate::app::sync::scope(&chart, &base, &fingerprint, now, args.full)?;
    let mut plan = sync::plan(
        &chart,
        &ctx.config,
        &base,
        &scope,
        now,
        args.dry_run && args.json,
    )?;
    let by_type = plan.by_type();
    let (built, full) = (plan.built, plan.full);
    let listed = std::mem::take(&mut plan.listed);
    let server = Server::new(&base, token, Duration::from_secs(timeout.into()));
    let (done, dry) = if args.dry_run {
        (
            sync::Done {
                sent: plan.to_send,
                bundles: 0,
                unchanged: plan.unchanged,
            },
            true,
        )
    } else if plan.to_send == 0 {
        // The server holds the whole chart as it stands: the next sync starts from here
        // (a read-only chart cannot record it, and the next sync builds more).
        if let Some(head) = plan.head.as_ref().filter(|_| !chart.is_read_only()) {
            crate::app::sync::record_base(&mut chart, &base, head, now, &plan.fingerprint)?;
        }
        (
            sync::Done {
                sent: 0,
                bundles: 0,
                unchanged: plan.unchanged,
            },
            false,
        )
    } else {
        if chart.is_read_only() {
            // Refused before anything goes: what the server acknowledges is recorded in the
            // chart's sync log, and a disclosure of the record in its audit trail; a sync
            // from a chart that can take neither would send the record unaudited, and send
            // it all again each time.
            return Err(Failure::runtime(format!(
                "{}; nothing was sent: kapchart sync records in the chart what the server acknowledged and audits the sync as a disclosure of the record; make the chart writable, then sync (--dry-run shows what would go)",
                crate::app::AppError::read_only(chart.path().to_path_buf())
            )));
        }
        let by_create = sync::check_server(&server, &plan).map_err(|e| worded(e, stopped))?;
        // A server that takes some types only by create takes smaller transactions.
        let size = match by_create.is_empty() {
            true => size,
            false => size.min(create_size),
        };
        let bar = crate::cli::progress::progress_bar("sending");
        bar.set_length(plan.to_send as u64);
        let done = sync::send(
            &mut chart,
            &ctx.config,
            &server,
            plan,
            by_create,
            size as usize,
            now,
            |n, total| {
                bar.set_length(total as u64);
                bar.set_position(n as u64)
            },
        );
        bar.finish_and_clear();
        let done = done.map_err(|e| worded(e, stopped))?;
        // A disclosure of the record, audited as an export is.
        let access = crate::app::sync::access(&chart)?;
        crate::cli::audited::record_access(&mut chart, access);
        (done, false)
    };
    crate::logging::event(&ctx.paths.log, "sync", &[]);
    if args.json {
        let types: serde_json::Map<String, serde_json::Value> =
            by_type.iter().map(|(t, n)| (t.clone(), json!(n))).collect();
        let v = json!({
            "ok": true,
            "server": base,
            "dry_run": dry,
            "sent": if dry { 0 } else { done.sent },
            "would_send": if dry { done.sent } else { 0 },
            "bundles": done.bundles,
            "unchanged": done.unchanged,
            "by_type": types,
            "patients_built": built,
            "full": full,
        });
        let mut v = v;
        if dry {
            v["resources"] = listed
                .iter()
                .map(|(r, h)| json!({ "resource": r, "sha256": h }))
                .collect();
        }
        writeln!(out, "{v}")?;
        return Ok(());
    }
    let types: Vec<String> = by_type.iter().map(|(t, n)| format!("{n} {t}")).collect();
    let what = if types.is_empty() {
        String::new()
    } else {
        format!(" ({})", types.join(", "))
    };
    if dry {
        writeln!(
            out,
            "would send {} resources{what} to {base}; {} unchanged since the server acknowledged them{}",
            done.sent,
            done.unchanged,
            rebuilt(built, full)
        )?;
    } else if done.sent == 0 {
        writeln!(
            out,
            "nothing to send to {base}: the {} resources built are as the server acknowledged them{}",
            done.unchanged,
            rebuilt(built, full)
        )?;
    } else {
        writeln!(
            out,
            "sent {} resources{what} in {} bundles to {base}; {} unchanged{}",
            done.sent,
            done.bundles,
            done.unchanged,
            rebuilt(built, full)
        )?;
    }
    Ok(())
}

/// Which records were built: " (every patient's record built)" or " (3 patients' records
/// built: changed since the last whole sync, or open)".
fn rebuilt(built: usize, full: bool) -> String {
    let records = if built == 1 {
        "1 patient's record built".to_string()
    } else {
        format!("{built} patients' records built")
    };
    if full {
        format!(" ({records}: all of them)")
    } else {
        format!(
            " ({records}: those changed since the server last held the whole chart, and those with a session open or a dose running; --full builds all)"
        )
    }
}

/// The sync's error in words, kept for `--json`.
fn worded(e: SyncError, stopped: &mut Option<SyncError>) -> Failure {
    let failure = Failure::runtime(e.to_string());
    *stopped = Some(e);
    failure
}

/// The server's token: `KAPCHART_SYNC_TOKEN`, else the `sync-token` file beside config.toml
/// (refused when others may read it), else none.
pub(crate) fn token(ctx: &Ctx) -> Result<Option<String>, Failure> {
    if let Ok(t) = std::env::var("KAPCHART_SYNC_TOKEN") {
        let t = t.trim().to_string();
        return Ok(Some(t).filter(|t| !t.is_empty()));
    }
    let Some(dir) = ctx.paths.config.parent() else {
        return Ok(None);
    };
    let path = dir.join("sync-token");
    let Ok(meta) = std::fs::metadata(&path) else {
        return Ok(None);
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Failure::runtime(format!(
                "{} can be read by others (mode {mode:o}): the token is a key to the clinic's server; run chmod 600 on it",
                path.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Failure::runtime(format!("cannot read {}: {e}", path.display())))?;
    Ok(Some(text.trim().to_string()).filter(|t| !t.is_empty()))
}
