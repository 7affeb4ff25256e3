//! Opening the chart's screens from the command line: home, a session's live screen, a
//! note's editor.

use super::sign_in::{guarded, who};
use super::{Ctx, Failure, Outcome};
use crate::app::{AppError, Chart};
use crate::{logging, tui};
use std::io::IsTerminal;
use std::path::PathBuf;

pub(crate) use crate::tui::Start;

/// Opens the terminal UI on the chart at `path`. Without a known passphrase the TUI asks
/// for it itself (masked).
pub(crate) fn open_tui(ctx: &Ctx, path: PathBuf, chart: Option<Chart>, start: Start) -> Outcome {
    if !path.exists() {
        return Err(AppError::no_chart(path).into());
    }
    let chart = match chart {
        Some(c) => Some(c),
        // KAPCHART_CLINICIAN and KAPCHART_PASSPHRASE (or the passphrase of a team of one)
        // open it at once; otherwise the chart screen asks who and their passphrase.
        None => match std::env::var("KAPCHART_PASSPHRASE")
            .ok()
            .filter(|p| !p.is_empty())
        {
            Some(p) if !tui_asks_who(&path) => {
                let who = who(&path)?;
                Some(guarded(&path, || {
                    Chart::open_as(&path, &who, &p, ctx.config.chart.busy_timeout_ms)
                })?)
            }
            _ => None,
        },
    };
    if let (Some(c), Start::Session(id)) = (&chart, start) {
        c.session(id)?;
    }
    if !std::io::stdout().is_terminal() {
        return Err(Failure::runtime(
            "the chart screen needs a terminal; use the subcommands (kapchart --help) from scripts",
        ));
    }
    logging::event(&ctx.paths.log, "tui.open", &[]);
    let exit = tui::run(tui::Launch { chart, path, start }, ctx.config.clone())
        .map_err(Failure::runtime)?;
    logging::event(&ctx.paths.log, "tui.close", &[]);
    if let Some(text) = exit.unsent {
        eprintln!("kapchart: this was typed but not charted:\n{text}");
    }
    Ok(())
}

/// Whether the chart screen must ask who signs in: no KAPCHART_CLINICIAN, and a team of
/// several.
fn tui_asks_who(chart: &std::path::Path) -> bool {
    let named = std::env::var("KAPCHART_CLINICIAN").is_ok_and(|w| !w.trim().is_empty());
    !named && crate::app::sign_in::team(chart).is_ok_and(|t| t.len() > 1)
}
