//! Commands for the course around the sessions: patient details, the course, outcome
//! measures, integration notes and due integrations.

use super::{Ctx, Failure, Outcome, parse_weight, to_json};
use crate::app::access::Access;
use crate::app::charting;
use crate::app::course;
use crate::domain::SessionKind;
use crate::domain::course::{DEFAULT_PLANNED_DOSING, Note};
use crate::domain::integration::{self, IntegrationStatus};
use crate::domain::measures::{self, Instrument};
use crate::domain::medications;
use crate::domain::signature::{Ed25519Seal, base64};
use clap::Subcommand;
use std::io::Write;

#[derive(Debug, Subcommand)]
pub enum CourseCommand {
    /// Start a course of treatment for a patient; prints its id
    Start {
        #[arg(long)]
        patient: i64,
        /// Planned dosing sessions (usually about 6)
        #[arg(long, default_value_t = DEFAULT_PLANNED_DOSING)]
        planned: u32,
        /// A goal of the course (repeat for several)
        #[arg(long = "goal")]
        goals: Vec<String>,
        /// Start a new course in place of the patient's course (which stays in the chart)
        #[arg(long)]
        new_course: bool,
    },
    /// Progress, sessions, outcome trend and integrations of a patient's course
    Show {
        #[arg(long)]
        patient: i64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum MeasureCommand {
    /// Record a questionnaire answered item by item: phq9 (9 items 0-3), gad7 (7 items 0-3),
    /// pcl5 (20 items 0-4); prints the entry id
    Add {
        #[arg(long)]
        session: i64,
        /// phq9, gad7 or pcl5
        instrument: String,
        /// The answers, in item order
        #[arg(num_args = 1.., allow_negative_numbers = true)]
        items: Vec<String>,
    },
    /// A patient's questionnaires with total and band, oldest first
    List {
        #[arg(long)]
        patient: i64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum NoteCommand {
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

#[derive(Debug, clap::Args)]
pub struct PatientUpdate {
    pub id: i64,
    /// Weight in kilograms
    #[arg(long, value_parser = parse_weight)]
    pub weight: Option<f64>,
    #[arg(long)]
    pub emergency_contact: Option<String>,
    /// Who usually takes the patient home after dosing
    #[arg(long)]
    pub ride_contact: Option<String>,
    /// Sex as the clinic records it, e.g. female, male (asked on the Spravato REMS form)
    #[arg(long)]
    pub sex: Option<String>,
    /// A current medication, as written (repeat for several)
    #[arg(long = "med-add")]
    pub med_add: Vec<String>,
    /// A medication the patient no longer takes (its name as listed)
    #[arg(long = "med-stop")]
    pub med_stop: Vec<String>,
}

pub fn patient_update(ctx: &Ctx, u: PatientUpdate, out: &mut impl Write) -> Outcome {
    // Nothing to change would only add a version identical to the last one.
    if u.weight.is_none()
        && u.emergency_contact.is_none()
        && u.ride_contact.is_none()
        && u.sex.is_none()
        && u.med_add.is_empty()
        && u.med_stop.is_empty()
    {
        return Err(Failure::runtime(format!(
            "nothing to change for patient {}: give --weight, --emergency-contact, --ride-contact, --sex, --med-add or --med-stop; nothing was written",
            u.id
        )));
    }
    let mut chart = ctx.open()?;
    let mut details = chart.patient_details(u.id)?;
    if let Some(w) = u.weight {
        details.weight_kg = Some(w);
    }
    if let Some(c) = u.emergency_contact {
        details.emergency_contact = Some(c.trim().to_string()).filter(|c| !c.is_empty());
    }
    if let Some(c) = u.ride_contact {
        details.ride_contact = Some(c.trim().to_string()).filter(|c| !c.is_empty());
    }
    if let Some(s) = u.sex {
        details.sex = Some(s.trim().to_string()).filter(|s| !s.is_empty());
    }
    for stop in &u.med_stop {
        let before = details.medications.len();
        let wanted = stop.trim().to_lowercase();
        details.medications.retain(|m| {
            m.to_lowercase() != wanted && !m.to_lowercase().starts_with(&format!("{wanted} "))
        });
        if details.medications.len() == before {
            return Err(Failure::runtime(format!(
                "'{stop}' is not among patient {}'s medications: {}",
                u.id,
                details.medications.join(", ")
            )));
        }
    }
    for add in u.med_add {
        let add = add.trim().to_string();
        if !add.is_empty() && !details.medications.contains(&add) {
            details.medications.push(add);
        }
    }
    let id = chart.update_patient_details(u.id, &details, crate::clock::now())?;
    writeln!(out, "{id}")?;
    Ok(())
}

pub fn patient_show(ctx: &Ctx, id: i64, json: bool, out: &mut impl Write) -> Outcome {
    let mut chart = ctx.open()?;
    let patient = chart.patient(id)?;
    let details = chart.patient_details(id)?;
    let meds: Vec<medications::Medication> = details
        .medications
        .iter()
        .map(|m| medications::Medication {
            name: m.clone(),
            class: medications::classify(m),
        })
        .collect();
    let flag = course::safety_flag(&chart, id)?;
    let course_row = chart.course(id)?;
    super::audit::record_access(&mut chart, Access::ViewPatient(id));
    if json {
        let v = serde_json::json!({
            "patient": patient,
            "details": details,
            "medications": meds,
            "safety_flag": flag.map(|f| f.to_string()),
            "course": course_row,
        });
        writeln!(out, "{}", to_json(&v))?;
        return Ok(());
    }
    let today = crate::clock::today();
    writeln!(out, "{}", super::patient_line(&patient, today).trim_start())?;
    if let Some(f) = flag {
        writeln!(out, "! SAFETY: {f}")?;
    }
    if let Some(c) = &details.emergency_contact {
        writeln!(out, "emergency contact: {c}")?;
    }
    if let Some(c) = &details.ride_contact {
        writeln!(out, "usual ride home: {c}")?;
    }
    if meds.is_empty() {
        writeln!(out, "medications: none recorded")?;
    }
    for m in &meds {
        match m.class {
            Some(class) => writeln!(
                out,
                "medication: {} ! {} ({})",
                m.name,
                class.label(),
                class.why_it_matters()
            )?,
            None => writeln!(out, "medication: {}", m.name)?,
        }
    }
    Ok(())
}

pub fn course_command(ctx: &Ctx, cmd: CourseCommand, out: &mut impl Write) -> Outcome {
    let mut chart = ctx.open()?;
    match cmd {
        CourseCommand::Start {
            patient,
            planned,
            goals,
            new_course,
        } => {
            let id = course::start_course(
                &mut chart,
                patient,
                planned,
                &goals,
                super::second(new_course),
                crate::clock::now(),
            )?;
            writeln!(out, "{id}")?;
        }
        CourseCommand::Show { patient, json } => {
            let now = crate::clock::now();
            let p = chart.patient(patient)?;
            let sessions = chart.sessions(Some(patient))?;
            let c = chart.course(patient)?;
            let planned = c
                .as_ref()
                .map(|c| c.planned_dosing)
                .unwrap_or(DEFAULT_PLANNED_DOSING);
            let dosing_done = sessions
                .iter()
                .filter(|s| s.kind == SessionKind::Dosing && s.ended.is_some())
                .count();
            let measures: Vec<_> = course::patient_measures(&chart, patient)?
                .into_iter()
                .map(|(_, at, m)| (at, m))
                .collect();
            let trends = measures::trends(&measures);
            let doses = crate::app::views::first_doses(&chart, &ctx.config, &sessions)?;
            let dues = integration::integrations(&sessions, &doses, &ctx.config.integration, now);
            let flag = course::safety_flag(&chart, patient)?;
            super::audit::record_access(&mut chart, Access::ViewPatient(patient));
            if json {
                let trends: Vec<_> = trends
                    .iter()
                    .map(|t| {
                        serde_json::json!({
                            "instrument": t.instrument,
                            "points": t.points.iter().map(|(at, total)| serde_json::json!({"at": at, "total": total})).collect::<Vec<_>>(),
                            "baseline": t.baseline,
                            "latest": t.latest,
                            "change": t.change,
                        })
                    })
                    .collect();
                let dues: Vec<_> = dues
                    .iter()
                    .map(|d| serde_json::json!({"dosing_session": d.dosing, "from": d.window.0, "until": d.window.1, "status": d.status.to_string()}))
                    .collect();
                let v = serde_json::json!({
                    "patient": p,
                    "course": c,
                    "planned_dosing": planned,
                    "dosing_done": dosing_done,
                    "sessions": sessions,
                    "trends": trends,
                    "integrations": dues,
                    "safety_flag": flag.map(|f| f.to_string()),
                });
                writeln!(out, "{}", to_json(&v))?;
                return Ok(());
            }
            writeln!(out, "{}: dosing {dosing_done} of {planned}", p.name)?;
            if let Some(f) = flag {
                writeln!(out, "! SAFETY: {f}")?;
            }
            for g in c.iter().flat_map(|c| &c.goals) {
                writeln!(out, "goal: {g}")?;
            }
            for s in sessions.iter().rev() {
                writeln!(out, "{}", super::session_line(s, &p.name))?;
            }
            for t in &trends {
                let points: Vec<String> = t
                    .points
                    .iter()
                    .map(|(at, v)| format!("{} {v}", at.format("%d %b")))
                    .collect();
                let change = t.change.map(|c| format!("{c:+}")).unwrap_or_default();
                let note = measures::change_meaning(t, &ctx.config.measures)
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{}: {} · change from baseline {change}{note}",
                    t.instrument,
                    points.join(" → ")
                )?;
            }
            for d in dues.iter().filter(|d| !d.status.is_done()) {
                writeln!(out, "dosing session {}: {}", d.dosing, d.status)?;
            }
        }
    }
    Ok(())
}

pub fn measure_command(ctx: &Ctx, cmd: MeasureCommand, out: &mut impl Write) -> Outcome {
    match cmd {
        MeasureCommand::Add {
            session,
            instrument,
            items,
        } => {
            let mut chart = ctx.open()?;
            let known = Instrument::ALL
                .iter()
                .find(|i| i.keyword() == instrument.to_lowercase());
            let Some(instrument) = known else {
                return Err(Failure::runtime(format!(
                    "unknown questionnaire '{instrument}'; expected phq9, gad7 or pcl5"
                )));
            };
            let line = format!("{} {}", instrument.keyword(), items.join(" "));
            let charted = charting::record_line(
                &mut chart,
                &ctx.config,
                session,
                &line,
                &crate::clock::now_local(),
            )?;
            writeln!(out, "{}", super::join_ids(&charted.ids))?;
            super::say_safety(&charted);
            Ok(())
        }
        MeasureCommand::List { patient, json } => {
            let mut chart = ctx.open()?;
            chart.patient(patient)?;
            let rows = course::patient_measures(&chart, patient)?;
            super::audit::record_access(&mut chart, Access::ViewPatient(patient));
            if json {
                let v: Vec<_> = rows
                    .iter()
                    .map(|(id, at, m)| {
                        serde_json::json!({
                            "entry": id, "at": at, "instrument": m.instrument,
                            "items": m.items, "total": m.total, "band": m.band,
                        })
                    })
                    .collect();
                writeln!(out, "{}", to_json(&v))?;
            } else {
                for (id, at, m) in rows {
                    writeln!(
                        out,
                        "{id:>5}  {}  {} {} ({})",
                        at.format("%Y-%m-%d %H:%M"),
                        m.instrument,
                        m.total,
                        m.band
                    )?;
                }
            }
            Ok(())
        }
    }
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

pub fn note_command(ctx: &Ctx, cmd: NoteCommand, out: &mut impl Write) -> Outcome {
    let now = crate::clock::now();
    match cmd {
        NoteCommand::Draft { session, json } => {
            let mut chart = ctx.open()?;
            let data = course::open_note(&mut chart, &ctx.config, session, now)?;
            if json {
                writeln!(out, "{}", to_json(&note_json(&data.note)))?;
            } else {
                print_note(&data.note, out)?;
            }
        }
        NoteCommand::Show { id, json } => {
            let mut chart = ctx.open()?;
            let note = chart.note(id)?;
            super::audit::record_access(&mut chart, Access::ViewNote(id));
            if json {
                writeln!(out, "{}", to_json(&note_json(&note)))?;
            } else {
                print_note(&note, out)?;
            }
        }
        NoteCommand::Save { id, file } => {
            let text = read_note_text(&file, id)?;
            let mut chart = ctx.open()?;
            course::save_draft(&mut chart, id, &text, now)?;
            writeln!(out, "{id}")?;
        }
        NoteCommand::Edit { id } => {
            let chart = ctx.open()?;
            chart.note(id)?;
            return super::open_tui(
                ctx,
                ctx.paths.chart.clone(),
                Some(chart),
                super::Start::Note(id),
            );
        }
        NoteCommand::Sign { id, reason } => {
            let mut chart = ctx.open()?;
            course::sign_note(&mut chart, &ctx.config, id, None, reason.as_deref(), now)?;
            let note = chart.note(id)?;
            if let Some(s) = &note.signature {
                writeln!(out, "signed note {id} · sha256 {}", s.sha256)?;
            }
        }
        NoteCommand::Addend { id, text } => {
            let mut chart = ctx.open()?;
            let a = course::add_addendum(&mut chart, id, &text, now)?;
            writeln!(out, "{}", a.id)?;
        }
    }
    Ok(())
}

pub fn integrations(ctx: &Ctx, json: bool, out: &mut impl Write) -> Outcome {
    let chart = ctx.open()?;
    let sessions = chart.sessions(None)?;
    let now = crate::clock::now();
    let doses = crate::app::views::first_doses(&chart, &ctx.config, &sessions)?;
    let dues = integration::pending(&sessions, &doses, &ctx.config.integration, now);
    if json {
        let v: Vec<_> = dues
            .iter()
            .map(|d| {
                let state = match d.status {
                    IntegrationStatus::Overdue { .. } => "overdue",
                    IntegrationStatus::Due { .. } => "due",
                    IntegrationStatus::Upcoming { .. } => "upcoming",
                    IntegrationStatus::Done { .. } => "done",
                };
                serde_json::json!({"dosing_session": d.dosing, "patient": d.patient, "from": d.window.0, "until": d.window.1, "status": state})
            })
            .collect();
        writeln!(out, "{}", to_json(&v))?;
        return Ok(());
    }
    for d in dues {
        let name = chart.patient(d.patient).map(|p| p.name).unwrap_or_default();
        writeln!(out, "dosing session {:<4} {name}: {}", d.dosing, d.status)?;
    }
    Ok(())
}

/// Records that an alert or caution on an entry was seen and weighed: the note says what was
/// decided, after its own time when it starts with one (`@10:45 rechecked`).
pub fn acknowledge(ctx: &Ctx, entry: i64, note: &str, out: &mut impl Write) -> Outcome {
    let now = crate::clock::now_local();
    // Nothing is shown in place of a note left without words: the use case refuses it.
    let mut chart = ctx.open()?;
    let ack = charting::acknowledge(
        &mut chart,
        &ctx.config,
        entry,
        None,
        note,
        charting::Unworded::Refused,
        &now,
    )?;
    writeln!(out, "{}", ack.id)?;
    Ok(())
}

/// The text for `note save`, read with the note's size limit (never whole beyond it).
/// A note's new text from a file or stdin, read no further than a note's limit. Refused,
/// with the draft left as it was, when it cannot be read, is too long, is not UTF-8 or holds
/// no text (a mistyped file name or an empty pipe must never blank a draft).
fn read_note_text(file: &str, id: i64) -> Result<String, Failure> {
    use super::bounded::{ReadError, read_text};
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
