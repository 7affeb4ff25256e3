//! `kapchart log --session ID LINE`: one quick-entry line charted, or with `-` one line per
//! stdin line, each id printed once its commit returned.

use crate::app::charting::{self, ChartingError};
use crate::app::{AppError, Chart, ErrorKind};
use crate::cli::bounded;
use crate::cli::lines::{join_ids, say_safety};
use crate::cli::{Ctx, Failure, Outcome};
use crate::domain::text;
use crate::logging;
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    session: i64,
    /// The line, e.g. "bp 128/82 hr 74", or - to read lines from stdin
    line: String,
}

/// The quick-entry grammar, after `kapchart log --help`.
pub const GRAMMAR_HELP: &str = "Quick-entry lines:
  bp 128/82 hr 74 spo2 97 rr 14 temp 36.8   vitals, any order (temp 98.6F converts)
  moaas 4                                   sedation (MOAA/S 0-5)
  dose ketamine 35mg IM                     dose: drug amount unit route
  dose ketamine 0.5mg/kg IV over 40m        mg/kg uses the patient's weight
  obs eyes closed, \"I feel safe\" #insight   observation (any line not starting with a keyword)
  @14:05 bp 130/85   @-5m obs ...           when it happened (default: now)";

pub fn run(ctx: &Ctx, args: Args, out: &mut impl Write) -> Outcome {
    let (session, line) = (args.session, args.line.as_str());
    let mut chart = ctx.open()?;
    chart.session(session)?;
    if chart.is_read_only() {
        // Refused before a line is read: the lines stay with whoever sends them.
        return Err(AppError::read_only(chart.path().to_path_buf()).into());
    }
    if line != "-" {
        let charted = charting::record_line(
            &mut chart,
            &ctx.config,
            session,
            line,
            &crate::clock::now_local(),
        )?;
        logging::event(
            &ctx.paths.log,
            "entries.commit",
            &[("count", charted.ids.len() as i64)],
        );
        writeln!(out, "{}", join_ids(&charted.ids))?;
        say_safety(&charted);
        return Ok(());
    }
    // One line at a time: each id is printed (and flushed) only once its commit returned.
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut failed = 0;
    let mut n = 0;
    // Each line is read with the quick-entry limit: a huge line stops the batch there.
    while let Some(read) = bounded::read_line(&mut input, text::QUICK_ENTRY_LINE)? {
        n += 1;
        let refused = match read {
            bounded::Line::TooLong => Some(
                text::TextError::TooLong {
                    field: text::QUICK_ENTRY_LINE,
                    found: None,
                }
                .to_string(),
            ),
            bounded::Line::Bytes(bytes) => match String::from_utf8(bytes) {
                Ok(text) => {
                    record_one(ctx, &mut chart, session, &text, n, &mut failed, out)?;
                    None
                }
                Err(e) => Some(format!(
                    "not UTF-8 text (byte {} of the line is not); it was not written",
                    e.utf8_error().valid_up_to() + 1
                )),
            },
        };
        if let Some(why) = refused {
            eprintln!("kapchart: line {n}: {why}");
            return Err(Failure::runtime(format!(
                "stopped at line {n}: nothing from there on was written"
            )));
        }
    }
    if failed > 0 {
        return Err(Failure::runtime(format!(
            "{failed} line(s) were not written (see above); every other line was"
        )));
    }
    Ok(())
}

/// stops the batch.
fn record_one(
    ctx: &Ctx,
    chart: &mut Chart,
    session: i64,
    text: &str,
    n: usize,
    failed: &mut usize,
    out: &mut impl Write,
) -> Outcome {
    if text.trim().is_empty() {
        return Ok(());
    }
    match charting::record_line(
        chart,
        &ctx.config,
        session,
        text,
        &crate::clock::now_local(),
    ) {
        Ok(charted) => {
            writeln!(out, "{}", join_ids(&charted.ids))?;
            out.flush()?;
            say_safety(&charted);
        }
        Err(e) => {
            *failed += 1;
            let said = e.to_string();
            let said = crate::domain::text::escape_controls(&said, false);
            eprintln!("kapchart: line {n}: {said}");
            // The chart itself cannot take more lines: stop rather than fail each one.
            if let ChartingError::Chart(e) = &e
                && *e.kind() == ErrorKind::Unwritable
            {
                return Err(Failure::runtime(format!(
                    "stopped at line {n}: nothing from there on was written"
                )));
            }
        }
    }
    Ok(())
}
