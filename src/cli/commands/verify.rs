//! `kapchart verify`: the file's integrity, the schema, the audit chain, signatures and
//! payloads; the head to anchor outside the file, and whether an earlier head still holds.

use crate::app::Chart;
use crate::app::care::{Head, SignatureCheck, head_of_copy};
use crate::cli::prompt::chart_passphrase;
use crate::cli::sign_in::{guarded, who};
use crate::cli::{Ctx, Failure, Outcome};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print {"ok": bool, "head": {"seq": N, "hash": "..."}, "problems": [...]}
    #[arg(long)]
    json: bool,
    /// Fail unless the chart still holds this head, as an earlier verify, backup or export
    /// printed it
    #[arg(long, value_name = "SEQ:HASH")]
    head: Option<Head>,
    /// Fail unless the chart still holds the head this backup was made at
    #[arg(long, value_name = "BACKUP")]
    against: Option<PathBuf>,
    /// Fail unless the chart still holds every audit head the clinic's FHIR server
    /// acknowledged in a sync (default: [sync] server; its token as for `kapchart sync`)
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    against_server: Option<String>,
    /// Fail unless the chart's root (its first admin's key fingerprint, as `init`, `verify`,
    /// backups and exports print it) is this one
    #[arg(long, value_name = "FINGERPRINT")]
    root: Option<String>,
    /// An admin acknowledges the damage found (with --reason): recorded, signed and audited,
    /// after which writes go on; `verify` goes on reporting it, as acknowledged
    #[arg(long, requires = "reason")]
    acknowledge: bool,
    /// Why the damage is acknowledged (recorded with it)
    #[arg(long)]
    reason: Option<String>,
}

pub fn run(ctx: &Ctx, args: Args, out: &mut impl Write) -> Outcome {
    let json = args.json;
    match checked(ctx, args, out) {
        // A script asking for JSON gets JSON even when the chart could not be read at all.
        Err(f) if json && !f.message.is_empty() => {
            let v = serde_json::json!({ "ok": false, "head": null, "problems": [f.message] });
            writeln!(out, "{v}")?;
            Err(Failure {
                message: String::new(),
                code: 1,
            })
        }
        other => other,
    }
}

