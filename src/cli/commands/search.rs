//! `kapchart search WORDS`: the entries, notes and addenda where every word begins a word of
//! the text, newest first, with the words found marked `[[like this]]`; and
//! `kapchart search --rebuild-index`, which builds the search index again from the record when
//! `verify` says it disagrees.

use crate::app::search::{self, LIMIT, Results};
use crate::cli::{Ctx, Failure, Outcome};
use crate::domain::search::{Excerpt, Found, Hit};
use crate::domain::{EntryStatus, text};
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The words to find: each begins a word of the text, all of them are there, in any order
    /// (case aside, accents kept; quotes, `*` and AND/OR are only text)
    #[arg(value_name = "WORDS", required_unless_present = "rebuild_index")]
    words: Vec<String>,
    /// Only this patient's record
    #[arg(long, value_name = "ID")]
    patient: Option<i64>,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
    /// Show at most this many, the most recently written
    #[arg(long, default_value_t = LIMIT as u16, value_parser = clap::value_parser!(u16).range(1..=10_000))]
    limit: u16,
    /// Build the search index again from the record (when `kapchart verify` says it
    /// disagrees with the record); nothing of the record changes
    #[arg(long, conflicts_with_all = ["words", "patient", "json"])]
    rebuild_index: bool,
}

/// How wide an excerpt of a long text is, in characters.
const EXCERPT: usize = 160;
/// How much of the typed words is echoed back.
const ECHO: usize = 60;

pub fn run(ctx: &Ctx, args: Args, out: &mut impl Write) -> Outcome {
    let mut chart = ctx.open()?;
    if args.rebuild_index {
        let rows = chart.rebuild_search_index(crate::clock::now())?;
        crate::logging::event(
            &ctx.paths.log,
            "search.rebuild",
            &[("rows", i64::try_from(rows).unwrap_or(i64::MAX))],
        );
        writeln!(
            out,
            "search index rebuilt from the record: {rows} entries, notes and addenda"
        )?;
        return Ok(());
    }
    let typed = args.words.join(" ");
    let results = search::search(&chart, &typed, args.patient, usize::from(args.limit))?;
    // Audited before anything is shown; the words are neither recorded nor logged.
    if let Some(why) = search::record(&mut chart, &results, crate::clock::now()).warning() {
        eprintln!("kapchart: warning: {why}");
    }
    crate::logging::event(
        &ctx.paths.log,
        "search",
        &[(
            "found",
            i64::try_from(results.hits.len()).unwrap_or(i64::MAX),
        )],
    );
    if args.json {
        writeln!(out, "{}", json(&results))?;
        return Ok(());
    }
    print(&typed, &results, out).map_err(Failure::from)
}

fn echo(typed: &str) -> String {
    let shown: String = typed.chars().take(ECHO).collect();
    let cut = if typed.chars().nth(ECHO).is_some() {
        "…"
    } else {
        ""
    };
    text::escape_controls(&format!("{shown}{cut}"), false).into_owned()
}

fn print(typed: &str, results: &Results, out: &mut impl Write) -> std::io::Result<()> {
    let scope = match results.patient {
        Some(p) => format!(" in patient {p}'s record"),
        None => String::new(),
    };
    if results.hits.is_empty() {
        writeln!(out, "nothing found for \"{}\"{scope}", echo(typed))?;
        if let Some(why) = results.why_nothing() {
            writeln!(out, "({why})")?;
        }
        return Ok(());
    }
    writeln!(
        out,
        "{} found for \"{}\"{scope}, newest first; the words found are marked [[like this]]",
        results.hits.len(),
        echo(typed)
    )?;
    for hit in &results.hits {
        writeln!(out, "{}", heading(hit))?;
        let excerpt = Excerpt::of(&hit.text, &results.words, EXCERPT);
        let mark = if hit.found.is_corrected() { "✗ " } else { "" };
        writeln!(
            out,
            "    {mark}{}",
            text::escape_controls(&excerpt.marked("[[", "]]"), false)
        )?;
    }
    if results.more {
        writeln!(
            out,
            "(more was found: the {} most recently written are shown; add words, --patient ID, or --limit N)",
            results.hits.len()
        )?;
    }
    Ok(())
}

/// "2026-12-05 10:42  Alex Rivera (patient 1) · dosing session 4 · Nia Nurse · entry 57".
fn heading(hit: &Hit) -> String {
    format!(
        "{}  {} (patient {}) · {} session {} · {} · {}",
        hit.at.format("%Y-%m-%d %H:%M"),
        hit.patient_name,
        hit.patient,
        hit.session_kind.as_str(),
        hit.session,
        hit.author,
        hit.found.describe()
    )
}

fn json(results: &Results) -> serde_json::Value {
    let found: Vec<serde_json::Value> = results
        .hits
        .iter()
        .map(|hit| {
            let (kind, id, status, corrected_by, note) = match hit.found {
                Found::Entry { id, status } => {
                    let (s, by) = match status {
                        EntryStatus::Current => ("current", None),
                        EntryStatus::Amended { by } => ("amended", Some(by)),
                        EntryStatus::Struck { by } => ("struck", Some(by)),
                    };
                    ("entry", id, s, by, None)
                }
                Found::Note { id, signed } => (
                    "note",
                    id,
                    if signed { "signed" } else { "draft" },
                    None,
                    None,
                ),
                Found::Addendum { id, note } => ("addendum", id, "signed", None, Some(note)),
            };
            // Where the words were found, as character offsets into `text`.
            let chars = |byte: usize| hit.text[..byte].chars().count();
            let marks: Vec<[usize; 2]> = results
                .words
                .marks(&hit.text)
                .into_iter()
                .map(|r| [chars(r.start), chars(r.end)])
                .collect();
            serde_json::json!({
                "kind": kind,
                "id": id,
                "status": status,
                "corrected_by": corrected_by,
                "note": note,
                "patient": {"id": hit.patient, "name": hit.patient_name},
                "session": {"id": hit.session, "kind": hit.session_kind.as_str()},
                "at": hit.at.to_rfc3339(),
                "author": hit.author,
                "text": hit.text,
                "marks": marks,
            })
        })
        .collect();
    serde_json::json!({
        "words": results.words.words(),
        "patient": results.patient,
        "found": found,
        "more": results.more,
        "why_nothing": results.why_nothing(),
    })
}
