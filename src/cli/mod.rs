//! The command line: `kapchart` opens the TUI; subcommands chart from scripts.
//! Exit codes: 0 ok, 1 runtime error, 2 usage error. Errors are one line on stderr.

mod audit;
mod backup;
pub(crate) mod bounded;
mod checks;
mod clinician;
mod course;
mod export;
mod prompt;
mod rekey;
mod rems;
mod safe_output;
mod search;
mod verify;
mod witness;

use crate::app::access::Access;
use crate::app::charting::{self, ChartingError, Refusal};
use crate::app::{AppError, Chart, ErrorKind, Existing, NewPatient, NewSession, Second};
use crate::config::Config;
use crate::domain::chart::SessionChart;
use crate::domain::{ChartLine, EntryStatus, Patient, Session, SessionKind, text};
use crate::paths::Paths;
use crate::{demo, logging, tui};
use chrono::NaiveDate;
use clap::{Args, CommandFactory, Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use zeroize::Zeroizing;

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
    Init {
        /// The clinician who charts in it (default: your user name)
        #[arg(long)]
        clinician: Option<String>,
    },
    /// Open a session's live screen, with the quick-entry bar focused
    Chart {
        #[arg(long)]
        session: i64,
    },
    /// Add, list and remove the clinicians of the team (adding and removing: admins only)
    #[command(subcommand)]
    Clinician(clinician::ClinicianCommand),
    /// Add and list patients
    #[command(subcommand)]
    Patient(PatientCommand),
    /// Start, end, list and show sessions
    #[command(subcommand)]
    Session(SessionCommand),
    /// Start and show a patient's course (planned dosing sessions, goals, progress, trend)
    #[command(subcommand)]
    Course(course::CourseCommand),
    /// Record and list outcome measures (PHQ-9, GAD-7, PCL-5)
    #[command(subcommand)]
    Measure(course::MeasureCommand),
    /// Integration notes: draft, edit, sign, addenda
    #[command(subcommand)]
    Note(course::NoteCommand),
    /// The Spravato REMS Patient Monitoring Form: show a session's, list the deadlines,
    /// record a submission
    #[command(subcommand)]
    Rems(rems::RemsCommand),
    /// Integrations due, upcoming and overdue (48-72 h after each dosing session)
    Integrations {
        #[arg(long)]
        json: bool,
    },
    /// Record that an entry's alert or caution was seen and weighed
    Ack {
        entry: i64,
        /// What was decided, e.g. "rechecked after 5 min rest; proceeding"; starting with
        /// @HH:MM or @-Nm gives the acknowledgement its own time, as a quick-entry line
        #[arg(long)]
        note: String,
    },
    /// Witness a dose another clinician charted: run by the witness (signed in with
    /// KAPCHART_CLINICIAN and KAPCHART_PASSPHRASE, or asked); prints the witness entry's id
    Witness {
        /// The dose's entry id
        entry: i64,
    },
    /// Chart one quick-entry line, or one line per stdin line with `-`
    #[command(after_help = GRAMMAR_HELP)]
    Log {
        #[arg(long)]
        session: i64,
        /// The line, e.g. "bp 128/82 hr 74", or - to read lines from stdin
        line: String,
    },
    /// Replace an entry with a corrected one (the original stays in the record)
    Amend {
        entry: i64,
        /// Why the entry is corrected
        #[arg(long)]
        reason: String,
        /// The corrected entry as a quick-entry line
        line: String,
    },
    /// Withdraw an entry made in error (it stays in the record, struck through)
    Strike {
        entry: i64,
        /// Why the entry is withdrawn
        #[arg(long)]
        reason: String,
    },
    /// Find entries, notes and addenda by words, in every patient's record or one's
    /// (audited as a read); or rebuild the search index from the record
    Search(search::SearchArgs),
    /// Check the file, its schema, the audit trail, signatures and payloads; print the head
    Verify(verify::VerifyArgs),
    /// Who did what to the record (writes, views, exports, backups), newest first
    Audit(audit::AuditArgs),
    /// Export a session or a whole course: FHIR R4, HTML report, Markdown, CSV
    Export(export::ExportArgs),
    /// Write a verified, encrypted copy of the chart (safe while kapchart is in use)
    Backup {
        /// The new backup file (must not exist)
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore the chart from a backup (verified first; an admin of the chart signs in, and
    /// to the backup with KAPCHART_BACKUP_PASSPHRASE when their passphrase then differed)
    Restore {
        /// The backup file
        from: PathBuf,
        /// Replace an existing chart; it is kept beside it as NAME.replaced-TIMESTAMP
        #[arg(long)]
        replace: bool,
        /// Why a backup whose team includes someone removed since is restored (they are
        /// removed again; recorded)
        #[arg(long)]
        reason: Option<String>,
    },
    /// Change your own passphrase (the old one first; the new one twice, or
    /// KAPCHART_NEW_PASSPHRASE). Backups keep the passphrases they were made with
    Rekey,
    /// Print where the chart, config and log live
    Paths {
        #[arg(long)]
        json: bool,
    },
    /// Print shell completions
    Completions { shell: clap_complete::Shell },
    /// Create (or reopen) a demo chart with synthetic patients, then open it
    Demo {
        /// Only create the demo chart; do not open the TUI
        #[arg(long)]
        no_tui: bool,
        /// Generate a chart of clinic size instead: this many synthetic patients, each with
        /// a whole course (about 300 entries each; a ten-year clinic is about 2,000)
        #[arg(long)]
        patients: Option<usize>,
        /// Seed for --patients: the same seed gives the same chart
        #[arg(long, default_value_t = 1, requires = "patients")]
        seed: u64,
    },
}

#[derive(Debug, Subcommand)]
enum PatientCommand {
    /// Add a patient; prints the new id
    Add {
        #[arg(long)]
        name: String,
        /// Date of birth, YYYY-MM-DD
        #[arg(long, value_parser = parse_date)]
        dob: NaiveDate,
        /// Medical record number
        #[arg(long)]
        mrn: Option<String>,
        /// Weight in kilograms (needed for mg/kg doses)
        #[arg(long, value_parser = parse_weight)]
        weight: Option<f64>,
        /// Add a second record although a patient with this name, date of birth and MRN
        /// is in the chart
        #[arg(long)]
        second_record: bool,
    },
    /// List patients
    List(JsonFlag),
    /// A patient's details, medications (classes that matter flagged), safety flag
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Record changed details: weight, contacts, medications
    Update(course::PatientUpdate),
}

#[derive(Debug, Subcommand)]
enum SessionCommand {
    /// Start a session now; prints the new id
    Start {
        #[arg(long)]
        patient: i64,
        /// intake, preparation, dosing, integration or follow-up
        #[arg(long)]
        kind: SessionKind,
        /// The patient's intention (dosing sessions)
        #[arg(long)]
        intention: Option<String>,
        /// The dosing session an integration session follows
        #[arg(long)]
        dosing: Option<i64>,
        /// Open a second dosing session although the patient has one open
        #[arg(long)]
        second_dosing_session: bool,
    },
    /// End a session now. Before the minimum observation, without a ride home, with the
    /// Aldrete score below the level, with alerts not acknowledged or checks without a
    /// reading, it is refused with the list unless --reason is given
    End {
        id: i64,
        /// Why the session ends now despite what stands against it (recorded)
        #[arg(long)]
        reason: Option<String>,
    },
    /// A dosing session's protocol checks: due time, state, and the entry that closed each
    Checks {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// List sessions, newest first
    List {
        #[arg(long)]
        patient: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Show a session's entries in event-time order, with their history
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
struct JsonFlag {
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

const GRAMMAR_HELP: &str = "Quick-entry lines:
  bp 128/82 hr 74 spo2 97 rr 14 temp 36.8   vitals, any order (temp 98.6F converts)
  moaas 4                                   sedation (MOAA/S 0-5)
  dose ketamine 35mg IM                     dose: drug amount unit route
  dose ketamine 0.5mg/kg IV over 40m        mg/kg uses the patient's weight
  obs eyes closed, \"I feel safe\" #insight   observation (any line not starting with a keyword)
  @14:05 bp 130/85   @-5m obs ...           when it happened (default: now)";

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("'{s}' is not a date; expected YYYY-MM-DD, e.g. 1984-03-21"))
}

pub(crate) fn parse_weight(s: &str) -> Result<f64, String> {
    let kg: f64 = s
        .trim()
        .trim_end_matches("kg")
        .parse()
        .map_err(|_| format!("'{s}' is not a weight; expected kilograms, e.g. 72.5"))?;
    if kg.is_finite() && kg > 0.0 && kg < 700.0 {
        Ok(kg)
    } else {
        Err(format!(
            "{s} kg is not plausible; expected kilograms between 0 and 700"
        ))
    }
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

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        match e.kind() {
            ErrorKind::Exists(existing) => Failure::runtime(format!("{e}; {}", way_out(existing))),
            _ => Failure::runtime(e.to_string()),
        }
    }
}

/// The explicit way past a refusal to duplicate or replace a record.
fn way_out(existing: &Existing) -> String {
    match existing {
        Existing::Patient { id, .. } => {
            format!("use patient {id}, or give --second-record if this is another person's record")
        }
        Existing::OpenDosingSession { id, .. } => format!(
            "end it first (kapchart session end {id}), or give --second-dosing-session to open another"
        ),
        Existing::Course { .. } => "give --new-course to start a new course in its place \
             (the earlier course stays in the chart)"
            .into(),
    }
}

/// A flag that says a second record is meant.
pub(crate) fn second(meant: bool) -> Second {
    if meant { Second::Meant } else { Second::Refuse }
}

impl From<ChartingError> for Failure {
    fn from(e: ChartingError) -> Self {
        Failure::runtime(match e {
            ChartingError::Refused(r) => refusal_words(&r),
            e => e.to_string(),
        })
    }
}

/// A refusal in the CLI's words: what was wrong, and the option that answers it.
fn refusal_words(r: &Refusal) -> String {
    match r {
        Refusal::CorrectionNeedsReason => {
            "a correction needs a reason, e.g. --reason \"wrong arm cuff reading\"".into()
        }
        Refusal::EndNeedsReason { session, concerns } => {
            let list: Vec<String> = concerns.iter().map(|c| format!("  - {c}")).collect();
            format!(
                "session {session} was not ended; these stand against ending it now:\n{}\nend it anyway with --reason TEXT (the reason is recorded with the end)",
                list.join("\n")
            )
        }
        Refusal::AcknowledgementNeedsWords => "an acknowledgement says what was decided, e.g. --note \"rechecked, proceeding\" (or \"@10:45 rechecked, proceeding\" for its own time)".into(),
        r => r.to_string(),
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            // The reader went away (`kapchart ... | head`): nothing more to say.
            return Failure {
                message: String::new(),
                code: 0,
            };
        }
        Failure::runtime(e.to_string())
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
        let who = who(&self.paths.chart)?;
        let passphrase = passphrase(false)?;
        let open = if alone {
            Chart::open_alone_as
        } else {
            Chart::open_as
        };
        let chart = guarded(&self.paths.chart, || {
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

/// A sign-in at the command line, after the wait that wrong sign-ins before it ask for (they
/// are counted beside the chart, so they add up across commands: `store::sign_in_wait`).
/// The wait and the refusal say how many were wrong in a row, never which of the clinician
/// and the passphrase was.
pub(crate) fn guarded<T>(
    chart: &std::path::Path,
    open: impl FnOnce() -> Result<T, AppError>,
) -> Result<T, AppError> {
    crate::app::sign_in::guarded(
        chart,
        |count, wait| {
            eprintln!(
                "kapchart: {count} wrong sign-ins in a row at this chart; waiting {} s before this one",
                wait.as_millis().div_ceil(1000)
            );
        },
        open,
    )
}

pub fn run(cli: Cli) -> Outcome {
    let paths = Paths::resolve(cli.db);
    let mut config =
        Config::load(Some(&paths.config)).map_err(|e| Failure::runtime(e.to_string()))?;
    config.templates_dir = paths.config.parent().map(|d| d.join("templates"));
    prompt::set_wait(config.lock.after_idle());
    let ctx = Ctx { paths, config };
    let out = &mut safe_output::SafeOutput::new(std::io::stdout().lock());
    match cli.command {
        None => open_tui(&ctx, ctx.paths.chart.clone(), None, Start::Home),
        Some(Command::Chart { session }) => {
            open_tui(&ctx, ctx.paths.chart.clone(), None, Start::Session(session))
        }
        Some(Command::Init { clinician }) => init(&ctx, clinician, out),
        Some(Command::Clinician(cmd)) => clinician::clinician_command(&ctx, cmd, out),
        Some(Command::Patient(cmd)) => patient(&ctx, cmd, out),
        Some(Command::Session(cmd)) => session(&ctx, cmd, out),
        Some(Command::Log { session, line }) => log(&ctx, session, &line, out),
        Some(Command::Amend {
            entry,
            reason,
            line,
        }) => {
            let mut chart = ctx.open()?;
            let id = charting::amend_entry(
                &mut chart,
                &ctx.config,
                entry,
                &reason,
                &line,
                &crate::clock::now_local(),
            )?
            .id;
            writeln!(out, "{id}")?;
            Ok(())
        }
        Some(Command::Strike { entry, reason }) => {
            let mut chart = ctx.open()?;
            let id =
                charting::strike_entry(&mut chart, entry, &reason, &crate::clock::now_local())?.id;
            writeln!(out, "{id}")?;
            Ok(())
        }
        Some(Command::Verify(args)) => verify::verify(&ctx, args, out),
        Some(Command::Search(args)) => search::search(&ctx, args, out),
        Some(Command::Audit(args)) => audit::audit(&ctx, args, out),
        Some(Command::Rekey) => rekey::rekey(&ctx, out),
        Some(Command::Export(args)) => export::export(&ctx, args, out),
        Some(Command::Backup { to }) => backup::backup_to(&ctx, &to, out),
        Some(Command::Restore {
            from,
            replace,
            reason,
        }) => backup::restore(&ctx, &from, replace, reason.as_deref(), out),
        Some(Command::Course(cmd)) => course::course_command(&ctx, cmd, out),
        Some(Command::Measure(cmd)) => course::measure_command(&ctx, cmd, out),
        Some(Command::Note(cmd)) => course::note_command(&ctx, cmd, out),
        Some(Command::Rems(cmd)) => rems::run(&ctx, cmd, out),
        Some(Command::Integrations { json }) => course::integrations(&ctx, json, out),
        Some(Command::Ack { entry, note }) => course::acknowledge(&ctx, entry, &note, out),
        Some(Command::Witness { entry }) => witness::witness(&ctx, entry, out),
        Some(Command::Paths { json }) => {
            let p = &ctx.paths;
            if json {
                let v = serde_json::json!({
                    "chart": p.chart, "config": p.config, "log": p.log, "demo_chart": p.demo_chart,
                });
                writeln!(out, "{v}")?;
            } else {
                writeln!(out, "chart   {}", p.chart.display())?;
                writeln!(out, "config  {}", p.config.display())?;
                writeln!(out, "log     {}", p.log.display())?;
                writeln!(out, "demo    {}", p.demo_chart.display())?;
            }
            Ok(())
        }
        Some(Command::Completions { shell }) => {
            clap_complete::generate(shell, &mut Cli::command(), "kapchart", out);
            Ok(())
        }
        Some(Command::Demo {
            no_tui,
            patients,
            seed,
        }) => {
            let passphrase = std::env::var("KAPCHART_PASSPHRASE")
                .ok()
                .filter(|p| !p.is_empty());
            let announced = passphrase.is_none();
            let passphrase = passphrase.unwrap_or_else(|| demo::DEMO_PASSPHRASE.to_string());
            if let Some(n) = patients {
                let chart = scale_demo(&ctx, &passphrase, n, seed, out)?;
                if announced {
                    writeln!(out, "demo passphrase: {passphrase}")?;
                }
                return if no_tui {
                    Ok(())
                } else {
                    out.flush()?;
                    open_tui(&ctx, ctx.paths.demo_chart.clone(), Some(chart), Start::Home)
                };
            }
            let who = std::env::var("KAPCHART_CLINICIAN").unwrap_or_default();
            let (chart, created) = demo::open_or_create(
                &ctx.paths.demo_chart,
                &who,
                &passphrase,
                &ctx.config,
                crate::clock::now_local(),
            )?;
            let verb = if created { "created" } else { "reopened" };
            writeln!(out, "demo chart {verb}: {}", ctx.paths.demo_chart.display())?;
            if announced {
                writeln!(out, "demo passphrase: {passphrase}")?;
            }
            if created {
                let team: Vec<String> = std::iter::once(format!("{} (admin)", demo::DEMO_ADMIN))
                    .chain(
                        demo::DEMO_TEAM
                            .iter()
                            .map(|(name, role, _)| format!("{name} ({role})")),
                    )
                    .collect();
                writeln!(
                    out,
                    "demo team, each with the demo passphrase (sign in with KAPCHART_CLINICIAN=NAME): {}",
                    team.join(", ")
                )?;
            }
            if no_tui {
                Ok(())
            } else {
                out.flush()?;
                open_tui(&ctx, ctx.paths.demo_chart.clone(), Some(chart), Start::Home)
            }
        }
    }
}

/// A new chart of clinic size, with progress on a terminal.
fn scale_demo(
    ctx: &Ctx,
    passphrase: &str,
    patients: usize,
    seed: u64,
    out: &mut impl Write,
) -> Result<Chart, Failure> {
    if patients == 0 {
        return Err(Failure::runtime("--patients needs at least 1"));
    }
    let path = &ctx.paths.demo_chart;
    let now = crate::clock::now();
    let mut chart = Chart::create(
        path,
        passphrase,
        "Dr. Demo Clinician",
        ctx.config.chart.busy_timeout_ms,
        now,
    )?;
    let bar = backup::progress_bar("generating entries");
    let started = std::time::Instant::now();
    let report = crate::demo::scale::generate(
        &mut chart,
        &ctx.config,
        patients,
        seed,
        now,
        &mut |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    )?;
    bar.finish_and_clear();
    // What was written is walked once, as the next open would, so that it starts from here.
    chart.check_written()?;
    let secs = started.elapsed().as_secs_f64();
    logging::event(
        &ctx.paths.log,
        "demo.scale",
        &[
            ("patients", report.patients as i64),
            ("entries", report.entries as i64),
        ],
    );
    writeln!(
        out,
        "demo chart created: {} ({} patients, {} sessions, {} entries in {secs:.1} s)",
        path.display(),
        report.patients,
        report.sessions,
        report.entries
    )?;
    Ok(chart)
}

/// Opens the terminal UI on the chart at `path`. Without a known passphrase the TUI asks
/// for it itself (masked).
pub(crate) use crate::tui::Start;

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

/// Who is signing in: `KAPCHART_CLINICIAN` (an id or a name, any case), or asked at the
/// terminal when the team has more than one clinician. Empty: the team's only clinician
/// (the store refuses it, naming the team, when there are several).
pub(crate) fn who(chart: &std::path::Path) -> Result<String, Failure> {
    if let Some(w) = std::env::var("KAPCHART_CLINICIAN")
        .ok()
        .filter(|w| !w.trim().is_empty())
    {
        return Ok(w);
    }
    let team = crate::app::sign_in::team(chart).unwrap_or_default();
    if team.len() <= 1 || !std::io::stderr().is_terminal() || !std::io::stdin().is_terminal() {
        return Ok(String::new());
    }
    eprintln!("Who is signing in?");
    for m in &team {
        eprintln!("  {:>3}  {} ({})", m.id, m.name, m.role);
    }
    eprint!("Clinician (id or name): ");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let who = line.trim().to_string();
    // Names are no secret (they are on the sign-in list): an unknown or shared one is said
    // before the passphrase is asked for.
    let list = || {
        team.iter()
            .map(|m| format!("{} {}", m.id, m.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match crate::domain::team::matching(&team, &who).as_slice() {
        [_] => Ok(who),
        [] => Err(Failure::runtime(format!(
            "no clinician '{who}' on this chart's team; the team: {}",
            list()
        ))),
        several => Err(Failure::runtime(format!(
            "more than one clinician is named '{who}' (ids {}); sign in with the id",
            several
                .iter()
                .map(|m| m.id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The passphrase: `KAPCHART_PASSPHRASE`, or asked for without echo at the terminal. Wiped
/// from memory when dropped (the copy in the environment is the caller's to keep away).
pub(crate) fn passphrase(confirm: bool) -> Result<Zeroizing<String>, Failure> {
    if let Some(p) = std::env::var("KAPCHART_PASSPHRASE")
        .ok()
        .map(Zeroizing::new)
        .filter(|p| !p.is_empty())
    {
        return Ok(p);
    }
    if !std::io::stderr().is_terminal() {
        return Err(Failure::runtime(
            "no passphrase: set KAPCHART_PASSPHRASE, or run kapchart in a terminal to be asked",
        ));
    }
    let first = prompt::hidden("Chart passphrase: ")?;
    if first.is_empty() {
        return Err(Failure::runtime("the passphrase must not be empty"));
    }
    if confirm {
        let second = prompt::hidden("Same passphrase again: ")?;
        if second != first {
            return Err(Failure::runtime(
                "the two passphrases differ; nothing was created",
            ));
        }
    }
    Ok(first)
}

fn init(ctx: &Ctx, clinician: Option<String>, out: &mut impl Write) -> Outcome {
    let clinician = clinician
        .or_else(|| std::env::var("USER").ok())
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| Failure::runtime("who charts here? give --clinician NAME"))?;
    if ctx.paths.chart.exists() {
        return Err(AppError::already_exists(ctx.paths.chart.clone()).into());
    }
    let passphrase = passphrase(true)?;
    rekey::check_strength(ctx, &passphrase, &clinician, "no chart was created")?;
    let chart = Chart::create(
        &ctx.paths.chart,
        &passphrase,
        &clinician,
        ctx.config.chart.busy_timeout_ms,
        crate::clock::now(),
    )?;
    logging::event(&ctx.paths.log, "chart.create", &[]);
    writeln!(out, "created {}", ctx.paths.chart.display())?;
    if let Some(root) = chart.root()? {
        writeln!(
            out,
            "root {root}\n(the fingerprint of {}'s key, which every clinician's key is certified back to: keep it away from this laptop, e.g. on paper in the clinic's records, and check it with `kapchart verify --root`)",
            chart.clinician().name
        )?;
    }
    Ok(())
}

fn patient(ctx: &Ctx, cmd: PatientCommand, out: &mut impl Write) -> Outcome {
    let mut chart = ctx.open()?;
    match cmd {
        PatientCommand::Add {
            name,
            dob,
            mrn,
            weight,
            second_record,
        } => {
            let id = crate::app::course::add_patient(
                &mut chart,
                &NewPatient {
                    name,
                    dob,
                    mrn,
                    weight_kg: weight,
                },
                second(second_record),
                crate::clock::now(),
            )?;
            writeln!(out, "{id}")?;
        }
        PatientCommand::Show { id, json } => return course::patient_show(ctx, id, json, out),
        PatientCommand::Update(u) => return course::patient_update(ctx, u, out),
        PatientCommand::List(JsonFlag { json }) => {
            let patients = chart.patients()?;
            if json {
                writeln!(out, "{}", to_json(&patients))?;
            } else {
                let today = crate::clock::today();
                for p in &patients {
                    writeln!(out, "{}", patient_line(p, today))?;
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn patient_line(p: &Patient, today: NaiveDate) -> String {
    let mut line = format!(
        "{:>4}  {}  born {} (age {})",
        p.id,
        p.name,
        p.dob,
        p.age_on(today)
    );
    if let Some(mrn) = &p.mrn {
        line.push_str(&format!("  MRN {mrn}"));
    }
    if let Some(w) = p.weight_kg {
        line.push_str(&format!("  {} kg", crate::domain::entry::trim_number(w, 1)));
    }
    line
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

fn session(ctx: &Ctx, cmd: SessionCommand, out: &mut impl Write) -> Outcome {
    let mut chart = ctx.open()?;
    match cmd {
        SessionCommand::Start {
            patient,
            kind,
            intention,
            dosing,
            second_dosing_session,
        } => {
            let now = crate::clock::now();
            let id = crate::app::course::start_session(
                &mut chart,
                NewSession {
                    patient_id: patient,
                    kind,
                    started: now,
                    intention,
                    dosing_session_id: dosing,
                },
                second(second_dosing_session),
                now,
            )?;
            writeln!(out, "{id}")?;
        }
        SessionCommand::End { id, reason } => {
            let written = charting::end_session(
                &mut chart,
                &ctx.config,
                id,
                Vec::new(),
                reason.as_deref(),
                &crate::clock::now_local(),
            )?;
            // The end is the last entry written.
            if let Some(end) = written.last() {
                writeln!(out, "{}", end.id)?;
            }
        }
        SessionCommand::Checks { id, json } => {
            let s = charting::session_chart(&chart, &ctx.config, id)?;
            audit::record_access(&mut chart, Access::ViewSession(id));
            checks::print(&s, crate::clock::now(), json, out)?;
        }
        SessionCommand::List { patient, json } => {
            if let Some(p) = patient {
                chart.patient(p)?;
            }
            let sessions = chart.sessions(patient)?;
            if json {
                writeln!(out, "{}", to_json(&sessions))?;
            } else {
                // Each session names its patient (read once per patient).
                let mut ids: Vec<i64> = sessions.iter().map(|s| s.patient_id).collect();
                ids.sort_unstable();
                ids.dedup();
                let names: std::collections::HashMap<i64, String> = chart
                    .patients_with_ids(&ids)?
                    .into_iter()
                    .map(|p| (p.id, p.name))
                    .collect();
                for s in &sessions {
                    let name = names.get(&s.patient_id).map_or("", String::as_str);
                    writeln!(out, "{}", session_line(s, name))?;
                }
            }
        }
        SessionCommand::Show { id, json } => {
            let s = chart.session(id)?;
            let patient = chart.patient(s.patient_id)?;
            let session = charting::session_chart(&chart, &ctx.config, id)?;
            let lines = session.lines();
            audit::record_access(&mut chart, Access::ViewSession(id));
            if json {
                let entries: Vec<_> = lines
                    .iter()
                    .map(|l| {
                        let mut v = serde_json::to_value(l).unwrap_or_default();
                        v["kind"] = l.entry.payload.kind().into();
                        v["summary"] = session.summary(&l.entry).into();
                        if let Some(by) = acknowledged_by(&session, l) {
                            v["acknowledged_by"] = by.into();
                        }
                        v
                    })
                    .collect();
                let v = serde_json::json!({ "session": s, "patient": patient, "entries": entries });
                writeln!(out, "{}", to_json(&v))?;
            } else {
                writeln!(out, "{}", session_line(&s, &patient.name))?;
                writeln!(
                    out,
                    "patient {}",
                    patient_line(&patient, crate::clock::today()).trim_start()
                )?;
                if let Some(i) = &s.intention {
                    writeln!(out, "intention: {i}")?;
                }
                for l in lines {
                    writeln!(out, "{}", entry_line(&session, l))?;
                }
            }
        }
    }
    Ok(())
}

/// One session in a line: its id, its patient by name (and id), kind, start, end and who
/// opened it.
pub(crate) fn session_line(s: &Session, patient: &str) -> String {
    let mut line = format!(
        "{:>4}  {patient} (patient {})  {:<12} started {}",
        s.id,
        s.patient_id,
        s.kind.as_str(),
        s.started.format("%Y-%m-%d %H:%M %:z")
    );
    match s.ended {
        Some(e) => line.push_str(&format!("  ended {}", e.format("%H:%M"))),
        None => line.push_str("  open"),
    }
    if let Some(d) = s.dosing_session_id {
        line.push_str(&format!("  integrates session {d}"));
    }
    line.push_str(&format!("  opened by {}", s.clinician));
    line
}

/// The acknowledgement that stands for an entry with an alert, if any.
fn acknowledged_by(session: &SessionChart, l: &ChartLine) -> Option<i64> {
    l.entry
        .flags
        .iter()
        .any(|f| f.code.is_alert())
        .then(|| session.acknowledged_by(l.entry.id))
        .flatten()
}

fn entry_line(session: &SessionChart, l: &ChartLine) -> String {
    let e = &l.entry;
    let mut line = format!(
        "{:>5}  {}  (written {})  {:<11} {}",
        e.id,
        e.event_time.format("%Y-%m-%d %H:%M:%S %:z"),
        e.recorded_time.format("%H:%M:%S"),
        e.payload.kind(),
        session.summary(e)
    );
    if let (Some(target), Some(how), Some(reason)) = (e.corrects, e.correction, &e.reason) {
        line.push_str(&format!("  [{} of entry {target}: {reason}]", how.as_str()));
    }
    line.push_str(&format!("  by {}", e.author));
    for f in &e.flags {
        line.push_str(&format!("  [{f}]"));
    }
    if let Some(by) = acknowledged_by(session, l) {
        line.push_str(&format!("  (acknowledged by entry {by})"));
    }
    match l.status {
        EntryStatus::Current => {}
        EntryStatus::Amended { by } => line.push_str(&format!("  (amended by entry {by})")),
        EntryStatus::Struck { by } => line.push_str(&format!("  (STRUCK by entry {by})")),
    }
    line
}

fn log(ctx: &Ctx, session: i64, line: &str, out: &mut impl Write) -> Outcome {
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

/// A line that raised the PHQ-9 item 9 safety flag says so on stderr, whatever the path.
pub(crate) fn say_safety(charted: &charting::Charted) {
    if let Some(f) = &charted.safety {
        eprintln!("kapchart: SAFETY: {f}");
    }
    if let Some(dose) = charted.witness {
        eprintln!(
            "kapchart: dose {dose} waits for its witness: they run `kapchart witness {dose}` signed in as themselves"
        );
    }
}

/// Charts one line of `log -` (numbered `n` from 1); a line the chart itself cannot take
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

pub(crate) fn join_ids(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(" ")
}