fn checked(ctx: &Ctx, args: Args, out: &mut impl Write) -> Outcome {
    let who = who(&ctx.paths.chart)?;
    let pass = chart_passphrase(false)?;
    let mut chart = guarded(&ctx.paths.chart, || {
        Chart::open_as(
            &ctx.paths.chart,
            &who,
            &pass,
            ctx.config.chart.busy_timeout_ms,
        )
    })?;
    let report = chart.verify()?;
    let acknowledged = chart.acknowledged_problems()?;
    let mut problems: Vec<String> = report
        .problems()
        .into_iter()
        .map(|p| {
            if acknowledged.contains(&p) {
                format!("{p} (acknowledged)")
            } else {
                p
            }
        })
        .collect();
    let damage: Vec<String> = report
        .damage()
        .into_iter()
        .filter(|p| !acknowledged.contains(p))
        .collect();
    if args.acknowledge {
        let mut lines = damage.clone();
        for l in chart.damage_found() {
            if !lines.contains(&l) && !acknowledged.contains(&l) {
                lines.push(l);
            }
        }
        chart.acknowledge_damage(
            &lines,
            args.reason.as_deref().unwrap_or_default(),
            crate::clock::now(),
        )?;
        writeln!(
            out,
            "acknowledged by {}: {} problem(s), recorded and signed; writes go on, and verify goes on reporting them:",
            chart.clinician().name,
            lines.len()
        )?;
        for l in &lines {
            writeln!(out, "  {l}")?;
        }
        return Ok(());
    }
    if !damage.is_empty() {
        chart.mark_damaged(&damage, &[]);
    } else if report.damage().is_empty() && chart.damage_found().is_empty() {
        // Sound: the next open checks from this head on.
        chart.keep_checked_head()?;
    }
    let mut anchors: Vec<(Head, String)> = Vec::new();
    if let Some(h) = args.head {
        anchors.push((h, "the head given".into()));
    }
    if let Some(backup) = &args.against {
        let h = head_of_copy(backup, &who, &pass).map_err(|e| {
            Failure::runtime(format!(
                "cannot read the backup {}: {e} (a backup keeps the passphrase it was made with: it opens with the passphrases of the team as it was when it was made; compare with --head SEQ:HASH instead)",
                backup.display()
            ))
        })?;
        match h {
            Some(h) => anchors.push((h, format!("the head of the backup {}", backup.display()))),
            None => problems.push(format!(
                "the backup {} has no audit trail",
                backup.display()
            )),
        }
    }
    if let Some(url) = &args.against_server {
        let base = if url.trim().is_empty() {
            ctx.config.sync.server.trim().to_string()
        } else {
            url.trim().to_string()
        };
        if base.is_empty() {
            return Err(Failure::runtime(
                "--against-server needs the FHIR server: give its URL or set [sync] server in config.toml",
            ));
        }
        let server = crate::sync::server::Server::new(
            &base,
            super::sync::token(ctx)?,
            std::time::Duration::from_secs(60),
        );
        let heads = crate::sync::acknowledged_heads(&chart, &server)
            .map_err(|e| Failure::runtime(e.to_string()))?;
        if heads.is_empty() {
            problems.push(format!(
                "the FHIR server at {base} holds no audit head of this chart: it was never synced there (kapchart sync), or the server lost it"
            ));
        }
        for (head, when) in heads {
            match head.parse::<Head>() {
                Ok(h) => anchors.push((
                    h,
                    format!("the head the FHIR server at {base} acknowledged at {when}"),
                )),
                Err(_) => problems.push(format!(
                    "the FHIR server at {base} holds an audit head kapchart cannot read ({head:?}, {when})"
                )),
            }
        }
    }
    let mut lost = Vec::new();
    let mut lost_backup_heads = Vec::new();
    for (h, what) in &anchors {
        if !chart.holds_head(h)? {
            if what.contains("backup") || what.contains("FHIR server") {
                lost_backup_heads.push(h.clone());
            }
            lost.push(format!(
                "the chart no longer holds {what} ({h}): audit rows up to it were removed or rewritten since; restore from a backup that holds it"
            ));
        }
    }
    if !lost_backup_heads.is_empty() {
        // A backup's head is read, not typed: losing it is damage, and writes stop until the
        // chart holds it again. (A head typed by hand may be mistyped: it is only reported.)
        let mut all = damage.clone();
        all.extend(lost.iter().cloned());
        chart.mark_damaged(&all, &lost_backup_heads);
    }
    problems.extend(lost);
    if let Some(kept) = &args.root {
        match crate::domain::team::parse_fingerprint(kept) {
            None => {
                return Err(Failure {
                    message: format!(
                        "--root {kept} is not a fingerprint; expected 64 hex digits, as `kapchart verify` prints it after \"root\""
                    ),
                    code: 2,
                });
            }
            Some(kept) if report.team.root.as_deref() != Some(kept.as_str()) => {
                problems.push(format!(
                    "the chart's root is {} but the one kept is {kept}: this chart's team does not go back to the admin the clinic began with (its keys were replaced, or it is another chart)",
                    report.team.root.as_deref().unwrap_or("none")
                ));
            }
            Some(_) => {}
        }
    }
    // The search index is derived from the record: where it disagrees, it is rebuilt, and
    // the record is not found damaged for it (writes go on).
    let record_ok = problems.is_empty();
    problems.extend(report.search_index.iter().cloned());
    let ok = problems.is_empty();
    if args.json {
        let v = serde_json::json!({
            "ok": ok,
            "head": report.head,
            "root": report.team.root,
            "problems": problems,
            "search_index": report.search_index,
            "signatures": signatures_json(&report.signatures),
            "signed_rows": report.signed_rows,
            "rows_before_signing": report.rows_before_signing,
            "team": {
                "certified": report.team.certified,
                "before_certificates": report.team.before_certificates,
            },
        });
        writeln!(out, "{v}")?;
        return if ok {
            Ok(())
        } else {
            Err(Failure {
                message: String::new(),
                code: 1,
            })
        };
    }
    if !record_ok {
        return Err(Failure::runtime(problems.join("; ")));
    }
    if !ok {
        return Err(Failure::runtime(format!(
            "the record verified (file, schema, audit trail of {} rows, signatures, payloads, the patient search index and the home screen's lists), but {}. The record is not damaged and writes go on; rebuilding the index changes nothing of the record",
            report.audit_rows,
            problems.join("; "),
        )));
    }
    let head = report
        .head
        .as_ref()
        .map_or_else(|| "none".to_string(), Head::to_string);
    writeln!(
        out,
        "ok: file integrity, schema, audit trail of {} rows, signatures, payloads, the patient search index and the home screen's lists verified (schema v{})",
        report.audit_rows,
        chart.schema_version()?
    )?;
    writeln!(out, "{}", authors_line(&report))?;
    writeln!(
        out,
        "search index: agrees with the record (every entry, note and addendum)"
    )?;
    writeln!(out, "{}", signatures_line(&report.signatures))?;
    if let Some(root) = &report.team.root {
        writeln!(out, "root {root}")?;
    }
    writeln!(out, "head {head}")?;
    Ok(())
}

