//! Synthetic charts, for `kapchart demo`, the benches and the tests; never for a clinic's
//! own chart. No real person's data. The rest of the crate (domain, store, app, export, tui)
//! never imports this module: only the command line's `demo` command does.
//!
//! The demo chart: three synthetic patients, each with a course (intake, preparation, two
//! dosing sessions with two-hour timelines, an integration session), charted through the
//! same path as typed lines, and the clinic's controlled-substance stock those doses draw
//! from ([`stock`]). [`scale`]: a clinic's chart of many patients.

pub mod scale;
mod stock;

use crate::app::Chart;
use crate::app::charting::{self, ChartingError};
use crate::app::course;
use crate::config::Config;
use crate::domain::course::{DEFAULT_PLANNED_DOSING, PatientDetails};
use crate::domain::entry::{Acknowledgement, AldreteScore, RideHome};
use crate::domain::team::Role;
use crate::domain::{EntryId, FlagCode, PatientId, Payload, SessionId, SessionKind};
use crate::store::{NewPatient, NewSession, StoreError};
use chrono::{DateTime, Duration, FixedOffset, Local, NaiveDate, TimeZone};
use std::path::Path;

/// Used when `KAPCHART_PASSPHRASE` is not set; printed so the user can reopen the chart.
pub const DEMO_PASSPHRASE: &str = "kapchart-demo";

