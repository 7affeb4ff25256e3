//! `kapchart export`: FHIR R4, a printable HTML report, Markdown and CSV.

use crate::app::access::{Access, ExportFormat, Exported};
use crate::cli::audited::record_access;
use crate::cli::progress::progress_bar;
use crate::cli::{Ctx, Failure, Outcome};
use crate::export::{self, Record};
use clap::ValueEnum;
use std::io::Write;
use std::path::PathBuf;

/// The FHIR tag system under which a bundle carries the audit head it was exported at.
const HEAD_TAG_SYSTEM: &str = "urn:kapchart:audit-head";
/// The FHIR tag system of the chart's root (its first admin's key fingerprint) in an export.
const ROOT_TAG_SYSTEM: &str = "urn:kapchart:root";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A FHIR R4 Bundle (JSON)
    Fhir,
    /// A self-contained HTML report that prints to A4/Letter
    Html,
    /// The report as Markdown (no charts)
    Md,
    /// The vitals flowsheet, one row per reading
    Csv,
    /// A session's Spravato REMS Patient Monitoring Form on one printable page
    RemsHtml,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["session", "patient"])))]
pub struct Args {
    /// One session
    #[arg(long)]
    session: Option<i64>,
    /// A patient's whole course
    #[arg(long)]
    patient: Option<i64>,
    #[arg(long, value_enum)]
    format: Format,
    /// Write to FILE (default: standard output)
    #[arg(short, long)]
    output: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, args: Args, out: &mut impl Write) -> Outcome {
    // An export file that exists is refused before anything is read or audited (and again
    // when it is written, should one appear meanwhile).
    if let Some(path) = args.output.as_deref().filter(|p| p.exists()) {
        return Err(Failure::runtime(format!(
            "{} already exists; kapchart will not overwrite it",
            path.display()
        )));
    }
    if args.format == Format::RemsHtml {
        return rems_form(ctx, &args, out);
    }
    let mut chart = ctx.open()?;
    refuse_if_damaged(&chart)?;
    let now = crate::clock::now();
    let bar = progress_bar("exporting");
    bar.set_length(3);
    let record: Record = match (args.session, args.patient) {
        (Some(s), _) => export::session_record_from(&chart, &ctx.config, s, now)?,
        (None, Some(p)) => export::course_record_from(&chart, &ctx.config, p, now)?,
        (None, None) => unreachable_what()?,
    };
    bar.inc(1);
    // The audit head the export was made at: `kapchart verify --head` checks it later.
    let head = chart
        .head()?
        .map_or_else(|| "none".to_string(), |h| h.to_string());
    // The chart's root, for a clinic to check against the one it keeps.
    let root = chart.root()?.unwrap_or_else(|| "none".to_string());
    // The export is in the audit trail before its text leaves kapchart (after the head it
    // states, which is the record it holds).
    let exported = match (args.session, args.patient) {
        (Some(s), _) => Exported::Session(s),
        (None, Some(p)) => Exported::Course(p),
        (None, None) => unreachable_what()?,
    };
    let format = match args.format {
        Format::Fhir => ExportFormat::Fhir,
        Format::Html => ExportFormat::Html,
        Format::Md => ExportFormat::Markdown,
        Format::Csv => ExportFormat::Csv,
        Format::RemsHtml => ExportFormat::RemsForm,
    };
    record_access(&mut chart, Access::Export(format, exported));
    let text = match args.format {
        Format::Fhir => {
            let mut bundle = export::fhir::bundle(&record);
            bundle["meta"] = serde_json::json!({
                "tag": [
                    { "system": HEAD_TAG_SYSTEM, "code": head, "display": "kapchart audit head at export" },
                    { "system": ROOT_TAG_SYSTEM, "code": root, "display": "kapchart chart root (first admin's key fingerprint)" }
                ]
            });
            serde_json::to_string_pretty(&bundle)
                .map_err(|e| Failure::runtime(format!("cannot write the bundle: {e}")))?
        }
        Format::Html => {
            let html = export::report::html(&record, &ctx.config.alerts, &ctx.config.measures);
            let line = format!(
                "<p class=\"audit-head\">Exported at chart audit head {head}, chart root {root}</p>\n"
            );
            let html = match html.rfind("</body>") {
                Some(at) => format!("{}{line}{}", &html[..at], &html[at..]),
                None => html + &line,
            };
            // A control character would act on a terminal that shows the file: show it.
            crate::domain::text::escape_controls(&html, true).into_owned()
        }
        Format::Md => {
            let md = export::report::markdown(&record, &ctx.config.measures);
            format!("{md}\nExported at chart audit head `{head}`, chart root `{root}`.\n")
        }
        Format::Csv => export::csv::vitals_csv(&record),
        // Taken by `rems_form` before the chart is opened; said plainly all the same.
        Format::RemsHtml => {
            return Err(Failure::runtime(
                "the REMS form is written by its own path; nothing was exported",
            ));
        }
    };
    bar.inc(1);
    let kind = match args.format {
        Format::Fhir => 1,
        Format::Html => 2,
        Format::Md => 3,
        Format::Csv => 4,
        Format::RemsHtml => 5,
    };
    crate::logging::event(
        &ctx.paths.log,
        "chart.export",
        &[("format", kind), ("sessions", record.sessions.len() as i64)],
    );
    match args.output {
        Some(path) => {
            write_private(&path, text.as_bytes())?;
            bar.finish_and_clear();
            writeln!(
                out,
                "wrote {} (chart audit head {head}, root {root})",
                path.display()
            )?;
        }
        None => {
            bar.finish_and_clear();
            out.write_all(text.as_bytes())?;
            if !text.ends_with('\n') {
                writeln!(out)?;
            }
            // A CSV has no place for them that a spreadsheet would not read as data: the
            // head and root go to the terminal beside it.
            if args.format == Format::Csv {
                eprintln!("kapchart: exported at chart audit head {head}, root {root}");
            }
        }
    }
    Ok(())
}

