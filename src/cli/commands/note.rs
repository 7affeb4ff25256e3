//! `kapchart note draft|show|save|edit|sign|addend`: integration notes, from the draft to
//! the signed note and its addenda.

use crate::app::access::Access;
use crate::app::course;
use crate::cli::audited::record_access;
use crate::cli::lines::to_json;
use crate::cli::screen::{Start, open_tui};
use crate::cli::{Ctx, Failure, Outcome};
use crate::domain::course::Note;
use crate::domain::signature::{Ed25519Seal, base64};
use clap::Subcommand;
use std::io::Write;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create (or reopen) the integration note of a dosing session and print it
    Draft {
        /// The dosing session
        #[arg(long)]
        session: i64,
        #[arg(long)]
        json: bool,
    },
    /// Print a note with its signature and addenda
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Replace a note's draft with the text of FILE (or stdin with -)
    Save { id: i64, file: String },
    /// Edit a note's draft in the terminal (saved within 2 s of the last keystroke)
    Edit { id: i64 },
    /// Sign a note: its text is locked; later changes are addenda
    Sign {
        id: i64,
        /// Why it is signed with alerts unacknowledged or checks missed
        #[arg(long)]
        reason: Option<String>,
    },
    /// Add a signed addendum to a signed note
    Addend { id: i64, text: String },
}

pub fn run(ctx: &Ctx, cmd: Command, out: &mut impl Write) -> Outcome {
    let now = crate::clock::now();
    match cmd {
        Command::Draft { session, json } => {
            let mut chart = ctx.open()?;
            let data = course::open_note(&mut chart, &ctx.config, session, now)?;
            if json {
                writeln!(out, "{}", to_json(&note_json(&data.note)))?;
            } else {
                print_note(&data.note, out)?;
            }
        }
        Command::Show { id, json } => {
            let mut chart = ctx.open()?;
            let note = chart.note(id)?;
            record_access(&mut chart, Access::ViewNote(id));
            if json {
                writeln!(out, "{}", to_json(&note_json(&note)))?;
            } else {
                print_note(&note, out)?;
            }
        }
        Command::Save { id, file } => {
            let text = read_note_text(&file, id)?;
            let mut chart = ctx.open()?;
            course::save_draft(&mut chart, id, &text, now)?;
            writeln!(out, "{id}")?;
        }
        Command::Edit { id } => {
            let chart = ctx.open()?;
            chart.note(id)?;
            return open_tui(ctx, ctx.paths.chart.clone(), Some(chart), Start::Note(id));
        }
        Command::Sign { id, reason } => {
            let mut chart = ctx.open()?;
            course::sign_note(&mut chart, &ctx.config, id, None, reason.as_deref(), now)?;
            let note = chart.note(id)?;
            if let Some(s) = &note.signature {
                writeln!(out, "signed note {id} · sha256 {}", s.sha256)?;
            }
        }
        Command::Addend { id, text } => {
            let mut chart = ctx.open()?;
            let a = course::add_addendum(&mut chart, id, &text, now)?;
            writeln!(out, "{}", a.id)?;
        }
    }
    Ok(())
}

fn note_json(note: &Note) -> serde_json::Value {
    let mut v = serde_json::to_value(note).unwrap_or_default();
    v["text"] = note.text().into();
    v["signed"] = note.is_signed().into();
    v
}

/// "Ed25519 signature (message v1) SIG · public key KEY" (base64), or that there is none.
fn ed25519_line(seal: Option<&Ed25519Seal>) -> String {
    match seal {
        Some(seal) => format!(
            "Ed25519 signature (message v{}, README: Signatures) {} · public key {}",
            seal.message_version,
            base64(&seal.signature),
            base64(&seal.public_key)
        ),
        None => "no Ed25519 signature (signed before kapchart signed with clinicians' keys; its SHA-256 locks it)".into(),
    }
}

fn print_note(note: &Note, out: &mut impl Write) -> Outcome {
    writeln!(out, "{}", note.text())?;
    match &note.signature {
        Some(s) => {
            writeln!(out, "--")?;
            let reason = s
                .reason
                .as_deref()
                .map(|r| format!(" (reason: {r})"))
                .unwrap_or_default();
            writeln!(
                out,
                "Signed by {} at {} · sha256 {}{reason}",
                s.signer,
                s.signed.format("%Y-%m-%d %H:%M %:z"),
                s.sha256
            )?;
            writeln!(out, "{}", ed25519_line(s.ed25519.as_ref()))?;
        }
        None => writeln!(out, "-- draft, not signed (note {})", note.id)?,
    }
    for a in &note.addenda {
        writeln!(
            out,
            "-- addendum {} by {} at {} · sha256 {}",
            a.id,
            a.author,
            a.at.format("%Y-%m-%d %H:%M %:z"),
            a.sha256
        )?;
        writeln!(out, "{}", ed25519_line(a.ed25519.as_ref()))?;
        writeln!(out, "{}", a.text)?;
    }
    Ok(())
}

/// The text for `note save`, read with the note's size limit (never whole beyond it).
/// A note's new text from a file or stdin, read no further than a note's limit. Refused,
/// with the draft left as it was, when it cannot be read, is too long, is not UTF-8 or holds
/// no text (a mistyped file name or an empty pipe must never blank a draft).
fn read_note_text(file: &str, id: i64) -> Result<String, Failure> {
    use crate::cli::bounded::{ReadError, read_text};
    let source = if file == "-" { "stdin" } else { file };
    let kept = format!("nothing was saved; note {id}'s draft was not changed");
    let field = crate::domain::text::NOTE;
    let read = if file == "-" {
        read_text(&mut std::io::stdin().lock(), field)
    } else {
        let mut f = std::fs::File::open(file)
            .map_err(|e| Failure::runtime(format!("cannot read {source}: {e}; {kept}")))?;
        read_text(&mut f, field)
    };
    let bytes = read.map_err(|e| match e {
        ReadError::Io(e) => Failure::runtime(format!("cannot read {source}: {e}; {kept}")),
        ReadError::Text(e) => Failure::runtime(format!("{source}: {e}; {kept}")),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Failure::runtime(format!(
            "{source} is not UTF-8 text (byte {} is not); {kept}",
            e.utf8_error().valid_up_to() + 1
        ))
    })?;
    if text.trim().is_empty() {
        return Err(Failure::runtime(format!(
            "{source} holds no text; {kept} (every earlier draft stays in the record)"
        )));
    }
    Ok(text)
}