struct DemoPatient {
    name: &'static str,
    dob: (i32, u32, u32),
    mrn: &'static str,
    weight_kg: f64,
    intention: &'static str,
    /// The dose lines of the two dosing sessions.
    doses: [&'static str; 2],
    /// A BP rise at T+40 of this size (systolic, diastolic) on the second dosing session.
    bp_rise: (u16, u16),
    baseline: (u16, u16, u16),
    emergency: &'static str,
    ride: &'static str,
    address: &'static str,
    medications: &'static [&'static str],
    intake_phq9: &'static str,
    /// A risk assessment after the intake PHQ-9 (when its item 9 was above 0), or a note.
    intake_risk: &'static str,
    followup_phq9: [&'static str; 2],
    followup_gad7: [&'static str; 2],
}

const PATIENTS: [DemoPatient; 3] = [
    DemoPatient {
        name: "Alex Rivera",
        dob: (1986, 4, 12),
        mrn: "DEMO-1001",
        weight_kg: 72.0,
        intention: "To meet my grief with less fear",
        doses: ["dose ketamine 0.75mg/kg IM", "dose ketamine 0.85mg/kg IM"],
        bp_rise: (38, 18),
        baseline: (124, 80, 72),
        emergency: "Chris Rivera (partner) 555-0101",
        ride: "Chris (partner)",
        address: "14 Alder Lane, Springfield",
        medications: &["sertraline 100 mg daily", "lorazepam 0.5 mg as needed"],
        intake_phq9: "phq9 2 2 2 2 1 2 1 1 0",
        intake_risk: "obs denies thoughts of self-harm #intake",
        followup_phq9: ["phq9 1 2 1 2 1 1 1 1 0", "phq9 1 1 1 1 0 1 1 0 0"],
        followup_gad7: ["gad7 2 1 2 1 1 1 1", "gad7 1 1 1 1 1 0 1"],
    },
    DemoPatient {
        name: "Sam Okafor",
        dob: (1979, 9, 30),
        mrn: "DEMO-1002",
        weight_kg: 81.5,
        intention: "Understand what keeps me numb",
        doses: ["dose esketamine 56mg IN", "dose esketamine 84mg IN"],
        bp_rise: (18, 10),
        baseline: (132, 84, 68),
        emergency: "Ngozi Okafor (sister) 555-0102",
        ride: "Ama (sister)",
        address: "207 Harbor Road, Apt 3, Springfield",
        medications: &["bupropion 150 mg daily", "methylphenidate 10 mg mornings"],
        intake_phq9: "phq9 3 2 2 2 2 2 2 1 1",
        intake_risk: "risk-assessment C-SSRS screen: passive ideation, no plan or intent; safety plan written",
        followup_phq9: ["phq9 2 2 2 1 1 2 1 1 0", "phq9 1 1 1 1 1 1 1 0 0"],
        followup_gad7: ["gad7 2 2 1 1 1 1 1", "gad7 1 1 1 0 1 1 0"],
    },
    DemoPatient {
        name: "Jordan Lee",
        dob: (1992, 1, 18),
        mrn: "DEMO-1003",
        weight_kg: 64.0,
        intention: "Feel safe in my body again",
        doses: [
            "dose ketamine 0.5mg/kg IV over 40m",
            "dose ketamine 0.6mg/kg IV over 40m",
        ],
        bp_rise: (14, 9),
        baseline: (116, 74, 78),
        emergency: "Robin Lee (friend) 555-0103",
        ride: "Robin (friend)",
        address: "9 Quarry Street, Shelbyville",
        medications: &["lamotrigine 100 mg daily"],
        intake_phq9: "phq9 2 2 1 2 1 1 2 1 0",
        intake_risk: "obs denies thoughts of self-harm #intake",
        followup_phq9: ["phq9 2 1 1 2 1 1 1 1 0", "phq9 1 1 1 1 1 1 0 1 0"],
        followup_gad7: ["gad7 3 2 2 2 1 2 2", "gad7 2 2 1 1 1 1 1"],
    },
];

/// The demo's team besides its admin, Dr. Demo Clinician (who charts the demo's courses):
/// every one of them signs in with the demo's passphrase, so that hand-over can be tried.
/// A real team has a passphrase per clinician.
pub const DEMO_TEAM: [(&str, Role, &str); 3] = [
    ("Dr. Priya Prescriber", Role::Prescriber, "MD"),
    ("Theo Therapist", Role::Therapist, "LMFT"),
    ("Nia Nurse", Role::Nurse, "RN"),
];

/// The demo's admin, who created it.
pub const DEMO_ADMIN: &str = "Dr. Demo Clinician";

/// Opens the demo chart at `path` signed in as `who` (empty: its admin), creating and
/// filling it first when it is not there. Returns the chart and whether it was created now.
pub fn open_or_create(
    path: &Path,
    who: &str,
    passphrase: &str,
    config: &Config,
    now: DateTime<Local>,
) -> Result<(Chart, bool), ChartingError> {
    let timeout = config.chart.busy_timeout_ms;
    let who = if who.trim().is_empty() {
        DEMO_ADMIN
    } else {
        who
    };
    if path.exists() {
        return Ok((Chart::open_as(path, who, passphrase, timeout)?, false));
    }
    let mut chart = Chart::create(path, passphrase, DEMO_ADMIN, timeout, now.fixed_offset())?;
    for (name, role, credentials) in DEMO_TEAM {
        chart.add_team_member(
            name,
            role,
            Some(credentials),
            passphrase,
            now.fixed_offset(),
        )?;
    }
    let mut safe = stock::Safe::stocked(&mut chart, passphrase, now.fixed_offset())?;
    let mut first = None;
    for (i, p) in PATIENTS.iter().enumerate() {
        let patient = fill_course(&mut chart, config, &mut safe, p, i, now.fixed_offset())?;
        first.get_or_insert(patient);
    }
    safe.count_sealed(&mut chart, config, now.fixed_offset())?;
    if let Some(patient) = first {
        session_in_progress(
            &mut chart,
            config,
            &mut safe,
            patient,
            &PATIENTS[0],
            now.fixed_offset(),
        )?;
    }
    if who != DEMO_ADMIN {
        chart.behind_the_door().sign_in(who, passphrase)?;
    }
    Ok((chart, true))
}

/// 10:00 local time `days` before `today`, as stored.
fn morning(today: NaiveDate, days: i64, hour: u32) -> DateTime<FixedOffset> {
    let date = today - Duration::days(days);
    let naive = date.and_hms_opt(hour, 0, 0).unwrap_or_default();
    Local
        .from_local_datetime(&naive)
        .earliest()
        .unwrap_or_else(|| Local.from_utc_datetime(&naive))
        .fixed_offset()
}

/// One patient's course, up to its last integration note; hands back the patient.
fn fill_course(
    chart: &mut Chart,
    config: &Config,
    safe: &mut stock::Safe,
    p: &DemoPatient,
    index: usize,
    now: DateTime<FixedOffset>,
) -> Result<PatientId, ChartingError> {
    let today = now.date_naive();
    let (y, m, d) = p.dob;
    let dob = NaiveDate::from_ymd_opt(y, m, d)
        .ok_or_else(|| ChartingError::Invalid("demo date of birth".into()))?;
    // The first course started 16 days ago; the others a few days later each.
    let offset = index as i64 * 2;
    let created = morning(today, 16 - offset, 9);
    let patient = chart.behind_the_door().add_patient(
        &NewPatient {
            name: p.name.into(),
            dob,
            mrn: Some(p.mrn.into()),
            weight_kg: Some(p.weight_kg),
        },
        created,
    )?;
    chart.update_patient_details(
        patient,
        &PatientDetails {
            weight_kg: Some(p.weight_kg),
            emergency_contact: Some(p.emergency.into()),
            ride_contact: Some(p.ride.into()),
            address: Some(p.address.into()),
            medications: p.medications.iter().map(|m| m.to_string()).collect(),
            sex: None,
        },
        created,
    )?;
    chart.behind_the_door().start_course(
        patient,
        DEFAULT_PLANNED_DOSING,
        &[
            "fewer days in bed".to_string(),
            "return to running".to_string(),
        ],
        created,
    )?;

    let intake = start(
        chart,
        patient,
        SessionKind::Intake,
        morning(today, 16 - offset, 10),
        None,
        None,
    )?;
    let intake_lines = [
        (0, "bp 126/81 hr 70 spo2 98 temp 36.7"),
        (5, "screen psychosis no"),
        (6, "screen mania no"),
        (7, "screen hypertension no"),
        (8, "screen vascular no"),
        (9, "screen pregnancy no"),
        (10, "screen substance no alcohol 2 drinks a week"),
        (15, p.intake_phq9),
        (16, "gad7 2 2 2 1 2 1 2"),
        (17, p.intake_risk),
        (25, "obs goals: fewer days in bed, return to running #goals"),
        (
            30,
            "eligibility eligible no contraindication on screening; BP controlled",
        ),
        (40, "obs \"I want to feel something again\" #intake"),
    ];
    chart_lines(
        chart,
        config,
        intake,
        created + Duration::hours(1),
        &intake_lines,
    )?;
    end(chart, config, intake, created + Duration::hours(2))?;

    let prep_start = morning(today, 14 - offset, 10);
    let prep = start(
        chart,
        patient,
        SessionKind::Preparation,
        prep_start,
        None,
        None,
    )?;
    let intention_line = format!("intention {}", p.intention);
    let prep_lines = [
        (5, intention_line.as_str()),
        (20, "setting eye mask, curated playlist, blanket"),
        (
            35,
            "consent written consent signed after discussing risks; ride home arranged",
        ),
    ];
    chart_lines(chart, config, prep, prep_start, &prep_lines)?;
    end(chart, config, prep, prep_start + Duration::minutes(50))?;

    for (n, dose) in p.doses.iter().enumerate() {
        let days_ago = if n == 0 { 12 - offset } else { 8 - offset };
        let dosing_start = morning(today, days_ago, 9 + index as u32);
        let dosing = start(
            chart,
            patient,
            SessionKind::Dosing,
            dosing_start,
            Some(p.intention),
            None,
        )?;
        let rise = if n == 1 {
            p.bp_rise
        } else {
            (p.bp_rise.0 / 2, p.bp_rise.1 / 2)
        };
        let lines = dosing_timeline(p.baseline, rise, dose, n);
        let lines: Vec<(i64, &str)> = lines.iter().map(|(t, l)| (*t, l.as_str())).collect();
        chart_lines(chart, config, dosing, dosing_start, &lines)?;
        let ride = ["partner (Chris)", "sister (Ama)", "friend (Robin)"][index % 3];
        let circulation = if n == 1 && p.bp_rise.0 > 30 { 1 } else { 2 };
        record(
            chart,
            config,
            dosing,
            dosing_start + Duration::minutes(125),
            vec![
                Payload::Aldrete(AldreteScore {
                    activity: 2,
                    respiration: 2,
                    circulation,
                    consciousness: 2,
                    spo2: 2,
                }),
                Payload::RideHome(RideHome { who: ride.into() }),
            ],
        )?;
        record(
            chart,
            config,
            dosing,
            dosing_start + Duration::minutes(132),
            vec![Payload::PatientReady],
        )?;
        acknowledge_alerts(chart, config, dosing)?;
        // The last ketamine session of the demo's courses wastes what the shared vial has
        // left, witnessed by the nurse; every other one keeps it for the next.
        if index + 1 == PATIENTS.len() && n + 1 == p.doses.len() {
            safe.waste_rest(chart, config, dosing, dosing_start + Duration::minutes(134))?;
        }
        safe.end_keeping(chart, config, dosing, dosing_start + Duration::minutes(140))?;

        let integration_start = dosing_start + Duration::hours(50);
        let integration = start(
            chart,
            patient,
            SessionKind::Integration,
            integration_start,
            None,
            Some(dosing),
        )?;
        let integration_lines = [
            (
                5,
                "obs journaling since the session; sleeping better #integration",
            ),
            (
                20,
                "obs \"I noticed my shoulders drop when I thought of her\" #somatic #insight",
            ),
            (
                40,
                "obs plan: daily walk, write one line each evening #plan",
            ),
            (45, p.followup_phq9[n]),
            (46, p.followup_gad7[n]),
        ];
        chart_lines(
            chart,
            config,
            integration,
            integration_start,
            &integration_lines,
        )?;
        end(
            chart,
            config,
            integration,
            integration_start + Duration::minutes(55),
        )?;
        // The integration note: drafted from the record, completed and signed; the first
        // patient's first note also gets an addendum.
        let noted = integration_start + Duration::minutes(60);
        let data = course::open_note(chart, config, dosing, noted)?;
        // The clinician checked the draft (its "DRAFT ..." banner goes) and wrote the parts
        // only they can write.
        let theme = if index == 1 { "numbness" } else { "grief" };
        let text: String = data
            .note
            .text()
            .lines()
            .filter(|l| !l.starts_with("> DRAFT"))
            .map(|l| match l.trim_end() {
                "Assessment:" => {
                    format!("Assessment: integrating well; insight into {theme} themes.")
                }
                "Plan:" => "Plan: continue the course; journaling prompts given.".to_string(),
                t if t.starts_with("Patient's account") => {
                    format!("{t} calmer, sleeping better, has journaled daily.")
                }
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        chart
            .behind_the_door()
            .save_draft(data.note.id, &text, noted)?;
        let signed = noted + Duration::minutes(5);
        let check = course::sign_check(chart, config, dosing, signed)?;
        let reason = (!check.needs_reason.is_empty())
            .then_some("alerts resolved during the session as charted; reviewed before signing");
        course::sign_note(chart, config, data.note.id, None, reason, signed)?;
        if index == 0 && n == 0 {
            chart.behind_the_door().add_addendum(
                data.note.id,
                "Patient phoned the next morning: slept well, no nausea.",
                signed + Duration::hours(18),
            )?;
        }
    }
    Ok(patient)
}

/// Today's dosing session, 52 minutes in: a pre-dose BP caution that was acknowledged, the
/// dose from a vial opened for it, the first checks, and the T+40 BP not yet charted, so the live screen has a clock,
/// an overdue check and a due one to show.
fn session_in_progress(
    chart: &mut Chart,
    config: &Config,
    safe: &mut stock::Safe,
    patient: PatientId,
    p: &DemoPatient,
    now: DateTime<FixedOffset>,
) -> Result<(), ChartingError> {
    let started = now - Duration::minutes(52);
    let session = start(
        chart,
        patient,
        SessionKind::Dosing,
        started,
        Some(p.intention),
        None,
    )?;
    chart_lines(
        chart,
        config,
        session,
        started,
        &[(0, "bp 146/92 hr 80 spo2 98 rr 14 temp 36.7")],
    )?;
    let caution = charting::session_chart(chart, config, session)?
        .lines()
        .last()
        .map(|l| l.entry.id)
        .unwrap_or_default();
    record(
        chart,
        config,
        session,
        started + Duration::minutes(3),
        vec![Payload::Acknowledgement(Acknowledgement {
            entry: caution,
            flag: FlagCode::BpPredose,
            note: "rechecked seated after 5 min rest; discussed with patient, proceeding".into(),
        })],
    )?;
    // A fresh vial for today's dose: the courses' vial was used up and its rest wasted.
    safe.open_next_vial(chart, started + Duration::minutes(5))?;
    let lines = [
        (2, "moaas 5"),
        (4, "obs eye mask on, playlist started #setting"),
        (6, "dose ketamine 0.75mg/kg IM"),
        (21, "bp 138/88 hr 86 spo2 97 rr 14"),
        (22, "moaas 4"),
        (
            28,
            "obs \"it's like warm water over my chest\" #somatic #insight",
        ),
        (36, "bp 142/90 hr 88 spo2 96 rr 13"),
        (37, "moaas 3"),
    ];
    chart_lines(chart, config, session, started, &lines)
}

/// The clinician acknowledges each alert of the session three minutes after it, as the live
/// screen asks (the T+40 BP peak of one demo patient crosses the alert level).
fn acknowledge_alerts(
    chart: &mut Chart,
    config: &Config,
    session: SessionId,
) -> Result<(), ChartingError> {
    let open: Vec<(EntryId, FlagCode, DateTime<FixedOffset>)> =
        charting::session_chart(chart, config, session)?
            .open_alerts()
            .iter()
            .map(|a| (a.line.entry.id, a.flag.code, a.line.entry.event_time))
            .collect();
    for (entry, flag, at) in open {
        record(
            chart,
            config,
            session,
            at + Duration::minutes(3),
            vec![Payload::Acknowledgement(Acknowledgement {
                entry,
                flag,
                note: "rechecked after 5 min rest; prescriber informed, monitoring continued"
                    .into(),
            })],
        )?;
    }
    Ok(())
}

fn record(
    chart: &mut Chart,
    config: &Config,
    session: SessionId,
    at: DateTime<FixedOffset>,
    payloads: Vec<Payload>,
) -> Result<(), ChartingError> {
    charting::record_payloads(chart, config, session, payloads, &at).map(|_| ())
}

/// A two-hour dosing timeline: baseline, dose at T+10, vitals every 15 min to T+60 then
/// every 30 min, the T+40 BP, sedation scores and observations.
fn dosing_timeline(
    (sys, dia, hr): (u16, u16, u16),
    (rise_s, rise_d): (u16, u16),
    dose: &str,
    n: usize,
) -> Vec<(i64, String)> {
    let bp_at = |fraction: f64| {
        let s = f64::from(sys) + f64::from(rise_s) * fraction;
        let d = f64::from(dia) + f64::from(rise_d) * fraction;
        (s.round() as u16, d.round() as u16)
    };
    let mut lines = vec![
        (0, format!("bp {sys}/{dia} hr {hr} spo2 98 rr 14 temp 36.8")),
        (2, "moaas 5".into()),
        (
            5,
            "obs eye mask on, playlist started, intention read aloud #setting".into(),
        ),
        (10, dose.into()),
    ];
    // (minutes after the dose, share of the peak rise, MOAA/S)
    let checks = [
        (15, 0.5, 4),
        (30, 0.8, 3),
        (40, 1.0, 3),
        (45, 0.9, 4),
        (60, 0.6, 4),
        (90, 0.25, 5),
        (120, 0.1, 5),
    ];
    for (t, share, moaas) in checks {
        let (s, d) = bp_at(share);
        let pulse = hr + (share * 12.0) as u16;
        let spo2 = if n == 1 && t == 30 { 93 } else { 97 };
        lines.push((10 + t, format!("bp {s}/{d} hr {pulse} spo2 {spo2} rr 13")));
        lines.push((11 + t, format!("moaas {moaas}")));
    }
    // Spravato: dissociation and respiratory status, resolved before discharge (the REMS
    // checks a session with esketamine gets).
    if dose.contains("esketamine") {
        lines.push((50, "cadss 1 0 2 0 1 0 resp ok".to_string()));
        lines.push((125, "cadss 0 0 0 0 0 0 resp ok".to_string()));
    }
    lines.extend([
        (
            20,
            "obs lying still, slow breathing, hands resting on chest #somatic".to_string(),
        ),
        (35, "obs \"I'm floating above the house\" #insight".into()),
        (
            52,
            "obs tearful for a few minutes, then settled #distress".into(),
        ),
        (
            75,
            "obs asks for the music to be softer; reports mild nausea".into(),
        ),
        (
            100,
            "obs sitting up, oriented, talking about the experience #integration".into(),
        ),
    ]);
    lines.sort_by_key(|(t, _)| *t);
    lines
}

fn start(
    chart: &mut Chart,
    patient: PatientId,
    kind: SessionKind,
    started: DateTime<FixedOffset>,
    intention: Option<&str>,
    dosing: Option<SessionId>,
) -> Result<SessionId, StoreError> {
    chart.behind_the_door().start_session(
        &NewSession {
            patient_id: patient,
            kind,
            started,
            intention: intention.map(str::to_string),
            dosing_session_id: dosing,
        },
        started,
    )
}

/// Charts each (minutes after `start`, line), typed one minute after it happened.
fn chart_lines(
    chart: &mut Chart,
    config: &Config,
    session: SessionId,
    start: DateTime<FixedOffset>,
    lines: &[(i64, &str)],
) -> Result<(), ChartingError> {
    for (minutes, line) in lines {
        let event = start + Duration::minutes(*minutes);
        let typed = event + Duration::seconds(40);
        let clock = event.format("@%H:%M").to_string();
        charting::record_line(chart, config, session, &format!("{clock} {line}"), &typed)?;
    }
    Ok(())
}

fn end(
    chart: &mut Chart,
    config: &Config,
    session: SessionId,
    at: DateTime<FixedOffset>,
) -> Result<(), ChartingError> {
    charting::end_session(chart, config, session, Vec::new(), None, &at).map(|_| ())
}