/// An export from a chart found damaged would carry a record that may have been changed
/// behind kapchart's back to whoever receives it: refused until a restore or an admin's
/// acknowledgement, as writes are.
fn refuse_if_damaged(chart: &crate::app::Chart) -> Result<(), Failure> {
    match chart.damage_found().first() {
        Some(problem) => Err(Failure::runtime(format!(
            "the chart {} was found damaged ({problem}); kapchart exports nothing from it until it is restored from a backup or an admin acknowledges the damage (kapchart verify --acknowledge --reason TEXT)",
            chart.path().display()
        ))),
        None => Ok(()),
    }
}

/// Neither --session nor --patient (clap requires one; said plainly all the same).
fn unreachable_what<T>() -> Result<T, Failure> {
    Err(Failure::runtime(
        "say what to export: --session ID or --patient ID",
    ))
}

/// `--format rems-html`: one session's REMS monitoring form, a page of HTML.
fn rems_form(ctx: &Ctx, args: &Args, out: &mut impl Write) -> Outcome {
    let Some(session) = args.session else {
        return Err(Failure::runtime(
            "the REMS form is a session's: give --session ID (not --patient)",
        ));
    };
    let mut chart = ctx.open()?;
    refuse_if_damaged(&chart)?;
    let today = crate::clock::today();
    let data = crate::app::rems::form_of(&chart, &ctx.config, session, today, crate::clock::now())?;
    let head = chart
        .head()?
        .map_or_else(|| "none".to_string(), |h| h.to_string());
    let root = chart.root()?.unwrap_or_else(|| "none".to_string());
    record_access(
        &mut chart,
        Access::Export(ExportFormat::RemsForm, Exported::Session(session)),
    );
    let html = export::rems::html(
        &data,
        ctx.config.rems.outpatient,
        &format!("{head}, chart root {root}"),
    );
    let html = crate::domain::text::escape_controls(&html, true).into_owned();
    crate::logging::event(
        &ctx.paths.log,
        "chart.export",
        &[("format", 5), ("sessions", 1)],
    );
    match &args.output {
        Some(path) => {
            write_private(path, html.as_bytes())?;
            writeln!(
                out,
                "wrote {} (chart audit head {head}, root {root})",
                path.display()
            )?;
        }
        None => out.write_all(html.as_bytes())?,
    }
    Ok(())
}

/// Exports hold patient data: the file is readable only by its owner, and an existing file
/// is not overwritten.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> Outcome {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Failure::runtime(format!(
                "{} already exists; kapchart will not overwrite it",
                path.display()
            ))
        } else {
            Failure::runtime(format!("cannot write {}: {e}", path.display()))
        }
    })?;
    // A file that could not be written whole is no export: it goes, and the message says
    // which file and why (a full disk most often).
    if let Err(e) = file.write_all(bytes).and_then(|()| file.sync_all()) {
        drop(file);
        let _ = std::fs::remove_file(path);
        let why = if e.kind() == std::io::ErrorKind::StorageFull {
            "the disk is full".to_string()
        } else {
            e.to_string()
        };
        return Err(Failure::runtime(format!(
            "could not write the export {} ({why}); the unfinished file was removed, the chart is unchanged",
            path.display()
        )));
    }
    Ok(())
}
