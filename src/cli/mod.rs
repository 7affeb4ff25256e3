//! The command line: `kapchart` opens the TUI; subcommands chart from scripts.
//! Exit codes: 0 ok, 1 runtime error, 2 usage error. Errors are one line on stderr.
//!
//! Each command lives in `commands/<command>.rs` with its arguments and its `run`; this file
//! holds the parser, the dispatch, the context every command shares (`Ctx`) and the
//! `Failure` that ends a command (worded in `wording.rs`).

mod audited;
pub(crate) mod bounded;
mod commands;
mod lines;
mod parse;
mod progress;
mod prompt;
mod safe_output;
mod screen;
mod sign_in;
mod wording;

use crate::app::{AppError, Chart};
use crate::config::Config;
use crate::logging;
use crate::paths::Paths;
use clap::{Parser, Subcommand};
use commands::*;
use screen::{Start, open_tui};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "kapchart",
    version,
    about = "Bedside charting for ketamine-assisted psychotherapy",
    long_about = "Bedside charting for ketamine-assisted psychotherapy: an encrypted, append-only \
                  chart in the terminal. Run without a command to open the chart.\n\n\
                  Who signs in is asked at the terminal, or taken from KAPCHART_CLINICIAN (an id \
                  or a name; not needed while the team has one clinician). The passphrase is \
                  asked for at the terminal, or taken from KAPCHART_PASSPHRASE."
)]
pub struct Cli {
    /// The chart file (default: KAPCHART_DB, else chart.db in the data folder; see `kapchart paths`)
    #[arg(long, global = true, value_name = "PATH")]
    db: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new, encrypted chart
    Init(init::Args),
    /// Open a session's live screen, with the quick-entry bar focused
    Chart(chart::Args),
    /// Add, list and remove the clinicians of the team (adding and removing: admins only)
    #[command(subcommand)]
    Clinician(clinician::Command),
    /// Add and list patients
    #[command(subcommand)]
    Patient(patient::Command),
    /// Start, end, list and show sessions
    #[command(subcommand)]
    Session(session::Command),
    /// Start and show a patient's course (planned dosing sessions, goals, progress, trend)
    #[command(subcommand)]
    Course(course::Command),
    /// Record and list outcome measures (PHQ-9, GAD-7, PCL-5)
    #[command(subcommand)]
    Measure(measure::Command),
    /// Integration notes: draft, edit, sign, addenda
    #[command(subcommand)]
    Note(note::Command),
    /// The Spravato REMS Patient Monitoring Form: show a session's, list the deadlines,
    /// record a submission
    #[command(subcommand)]
    Rems(rems::Command),
    /// Integrations due, upcoming and overdue (48-72 h after each dosing session)
    Integrations(integrations::Args),
    /// Record that an entry's alert or caution was seen and weighed
    Ack(ack::Args),
    /// The controlled-substance log: receive, open, keep, count, inventory, strike, show,
    /// log (doses and wastes are charted as lines: `dose ketamine 35mg IM vial V12`)
    #[command(subcommand)]
    Stock(stock::Command),
    /// Witness a dose another clinician charted: run by the witness (signed in with
    /// KAPCHART_CLINICIAN and KAPCHART_PASSPHRASE, or asked); prints the witness entry's id
    Witness(witness::Args),
    /// Chart one quick-entry line, or one line per stdin line with `-`
    #[command(after_help = log::GRAMMAR_HELP)]
    Log(log::Args),
    /// Replace an entry with a corrected one (the original stays in the record)
    Amend(amend::Args),
    /// Withdraw an entry made in error (it stays in the record, struck through)
    Strike(strike::Args),
    /// Find entries, notes and addenda by words, in every patient's record or one's
    /// (audited as a read); or rebuild the search index from the record
    Search(search::Args),
    /// Check the file, its schema, the audit trail, signatures and payloads; print the head
    Verify(verify::Args),
    /// Send what changed to the clinic's FHIR R4 server ([sync] server), as transaction
    /// bundles; a resend of unchanged content sends nothing
    Sync(sync::Args),
    /// Who did what to the record (writes, views, exports, backups), newest first
    Audit(audit::Args),
    /// Export a session or a whole course: FHIR R4, HTML report, Markdown, CSV
    Export(export::Args),
    /// Write a verified, encrypted copy of the chart (safe while kapchart is in use)
    Backup(backup::Args),
    /// Restore the chart from a backup (verified first; an admin of the chart signs in, and
    /// to the backup with KAPCHART_BACKUP_PASSPHRASE when their passphrase then differed)
    Restore(restore::Args),
    /// Change your own passphrase (the old one first; the new one twice, or
    /// KAPCHART_NEW_PASSPHRASE). Backups keep the passphrases they were made with
    Rekey,
    /// Print where the chart, config and log live
    Paths(paths::Args),
    /// Print shell completions
    Completions(completions::Args),
    /// Create (or reopen) a demo chart with synthetic patients, then open it
    Demo(demo::Args),
}