/// Who signed the chain and whose keys are certified, as verified: "authors: 812 rows
/// signed by their authors, 40 from before kapchart signed rows; team: 3 clinicians'
/// keys certified back to the root".
fn authors_line(report: &crate::app::care::VerifyReport) -> String {
    let mut line = format!(
        "authors: {} audit rows signed by their authors' keys",
        report.signed_rows
    );
    if report.rows_before_signing > 0 {
        line.push_str(&format!(
            ", {} from before kapchart signed them (held by the chain)",
            report.rows_before_signing
        ));
    }
    line.push_str(&format!(
        "; team: {} clinician{} keys certified back to the root",
        report.team.certified,
        if report.team.certified == 1 {
            "'s"
        } else {
            "s'"
        }
    ));
    if report.team.before_certificates > 0 {
        line.push_str(&format!(
            ", {} recorded before kapchart certified keys",
            report.team.before_certificates
        ));
    }
    line
}

/// Who signed what, as verified: "signatures: Ed25519 verified: Dr. Ada Admin (clinician 1):
/// 1 note; ...; 2 signed before Ed25519 signatures (SHA-256 only)".
fn signatures_line(check: &SignatureCheck) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts: Vec<String> = check
        .signers
        .iter()
        .map(|((id, name), (notes, addenda))| {
            let mut what = Vec::new();
            if *notes > 0 {
                what.push(plural(*notes, "note", "notes"));
            }
            if *addenda > 0 {
                what.push(plural(*addenda, "addendum", "addenda"));
            }
            format!("{name} (clinician {id}): {}", what.join(", "))
        })
        .collect();
    if parts.is_empty() && check.sha256_only == 0 {
        return "signatures: no notes signed yet".into();
    }
    if parts.is_empty() {
        parts.push("none to check".into());
    }
    let mut line = format!("signatures: Ed25519 verified: {}", parts.join("; "));
    if check.sha256_only > 0 {
        line.push_str(&format!(
            "; {} signed before Ed25519 signatures (SHA-256 only, checked as before)",
            check.sha256_only
        ));
    }
    line
}

fn signatures_json(check: &SignatureCheck) -> serde_json::Value {
    let signers: Vec<serde_json::Value> = check
        .signers
        .iter()
        .map(|((id, name), (notes, addenda))| {
            serde_json::json!({ "clinician_id": id, "name": name, "notes": notes, "addenda": addenda })
        })
        .collect();
    serde_json::json!({ "ed25519_signers": signers, "sha256_only": check.sha256_only })
}