/// A failure that ends the command: its message and exit code.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl Failure {
    pub(crate) fn runtime(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 1,
        }
    }
}

pub(crate) type Outcome = Result<(), Failure>;

/// Runs kapchart with the process's arguments.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) if f.message.is_empty() => ExitCode::from(f.code),
        Err(f) => {
            // A refusal of several lines (what stands against ending a session) keeps its
            // line breaks; every other control character is shown as its escape.
            let message = crate::domain::text::escape_controls(&f.message, true);
            eprintln!("kapchart: {message}");
            ExitCode::from(f.code)
        }
    }
}

/// The context every command shares.
pub(crate) struct Ctx {
    pub(crate) paths: Paths,
    pub(crate) config: Config,
}

impl Ctx {
    /// Opens the chart signed in as the clinician `who` names (KAPCHART_CLINICIAN, or asked).
    pub(crate) fn open(&self) -> Result<Chart, Failure> {
        self.open_signed_in(false)
    }

    /// Opens the chart only while no other kapchart has it open (for what re-keys it).
    pub(crate) fn open_alone(&self) -> Result<Chart, Failure> {
        self.open_signed_in(true)
    }

    fn open_signed_in(&self, alone: bool) -> Result<Chart, Failure> {
        if !self.paths.chart.exists() {
            return Err(AppError::no_chart(self.paths.chart.clone()).into());
        }
        let who = sign_in::who(&self.paths.chart)?;
        let passphrase = prompt::chart_passphrase(false)?;
        let open = if alone {
            Chart::open_alone_as
        } else {
            Chart::open_as
        };
        let chart = sign_in::guarded(&self.paths.chart, || {
            open(
                &self.paths.chart,
                &who,
                &passphrase,
                self.config.chart.busy_timeout_ms,
            )
        });
        logging::event(
            &self.paths.log,
            if chart.is_ok() {
                "chart.open"
            } else {
                "chart.open.failed"
            },
            &[],
        );
        Ok(chart?)
    }
}

pub fn run(cli: Cli) -> Outcome {
    let paths = Paths::resolve(cli.db);
    let mut config =
        Config::load(Some(&paths.config)).map_err(|e| Failure::runtime(e.to_string()))?;
    config.templates_dir = paths.config.parent().map(|d| d.join("templates"));
    prompt::set_wait(config.lock.after_idle());
    let ctx = Ctx { paths, config };
    let out = &mut safe_output::SafeOutput::new(std::io::stdout().lock());
    let Some(command) = cli.command else {
        return open_tui(&ctx, ctx.paths.chart.clone(), None, Start::Home);
    };
    match command {
        Command::Init(args) => init::run(&ctx, args, out),
        Command::Chart(args) => chart::run(&ctx, args),
        Command::Clinician(cmd) => clinician::run(&ctx, cmd, out),
        Command::Patient(cmd) => patient::run(&ctx, cmd, out),
        Command::Session(cmd) => session::run(&ctx, cmd, out),
        Command::Course(cmd) => course::run(&ctx, cmd, out),
        Command::Measure(cmd) => measure::run(&ctx, cmd, out),
        Command::Note(cmd) => note::run(&ctx, cmd, out),
        Command::Rems(cmd) => rems::run(&ctx, cmd, out),
        Command::Integrations(args) => integrations::run(&ctx, args, out),
        Command::Ack(args) => ack::run(&ctx, args, out),
        Command::Stock(cmd) => stock::run(&ctx, cmd, out),
        Command::Witness(args) => witness::run(&ctx, args, out),
        Command::Log(args) => log::run(&ctx, args, out),
        Command::Amend(args) => amend::run(&ctx, args, out),
        Command::Strike(args) => strike::run(&ctx, args, out),
        Command::Search(args) => search::run(&ctx, args, out),
        Command::Verify(args) => verify::run(&ctx, args, out),
        Command::Sync(args) => sync::run(&ctx, args, out),
        Command::Audit(args) => audit::run(&ctx, args, out),
        Command::Export(args) => export::run(&ctx, args, out),
        Command::Backup(args) => backup::run(&ctx, args, out),
        Command::Restore(args) => restore::run(&ctx, args, out),
        Command::Rekey => rekey::run(&ctx, out),
        Command::Paths(args) => paths::run(&ctx, args, out),
        Command::Completions(args) => completions::run(args, out),
        Command::Demo(args) => demo::run(&ctx, args, out),
    }
}
