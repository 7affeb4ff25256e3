//! Synthetic charts at a clinic's scale: many patients, each with a whole KAP course, written
//! through the same parsing, planning and storing path as typed lines, for benchmarks and for
//! `kapchart demo --patients N`. No real person's data: names, dates and readings come from a
//! small deterministic generator seeded by the caller.
//!
//! Each patient has an intake, a preparation session, six dosing sessions of about forty
//! entries (vitals on the protocol's 15/30-minute rounds with the T+40 BP, MOAA/S, the dose,
//! observations with #tags and quotes, the discharge items), an integration session 2-3 days
//! after each dosing session with PHQ-9 and GAD-7, and a signed integration note drafted from
//! the record. As in a clinic, some sessions stand out: in a generated chart about 7% of dosing
//! sessions start with a pre-dose BP caution, about 11% reach the BP alert level, 4-5% have an
//! SpO2 dip or deep sedation, one in six has a late entry, and a few have an amendment or a
//! strike; alerts are mostly acknowledged, and notes with open alerts are signed with a reason.
//! Esketamine courses (about one patient in seven) have their Spravato REMS forms recorded as
//! submitted within the deadline, except those of the last week, which are still due.
//!
//! Courses start at random over the ten years before `now` and the sessions are written in
//! the order they happened, across patients, as a clinic's chart fills up; what would end
//! after `now` is left out, so the newest courses are in progress. Every time carries `now`'s
//! UTC offset (daylight saving time is not modelled).
//!
//! Each session's entries go to the chart in one [`Chart::append`] transaction (two or three
//! when an acknowledgement or a correction must name an entry written before it); patients,
//! details, courses, sessions and the note's drafts and signature are one transaction each.
//! That is still about fifty commits per patient, so while it runs the chart is set to
//! `synchronous = NORMAL` (in WAL mode: commits are not fsynced one by one; a crash may lose
//! the newest transactions but never leaves the chart inconsistent), then back to `FULL`
//! with one checkpoint at the end.

use crate::app::charting::ChartingError;
use crate::app::course;
use crate::app::rems::{self, RemsError};
use crate::config::Config;
use crate::domain::chart::SessionChart;
use crate::domain::course::{DEFAULT_PLANNED_DOSING, PatientDetails};
use crate::domain::entry::{Acknowledgement, AldreteScore, RideHome, SessionEnd};
use crate::domain::grammar::parse_line;
use crate::domain::{Correction, Entry, EntryId, Flag, PatientId, Payload, SessionId, SessionKind};
use crate::store::{Chart, NewEntry, NewPatient, NewSession};
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Weekday};

/// What [`generate`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleReport {
    pub patients: usize,
    pub sessions: usize,
    pub entries: usize,
}

/// Sessions in a finished course: intake, preparation, and each dosing session with its
/// integration session.
pub const SESSIONS_PER_COURSE: usize = 2 + 2 * DOSING_SESSIONS;

/// Dosing sessions per course.
pub const DOSING_SESSIONS: usize = DEFAULT_PLANNED_DOSING as usize;

/// About how many entries one finished course has; for progress estimates.
pub const ENTRIES_PER_COURSE: usize = 285;

/// Changes whenever the same seed would write a different chart (for caches of generated
/// charts, such as the benchmarks').
pub const VERSION: u32 = 2;

/// How far back the clinic's history reaches.
const HISTORY_DAYS: i64 = 3652;

/// The latest a course may start, in days before `now` (most courses finish in 4-6 weeks, so
/// the newest ones are still running).
const NEWEST_COURSE_DAYS: i64 = 14;

/// Fills `chart` with `patients` synthetic patients, each with intake, preparation, 6 dosing
/// sessions of about 40 entries (vitals every 15/30 min, MOAA/S, dose, observations with #tags
/// and quotes, discharge entries), an integration session per dosing session with a signed
/// integration note, PHQ-9/GAD-7 measures, deterministic from `seed`, with realistic dates
/// spread over ten years before `now` (a clinic's history). `progress(done_entries,
/// total_estimate)` is called as it goes.
pub fn generate(
    chart: &mut Chart,
    config: &Config,
    patients: usize,
    seed: u64,
    now: DateTime<FixedOffset>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ScaleReport, ChartingError> {
    // Bulk writing: commits are not fsynced one by one (a crash may lose the newest
    // transactions, never the chart's consistency); FULL again and one checkpoint at the end.
    let pragma = |chart: &Chart, value: &str| {
        chart
            .raw_connection()
            .pragma_update(None, "synchronous", value)
            .map_err(|e| ChartingError::Invalid(format!("cannot set synchronous={value}: {e}")))
    };
    pragma(chart, "NORMAL")?;
    let filled = fill(chart, config, patients, seed, now, progress);
    let restored = pragma(chart, "FULL").and_then(|()| {
        chart
            .raw_connection()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(|e| ChartingError::Invalid(format!("cannot checkpoint the chart: {e}")))
    });
    let report = filled?;
    restored?;
    Ok(report)
}

fn fill(
    chart: &mut Chart,
    config: &Config,
    patients: usize,
    seed: u64,
    now: DateTime<FixedOffset>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ScaleReport, ChartingError> {
    let profiles: Vec<Profile> = (0..patients).map(|i| Profile::new(seed, i, now)).collect();
    // Everything that happens, in the order it happened (ties: patient, then course order).
    let mut events: Vec<(DateTime<FixedOffset>, usize, usize, Event)> = Vec::new();
    for (i, p) in profiles.iter().enumerate() {
        for (order, (at, event)) in p
            .events(now, config.rems.deadline_days)
            .into_iter()
            .enumerate()
        {
            events.push((at, i, order, event));
        }
    }
    events.sort_by_key(|(at, i, order, _)| (*at, *i, *order));

    let mut state: Vec<PatientState> = (0..patients).map(|_| PatientState::default()).collect();
    let mut report = ScaleReport {
        patients: 0,
        sessions: 0,
        entries: 0,
    };
    let mut estimate = patients * ENTRIES_PER_COURSE;
    progress(0, estimate);
    for (at, i, _, event) in events {
        let p = &profiles[i];
        let st = &mut state[i];
        match event {
            Event::Admit => {
                st.patient = Some(admit(chart, p, at)?);
                report.patients += 1;
            }
            Event::Session(slot) => {
                let patient = st.patient.ok_or_else(|| missing("patient", i))?;
                let dosing = match slot {
                    Slot::Integration(k) => {
                        Some(st.dosing[k].ok_or_else(|| missing("dosing session", k))?)
                    }
                    _ => None,
                };
                let mut rng = Rng::for_session(seed, i, slot.index());
                let timeline = match slot {
                    Slot::Intake => intake(p, &mut rng, at),
                    Slot::Preparation => preparation(p, &mut rng, at),
                    Slot::Dosing(k) => dosing_session(p, &mut rng, at, k),
                    Slot::Integration(k) => integration_session(p, &mut rng, at, k),
                };
                let session = chart.start_session(
                    &NewSession {
                        patient_id: patient,
                        kind: slot.kind(),
                        started: at,
                        intention: matches!(slot, Slot::Dosing(_))
                            .then(|| p.theme.intention.into()),
                        dosing_session_id: dosing,
                    },
                    at,
                )?;
                if let Slot::Dosing(k) = slot {
                    st.dosing[k] = Some(session);
                }
                report.sessions += 1;
                report.entries += write_session(chart, config, session, slot.kind(), p, timeline)?;
                estimate = estimate.max(report.entries);
                progress(report.entries, estimate);
            }
            Event::Note { dosing: k, signed } => {
                let dosing = st.dosing[k].ok_or_else(|| missing("dosing session", k))?;
                let mut rng = Rng::for_session(seed, i, 100 + k);
                write_note(chart, config, p, &mut rng, dosing, at, signed, now)?;
            }
            Event::RemsSubmitted { dosing: k, on } => {
                let dosing = st.dosing[k].ok_or_else(|| missing("dosing session", k))?;
                if submit_rems_form(chart, config, dosing, on, at)? {
                    report.entries += 1;
                }
            }
        }
    }
    progress(report.entries, report.entries);
    Ok(report)
}

/// Records the session's REMS form as submitted on `on`, as `kapchart rems submitted` does;
/// false when there is no form to submit (an inpatient clinic, or the dose was struck).
fn submit_rems_form(
    chart: &mut Chart,
    config: &Config,
    dosing: SessionId,
    on: NaiveDate,
    at: DateTime<FixedOffset>,
) -> Result<bool, ChartingError> {
    if !config.rems.outpatient {
        return Ok(false);
    }
    let reference = format!("REMS-{dosing:06}");
    match rems::record_submission(
        chart,
        config,
        dosing,
        on,
        Some(&reference),
        None,
        at.date_naive(),
        at,
    ) {
        Ok(_) => Ok(true),
        Err(RemsError::NotRems { .. }) => Ok(false),
        Err(e) => Err(ChartingError::Invalid(format!(
            "scale data: REMS form of session {dosing}: {e}"
        ))),
    }
}

fn missing(what: &str, n: usize) -> ChartingError {
    ChartingError::Invalid(format!("scale data: {what} {n} was not written"))
}

// ---------------------------------------------------------------------------------------
// A small deterministic generator (SplitMix64): the same seed gives the same chart on every
// platform and with every Rust version.

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// Independent streams per patient and per session, so one session's content does not
    /// depend on the order anything else was generated in.
    fn for_session(seed: u64, patient: usize, session: usize) -> Rng {
        let mut base = Rng::new(seed ^ 0x5CA1_E000_0000_0000);
        let a = base.next_u64();
        Rng::new(
            a ^ (patient as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
                ^ (session as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03),
        )
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo + 1).max(1) as u64;
        lo + ((u128::from(self.next_u64()) * u128::from(span)) >> 64) as i64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as i64 - 1) as usize]
    }

    /// Roughly normal (a sum of six uniforms), mean 0, standard deviation 1.
    fn normal(&mut self) -> f64 {
        ((0..6).map(|_| self.unit()).sum::<f64>() - 3.0) * std::f64::consts::SQRT_2
    }

    /// Between `lo` and `hi` distinct items, in random order.
    fn sample<'a, T>(&mut self, items: &'a [T], lo: i64, hi: i64) -> Vec<&'a T> {
        let count = self.range(lo, hi) as usize;
        let mut idx: Vec<usize> = (0..items.len()).collect();
        for i in 0..count.min(idx.len()) {
            let j = self.range(i as i64, idx.len() as i64 - 1) as usize;
            idx.swap(i, j);
        }
        idx.truncate(count);
        idx.into_iter().map(|i| &items[i]).collect()
    }
}

// ---------------------------------------------------------------------------------------
// Patients

const FIRST_NAMES: &[&str] = &[
    "Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn",
    "Robin", "Dana", "Noa", "Priya", "Mateo", "Aisha", "Ines", "Tomasz", "Yuki", "Kwame", "Leila",
    "Oskar", "Marisol", "Hannah", "David", "Grace", "Farid", "Chloe", "Emeka", "Sofia", "Liam",
    "Maya", "Ethan", "Zara", "Lucas", "Amara", "Nina", "Omar", "Elena", "Jonas", "Ruth", "Victor",
    "Mei", "Andre", "Clara", "Hugo", "Ivy", "Rafael", "Selin", "Tariq",
];

const LAST_NAMES: &[&str] = &[
    "Rivera",
    "Okafor",
    "Lee",
    "Nguyen",
    "Schmidt",
    "Haddad",
    "Kowalski",
    "Tanaka",
    "Mensah",
    "Garcia",
    "Johansson",
    "Patel",
    "Cohen",
    "Moreau",
    "Silva",
    "Brennan",
    "Adeyemi",
    "Rossi",
    "Novak",
    "Kim",
    "Fischer",
    "Ibrahim",
    "Larsen",
    "Costa",
    "Murphy",
    "Chen",
    "Dubois",
    "Ali",
    "Bauer",
    "Santos",
    "Walsh",
    "Yilmaz",
    "Okonkwo",
    "Martin",
    "Herrera",
    "Sato",
    "Andersen",
    "Khan",
    "Reyes",
    "Fontaine",
];

const MEDICATIONS: &[&str] = &[
    "sertraline 100 mg daily",
    "escitalopram 10 mg daily",
    "fluoxetine 40 mg daily",
    "venlafaxine 150 mg daily",
    "bupropion 150 mg daily",
    "mirtazapine 15 mg at night",
    "lamotrigine 100 mg daily",
    "lorazepam 0.5 mg as needed",
    "trazodone 50 mg at night",
    "propranolol 10 mg as needed",
    "levothyroxine 50 mcg daily",
    "methylphenidate 10 mg mornings",
    "amlodipine 5 mg daily",
];

const RELATIONS: &[&str] = &[
    "partner", "sister", "brother", "friend", "mother", "father", "spouse",
];

/// A course's theme: the intention, goals, and what the patient says.
struct Theme {
    word: &'static str,
    intention: &'static str,
    goals: [&'static str; 2],
    quotes: &'static [&'static str],
}

const THEMES: &[Theme] = &[
    Theme {
        word: "grief",
        intention: "To meet my grief with less fear",
        goals: ["fewer days in bed", "visit her grave"],
        quotes: &[
            "I can see my mother's kitchen",
            "she is not gone from me",
            "it's like warm water over my chest",
            "I'm allowed to miss her",
        ],
    },
    Theme {
        word: "numbness",
        intention: "Understand what keeps me numb",
        goals: ["feel joy with my kids", "return to painting"],
        quotes: &[
            "there is colour coming back",
            "I'm floating above the house",
            "I can feel my hands again",
            "something is thawing",
        ],
    },
    Theme {
        word: "trauma",
        intention: "Feel safe in my body again",
        goals: ["sleep through the night", "drive on the motorway"],
        quotes: &[
            "I'm not afraid of it anymore",
            "the room is very far away",
            "my body knows it's over",
            "I can stay here",
        ],
    },
    Theme {
        word: "shame",
        intention: "Be kinder to myself",
        goals: ["stop the nightly self-criticism", "call my brother"],
        quotes: &[
            "I was only a child",
            "there is so much space in here",
            "I don't have to carry it",
            "it isn't mine to hold",
        ],
    },
    Theme {
        word: "burnout",
        intention: "Find out what I want my work to be",
        goals: ["take a full weekend off", "return to running"],
        quotes: &[
            "I've been running for years",
            "everything is slow and quiet",
            "I can put it down",
            "the noise stopped",
        ],
    },
    Theme {
        word: "loneliness",
        intention: "Open up to the people around me",
        goals: ["see a friend every week", "join the choir again"],
        quotes: &[
            "I'm connected to everything",
            "there are people holding me",
            "I'm not the only one",
            "it feels like coming home",
        ],
    },
];

/// How the patient is dosed through the course.
#[derive(Debug, Clone, Copy)]
enum Regimen {
    Im,
    Iv,
    Intranasal,
    Sublingual,
}

impl Regimen {
    fn dose_line(self, k: usize) -> String {
        match self {
            Regimen::Im => {
                let mgkg = [0.5, 0.6, 0.75, 0.75, 0.85, 1.0][k.min(5)];
                format!("dose ketamine {mgkg}mg/kg IM")
            }
            Regimen::Iv => {
                let mgkg = [0.5, 0.5, 0.6, 0.6, 0.75, 0.75][k.min(5)];
                format!("dose ketamine {mgkg}mg/kg IV over 40m")
            }
            Regimen::Intranasal => {
                let mg = [56, 56, 84, 84, 84, 84][k.min(5)];
                format!("dose esketamine {mg}mg IN")
            }
            Regimen::Sublingual => {
                let mg = [200, 200, 300, 300, 400, 400][k.min(5)];
                format!("dose ketamine {mg}mg SL")
            }
        }
    }
}

/// Who a patient is and how their course goes; all drawn up front from the seed.
struct Profile {
    name: String,
    dob: NaiveDate,
    mrn: String,
    weight_kg: f64,
    emergency: String,
    ride: String,
    medications: Vec<String>,
    theme: &'static Theme,
    regimen: Regimen,
    /// Resting systolic, diastolic, pulse.
    bp: (f64, f64, f64),
    spo2: i64,
    /// How much the systolic BP rises at its peak (T+40), in mmHg.
    bp_rise: f64,
    /// Mean PHQ-9 and GAD-7 item scores at intake (0-3).
    phq: f64,
    gad: f64,
    /// The share of symptoms gone by the end of the course.
    response: f64,
    /// PHQ-9 item 9 at intake (0-2).
    item9: u8,
    /// Mean PCL-5 item score (0-4), for patients screened for PTSD.
    pcl: Option<f64>,
    /// When each session starts: intake, preparation, then (dosing, integration) pairs.
    starts: Vec<DateTime<FixedOffset>>,
    /// For an esketamine course: how far into the REMS deadline each dosing session's form is
    /// submitted (0 the day of the treatment, towards 1 the last day).
    rems_delay: [f64; DOSING_SESSIONS],
}

/// What happens at a moment of the clinic's history.
#[derive(Debug, Clone, Copy)]
enum Event {
    /// The patient is added, with details and a course.
    Admit,
    Session(Slot),
    /// The integration note of dosing session `dosing`: drafted, and signed when `signed`.
    Note {
        dosing: usize,
        signed: bool,
    },
    /// The Spravato REMS form of esketamine dosing session `dosing`, recorded as submitted on
    /// `on` (`kapchart rems submitted`).
    RemsSubmitted {
        dosing: usize,
        on: NaiveDate,
    },
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Intake,
    Preparation,
    Dosing(usize),
    Integration(usize),
}

impl Slot {
    fn kind(self) -> SessionKind {
        match self {
            Slot::Intake => SessionKind::Intake,
            Slot::Preparation => SessionKind::Preparation,
            Slot::Dosing(_) => SessionKind::Dosing,
            Slot::Integration(_) => SessionKind::Integration,
        }
    }

    /// The session's place in the course (0-13).
    fn index(self) -> usize {
        match self {
            Slot::Intake => 0,
            Slot::Preparation => 1,
            Slot::Dosing(k) => 2 + 2 * k,
            Slot::Integration(k) => 3 + 2 * k,
        }
    }

    fn at(index: usize) -> Slot {
        match index {
            0 => Slot::Intake,
            1 => Slot::Preparation,
            i if i % 2 == 0 => Slot::Dosing((i - 2) / 2),
            i => Slot::Integration((i - 3) / 2),
        }
    }
}

#[derive(Default)]
struct PatientState {
    patient: Option<PatientId>,
    dosing: [Option<SessionId>; DOSING_SESSIONS],
}

/// The longest a session of each kind may run, in minutes (see the timelines).
fn longest(slot: Slot) -> i64 {
    match slot {
        Slot::Intake => 95,
        Slot::Preparation => 70,
        Slot::Dosing(_) => 170,
        Slot::Integration(_) => 80,
    }
}

impl Profile {
    fn new(seed: u64, index: usize, now: DateTime<FixedOffset>) -> Profile {
        let mut rng = Rng::for_session(seed, index, 1000);
        let first = *rng.pick(FIRST_NAMES);
        let last = *rng.pick(LAST_NAMES);
        let course_start =
            (now - Duration::days(rng.range(NEWEST_COURSE_DAYS, HISTORY_DAYS))).date_naive();
        let age = rng.range(21, 72) as i32;
        let dob = NaiveDate::from_ymd_opt(
            course_start.year() - age,
            rng.range(1, 12) as u32,
            rng.range(1, 28) as u32,
        )
        .unwrap_or(course_start);
        let relation = *rng.pick(RELATIONS);
        let contact = *rng.pick(FIRST_NAMES);
        let phone = rng.range(100, 999);
        let medications = rng
            .sample(MEDICATIONS, 0, 3)
            .into_iter()
            .map(|m| m.to_string())
            .collect();
        let theme = rng.pick(THEMES);
        let regimen = match rng.range(0, 19) {
            0..=9 => Regimen::Im,
            10..=14 => Regimen::Iv,
            15..=17 => Regimen::Intranasal,
            _ => Regimen::Sublingual,
        };
        let systolic = (122.0 + 9.0 * rng.normal()).clamp(98.0, 152.0);
        let bp = (
            systolic,
            (systolic * 0.64 + 4.0 * rng.normal()).clamp(60.0, 98.0),
            (72.0 + 8.0 * rng.normal()).clamp(54.0, 100.0),
        );
        let pcl = (theme.word == "trauma" || rng.chance(0.15)).then(|| 1.6 + rng.unit() * 1.6);
        let mut p = Profile {
            name: format!("{first} {last}"),
            dob,
            mrn: format!("SYN-{:06}", index + 1),
            weight_kg: (55.0 + rng.unit() * 50.0).round(),
            emergency: format!("{contact} {last} ({relation}) 555-0{phone}"),
            ride: format!("{contact} ({relation})"),
            medications,
            theme,
            regimen,
            bp,
            spo2: rng.range(96, 99),
            bp_rise: 4.0 + rng.unit() * 16.0,
            phq: 1.1 + rng.unit() * 1.5,
            gad: 0.9 + rng.unit() * 1.6,
            response: 0.15 + rng.unit() * 0.6,
            item9: match rng.range(0, 99) {
                0..=71 => 0,
                72..=93 => 1,
                _ => 2,
            },
            pcl,
            starts: Vec::new(),
            rems_delay: [0.0; DOSING_SESSIONS],
        };
        p.starts = schedule(&mut rng, now.offset(), course_start);
        for d in &mut p.rems_delay {
            *d = rng.unit();
        }
        p
    }

    /// The patient's events up to `now`: admission, the sessions that ended before `now`,
    /// the integration notes, and for an esketamine course the REMS form of each dosing
    /// session older than a week, submitted on a day within the deadline (`deadline_days`) at
    /// 17:00, after the session has ended.
    fn events(
        &self,
        now: DateTime<FixedOffset>,
        deadline_days: u32,
    ) -> Vec<(DateTime<FixedOffset>, Event)> {
        let mut out = vec![(self.starts[0] - Duration::minutes(20), Event::Admit)];
        for (i, start) in self.starts.iter().enumerate() {
            let slot = Slot::at(i);
            if *start + Duration::minutes(longest(slot)) >= now {
                break;
            }
            out.push((*start, Event::Session(slot)));
            if let (Slot::Dosing(k), Regimen::Intranasal) = (slot, self.regimen)
                && *start + Duration::days(7) < now
            {
                let delay = (self.rems_delay[k] * f64::from(deadline_days)).floor() as i64;
                let last = i64::from(deadline_days.saturating_sub(1)).min(6);
                let on = start.date_naive() + Duration::days(delay.clamp(0, last));
                let at = at_time(now.offset(), on, 17 * 60);
                if at < now {
                    out.push((at, Event::RemsSubmitted { dosing: k, on }));
                }
            }
            if let Slot::Integration(k) = slot {
                // Written up an hour or two after the integration session.
                let drafted = *start + Duration::minutes(90 + (k as i64 * 17) % 60);
                let signed = drafted + Duration::minutes(20);
                if drafted < now {
                    out.push((
                        drafted,
                        Event::Note {
                            dosing: k,
                            signed: signed < now,
                        },
                    ));
                }
            }
        }
        out
    }

    /// PHQ-9 answers after `done` of the six dosing sessions (0 at intake).
    fn phq9(&self, rng: &mut Rng, done: usize) -> Vec<u8> {
        let mean = self.improved(self.phq, done);
        let mut items: Vec<u8> = (0..8).map(|_| item(rng, mean, 3)).collect();
        items.push(self.item9_after(rng, done));
        items
    }

    fn gad7(&self, rng: &mut Rng, done: usize) -> Vec<u8> {
        let mean = self.improved(self.gad, done);
        (0..7).map(|_| item(rng, mean, 3)).collect()
    }

    fn pcl5(&self, rng: &mut Rng, done: usize) -> Option<Vec<u8>> {
        let mean = self.improved(self.pcl?, done);
        Some((0..20).map(|_| item(rng, mean, 4)).collect())
    }

    fn improved(&self, base: f64, done: usize) -> f64 {
        base * (1.0 - self.response * done as f64 / DOSING_SESSIONS as f64)
    }

    fn item9_after(&self, rng: &mut Rng, done: usize) -> u8 {
        match (self.item9, done) {
            (0, _) => 0,
            (n, 0) => n,
            (n, d) if d < 3 => n.saturating_sub(u8::from(rng.chance(0.5))),
            (n, _) => n.saturating_sub(1 + u8::from(rng.chance(0.6))),
        }
    }
}

fn item(rng: &mut Rng, mean: f64, max: u8) -> u8 {
    (mean + 0.7 * rng.normal())
        .round()
        .clamp(0.0, f64::from(max)) as u8
}

/// The next weekday on or after `date`.
fn weekday(date: NaiveDate) -> NaiveDate {
    match date.weekday() {
        Weekday::Sat => date + Duration::days(2),
        Weekday::Sun => date + Duration::days(1),
        _ => date,
    }
}

fn at_time(offset: &FixedOffset, date: NaiveDate, minutes: i64) -> DateTime<FixedOffset> {
    let naive = date.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::minutes(minutes);
    offset
        .from_local_datetime(&naive)
        .single()
        .unwrap_or_else(|| offset.from_utc_datetime(&naive))
}

/// Session start times: intake, preparation 3-10 days later, dosing sessions 2-7 days apart on
/// weekdays in clinic hours, each integration 48-54 hours after its dosing session ends.
fn schedule(rng: &mut Rng, offset: &FixedOffset, start: NaiveDate) -> Vec<DateTime<FixedOffset>> {
    let clinic_time = |rng: &mut Rng, from_h: i64, to_h: i64| rng.range(from_h * 2, to_h * 2) * 30;
    let mut out = Vec::with_capacity(SESSIONS_PER_COURSE);
    let intake_day = weekday(start);
    out.push(at_time(offset, intake_day, clinic_time(rng, 9, 15)));
    let prep_day = weekday(intake_day + Duration::days(rng.range(3, 10)));
    out.push(at_time(offset, prep_day, clinic_time(rng, 9, 16)));
    let mut day = weekday(prep_day + Duration::days(rng.range(2, 7)));
    for _ in 0..DOSING_SESSIONS {
        let dosing = at_time(offset, day, clinic_time(rng, 8, 13));
        out.push(dosing);
        let integration = dosing
            + Duration::minutes(longest(Slot::Dosing(0)))
            + Duration::hours(48)
            + Duration::minutes(rng.range(3, 60) * 5);
        out.push(integration);
        day = weekday(integration.date_naive() + Duration::days(rng.range(1, 4)));
    }
    out
}

fn admit(
    chart: &mut Chart,
    p: &Profile,
    at: DateTime<FixedOffset>,
) -> Result<PatientId, ChartingError> {
    let patient = chart.add_patient(
        &NewPatient {
            name: p.name.clone(),
            dob: p.dob,
            mrn: Some(p.mrn.clone()),
            weight_kg: Some(p.weight_kg),
        },
        at,
    )?;
    chart.update_patient_details(
        patient,
        &PatientDetails {
            weight_kg: Some(p.weight_kg),
            emergency_contact: Some(p.emergency.clone()),
            ride_contact: Some(p.ride.clone()),
            medications: p.medications.clone(),
            sex: None,
        },
        at + Duration::minutes(2),
    )?;
    let goals: Vec<String> = p.theme.goals.iter().map(|g| g.to_string()).collect();
    chart.start_course(
        patient,
        DEFAULT_PLANNED_DOSING,
        &goals,
        at + Duration::minutes(5),
    )?;
    Ok(patient)
}

// ---------------------------------------------------------------------------------------
// Session timelines: what happened, when, and when it was typed.

/// One thing written in a session.
enum What {
    /// A quick-entry line, as typed.
    Line(String),
    /// Items from a form (discharge), charted at the moment they were entered.
    Form(Vec<Payload>),
    /// Acknowledges every alert the line `of` (a key) earned, if any.
    AckAlerts {
        of: usize,
        note: &'static str,
    },
    /// Replaces the line `of`'s (first) entry with what `line` says.
    Amend {
        of: usize,
        line: String,
        reason: &'static str,
    },
    Strike {
        of: usize,
        reason: &'static str,
    },
    End,
}

struct Step {
    key: usize,
    event: DateTime<FixedOffset>,
    recorded: DateTime<FixedOffset>,
    what: What,
}

struct Timeline {
    steps: Vec<Step>,
    /// Decides when each line is typed.
    rng: Rng,
}

impl Timeline {
    fn new(rng: &mut Rng) -> Timeline {
        Timeline {
            steps: Vec::new(),
            rng: Rng::new(rng.next_u64()),
        }
    }

    fn push(
        &mut self,
        event: DateTime<FixedOffset>,
        recorded: DateTime<FixedOffset>,
        what: What,
    ) -> usize {
        let key = self.steps.len();
        self.steps.push(Step {
            key,
            event,
            recorded,
            what,
        });
        key
    }

    /// A line typed at the bedside: mostly as it happens, sometimes a minute or two later with
    /// its time given, now and then late (over the late-entry limit).
    fn line(&mut self, event: DateTime<FixedOffset>, text: impl Into<String>) -> usize {
        let rng = &mut self.rng;
        let roll = rng.unit();
        let (event, recorded) = if roll < 0.80 {
            let t = event + Duration::seconds(rng.range(0, 59));
            (t, t)
        } else if roll < 0.995 {
            (event, event + Duration::seconds(rng.range(60, 240)))
        } else {
            (event, event + Duration::minutes(rng.range(12, 25)))
        };
        self.push(event, recorded, What::Line(text.into()))
    }

    /// A line typed as it happens (a dose is never charted late).
    fn live(&mut self, event: DateTime<FixedOffset>, text: impl Into<String>) -> usize {
        let t = event + Duration::seconds(self.rng.range(0, 59));
        self.push(t, t, What::Line(text.into()))
    }

    /// Something done `minutes` after the line `of` was typed.
    fn after(&mut self, of: usize, minutes: i64, what: What) -> usize {
        let t = self.steps[of].recorded + Duration::minutes(minutes);
        self.push(t, t, what)
    }

    fn form(&mut self, at: DateTime<FixedOffset>, payloads: Vec<Payload>) -> usize {
        self.push(at, at, What::Form(payloads))
    }

    fn end(&mut self, at: DateTime<FixedOffset>) {
        // The end is always the last thing written.
        let last = self.steps.iter().map(|s| s.recorded).max().unwrap_or(at);
        let at = at.max(last + Duration::seconds(30));
        self.push(at, at, What::End);
    }
}

fn minutes(start: DateTime<FixedOffset>, m: i64) -> DateTime<FixedOffset> {
    start + Duration::minutes(m)
}

fn measure_line(keyword: &str, items: &[u8]) -> String {
    let mut line = keyword.to_string();
    for i in items {
        line.push(' ');
        line.push_str(&i.to_string());
    }
    line
}

/// The measures of one sitting, with a risk assessment after a PHQ-9 item 9 above 0.
fn measures(
    t: &mut Timeline,
    rng: &mut Rng,
    p: &Profile,
    at: DateTime<FixedOffset>,
    done: usize,
    pcl: bool,
) {
    let phq9 = p.phq9(rng, done);
    t.line(at, measure_line("phq9", &phq9));
    t.line(minutes(at, 2), measure_line("gad7", &p.gad7(rng, done)));
    if pcl && let Some(items) = p.pcl5(rng, done) {
        t.line(minutes(at, 4), measure_line("pcl5", &items));
    }
    if phq9[8] > 0 {
        let outcome = *rng.pick(&[
            "C-SSRS screen: passive ideation, no plan or intent; safety plan reviewed",
            "C-SSRS screen: fleeting thoughts, no intent, no behaviour; crisis line given",
            "C-SSRS screen: passive wish not to wake, no plan; safety plan updated with partner",
        ]);
        t.line(minutes(at, 7), format!("risk-assessment {outcome}"));
    }
}

fn intake(p: &Profile, rng: &mut Rng, start: DateTime<FixedOffset>) -> Timeline {
    let mut t = Timeline::new(rng);
    let (s, d, hr) = p.bp;
    t.line(
        minutes(start, 2),
        format!(
            "bp {:.0}/{:.0} hr {:.0} spo2 {} temp 36.{}",
            s,
            d,
            hr,
            p.spo2,
            rng.range(4, 9)
        ),
    );
    let substance = *rng.pick(&[
        "substance no",
        "substance no alcohol 2 drinks a week",
        "substance no cannabis occasionally, stopped for the course",
        "substance no",
    ]);
    let hypertension = if p.medications.iter().any(|m| m.starts_with("amlodipine")) {
        "hypertension yes controlled on amlodipine"
    } else {
        "hypertension no"
    };
    for (m, item) in [
        (6, "psychosis no"),
        (7, "mania no"),
        (8, hypertension),
        (9, "vascular no"),
        (10, "pregnancy no"),
        (11, substance),
    ] {
        t.line(minutes(start, m), format!("screen {item}"));
    }
    measures(&mut t, rng, p, minutes(start, 18), 0, true);
    t.line(
        minutes(start, 30),
        format!(
            "obs goals: {}, {} #goals",
            p.theme.goals[0], p.theme.goals[1]
        ),
    );
    let history = *rng.pick(&[
        "obs history: two SSRIs tried without remission #history",
        "obs history: depression since adolescence, three medication trials #history",
        "obs history: psychotherapy for 4 years, partial response #history",
        "obs history: symptoms since a loss two years ago #history",
    ]);
    t.line(minutes(start, 38), history);
    t.line(
        minutes(start, 45),
        format!("obs \"{}\" #intake", rng.pick(p.theme.quotes)),
    );
    t.line(
        minutes(start, 60),
        "eligibility eligible no contraindication on screening; BP controlled",
    );
    t.end(minutes(start, rng.range(66, 90)));
    t
}

fn preparation(p: &Profile, rng: &mut Rng, start: DateTime<FixedOffset>) -> Timeline {
    let mut t = Timeline::new(rng);
    t.line(
        minutes(start, 5),
        "obs reviewed what to expect: dissociation, nausea, a rise in BP #education",
    );
    t.line(
        minutes(start, 15),
        format!("intention {}", p.theme.intention),
    );
    let setting = *rng.pick(&[
        "setting eye mask, curated playlist, blanket",
        "setting eye mask, own playlist, weighted blanket",
        "setting dim light, headphones, a stone to hold",
    ]);
    t.line(minutes(start, 25), setting);
    t.line(
        minutes(start, 32),
        "obs agreed a hand signal for 'I need to talk' #safety",
    );
    t.line(
        minutes(start, 40),
        format!(
            "consent written consent signed after discussing risks; ride home with {}",
            p.ride
        ),
    );
    t.end(minutes(start, rng.range(45, 60)));
    t
}

const ONSET: &[&str] = &[
    "obs eyes closed, breathing slow and even #somatic",
    "obs reports tingling in hands and feet #somatic",
    "obs \"the room is getting very far away\" #dissociation",
    "obs nystagmus noted, patient calm",
    "obs lying still, hands resting on chest #somatic",
    "obs brief anxiety at onset, settled with breathing cue #anxiety",
];

const PEAK: &[&str] = &[
    "obs tearful for a few minutes, then settled #distress",
    "obs hand held at patient's request #support",
    "obs asks for the music to be softer",
    "obs smiling, murmuring, no distress",
    "obs restless legs, reassured, settled #somatic",
    "obs long silence, face relaxed",
    "obs sighs deeply several times #somatic",
    "obs reports seeing colours and shapes #imagery",
];

const RETURN: &[&str] = &[
    "obs moving fingers, starting to talk #return",
    "obs mild nausea, declines antiemetic",
    "obs sitting up, oriented to time and place",
    "obs drank water, tolerated well",
    "obs reports feeling heavy and calm #return",
    "obs asks to lie a little longer",
];

fn dosing_session(p: &Profile, rng: &mut Rng, start: DateTime<FixedOffset>, k: usize) -> Timeline {
    let mut t = Timeline::new(rng);
    let (rest_s, rest_d, rest_hr) = p.bp;
    // The session's baseline, a little different every time.
    let s0 = rest_s + 6.0 * rng.normal();
    let d0 = rest_d + 4.0 * rng.normal();
    let hr0 = rest_hr + 5.0 * rng.normal();
    let baseline = t.line(
        minutes(start, rng.range(0, 2)),
        format!(
            "bp {:.0}/{:.0} hr {:.0} spo2 {} rr {} temp 36.{}",
            s0,
            d0,
            hr0,
            p.spo2,
            rng.range(12, 16),
            rng.range(5, 9)
        ),
    );
    if s0.round() > 140.0 || d0.round() > 90.0 {
        // The pre-dose caution: rest, recheck, and a decision acknowledged in the chart.
        t.after(
            baseline,
            rng.range(2, 4),
            What::AckAlerts {
                of: baseline,
                note: "rechecked seated after 5 min rest; discussed with patient, proceeding",
            },
        );
        t.line(
            minutes(start, 6),
            format!("bp {:.0}/{:.0} hr {:.0}", s0 - 8.0, d0 - 5.0, hr0 - 3.0),
        );
    }
    t.line(minutes(start, 3), "moaas 5");
    t.line(
        minutes(start, 5),
        "obs eye mask on, playlist started #setting",
    );
    if rng.chance(0.7) {
        t.line(
            minutes(start, 7),
            format!("obs intention read aloud: {} #intention", p.theme.intention),
        );
    }
    let dose_at = rng.range(9, 14);
    if rng.chance(0.15) {
        t.live(minutes(start, dose_at - 3), "dose ondansetron 4mg PO");
    }
    t.live(minutes(start, dose_at), p.regimen.dose_line(k));
    if matches!(p.regimen, Regimen::Im) && k >= 2 && rng.chance(0.2) {
        t.live(minutes(start, dose_at + 22), "dose ketamine 0.25mg/kg IM");
    }

    // Protocol rounds: (minutes after the dose, share of the peak BP rise, MOAA/S).
    let esketamine = matches!(p.regimen, Regimen::Intranasal);
    let rise = p.bp_rise * (1.0 + 0.1 * k as f64) * if esketamine { 1.2 } else { 1.0 };
    let deep = rng.chance(0.05);
    let desat = rng.chance(0.03);
    let missed = if rng.chance(0.03) {
        Some(rng.range(3, 6) as usize)
    } else {
        None
    };
    let amend = if rng.chance(0.05) {
        Some(rng.range(0, 6) as usize)
    } else {
        None
    };
    let rounds: [(i64, f64, u8); 7] = [
        (
            15,
            0.6,
            if deep {
                2
            } else {
                3 + u8::from(rng.chance(0.5))
            },
        ),
        (30, 0.9, 3 + u8::from(rng.chance(0.4))),
        (40, 1.0, 3 + u8::from(rng.chance(0.6))),
        (45, 0.9, 4),
        (60, 0.6, 4 + u8::from(rng.chance(0.5))),
        (90, 0.3, 5),
        (120, 0.1, 5),
    ];
    let mut last_bp = (s0, d0);
    for (n, (after, share, moaas)) in rounds.into_iter().enumerate() {
        if missed == Some(n) {
            continue;
        }
        let jitter = if after == 40 {
            rng.range(0, 1)
        } else {
            rng.range(-2, 2)
        };
        let at = minutes(start, dose_at + after + jitter);
        let s = s0 + rise * share + 3.0 * rng.normal();
        let d = d0 + rise * 0.55 * share + 2.0 * rng.normal();
        let hr = hr0 + 10.0 * share + 3.0 * rng.normal();
        let spo2 = if desat && after == 30 {
            rng.range(89, 91)
        } else {
            (p.spo2 - rng.range(0, 2)).max(94)
        };
        last_bp = (s, d);
        let vitals = format!(
            "bp {:.0}/{:.0} hr {:.0} spo2 {} rr {}",
            s,
            d,
            hr,
            spo2,
            rng.range(11, 16)
        );
        let line = t.line(at, vitals);
        if amend == Some(n) {
            t.after(
                line,
                rng.range(1, 3),
                What::Amend {
                    of: line,
                    line: format!(
                        "bp {:.0}/{:.0} hr {:.0} spo2 {} rr 14",
                        s,
                        d,
                        hr - 10.0,
                        spo2
                    ),
                    reason: "typo: pulse re-read from the monitor",
                },
            );
        } else if rng.chance(0.75) {
            t.after(
                line,
                rng.range(2, 5),
                What::AckAlerts {
                    of: line,
                    note: "rechecked, clinician at bedside; continued monitoring",
                },
            );
        }
        if desat && after == 30 {
            t.line(
                minutes(start, dose_at + after + 2),
                "obs chin lift, SpO2 back to 96% within a minute #airway",
            );
        }
        let sedation = t.line(
            minutes(start, dose_at + after + jitter + 1),
            format!("moaas {moaas}"),
        );
        if moaas <= 2 {
            t.after(
                sedation,
                rng.range(2, 4),
                What::AckAlerts {
                    of: sedation,
                    note: "airway patent, breathing unlaboured; observed continuously",
                },
            );
        }
    }

    // Observations through the session, with the patient's own words at the peak.
    let mut obs: Vec<(i64, String)> = Vec::new();
    for text in rng.sample(ONSET, 2, 3) {
        obs.push((rng.range(3, 18), text.to_string()));
    }
    for text in rng.sample(PEAK, 3, 5) {
        obs.push((rng.range(18, 60), text.to_string()));
    }
    for quote in rng.sample(p.theme.quotes, 2, 3) {
        let tags = *rng.pick(&[
            "#insight",
            "#insight #somatic",
            "#memory",
            "#awe",
            "#insight",
        ]);
        obs.push((rng.range(20, 70), format!("obs \"{quote}\" {tags}")));
    }
    for text in rng.sample(RETURN, 3, 4) {
        obs.push((rng.range(60, 110), text.to_string()));
    }
    obs.push((
        rng.range(95, 115),
        format!(
            "obs talking about the experience: {} came up, feels lighter #integration",
            p.theme.word
        ),
    ));
    obs.sort_by_key(|(m, _)| *m);
    let mut obs_keys = Vec::new();
    for (m, text) in obs {
        obs_keys.push(t.line(minutes(start, dose_at + m), text));
    }
    if rng.chance(0.02)
        && let Some(&of) = obs_keys.get(rng.range(0, obs_keys.len() as i64 - 1) as usize)
    {
        t.after(
            of,
            rng.range(1, 6),
            What::Strike {
                of,
                reason: "entered in the wrong patient's session",
            },
        );
    }

    // Discharge: the modified Aldrete score, the ride home, ready to go, the end.
    let discharge = minutes(start, dose_at + rng.range(121, 127));
    let circulation = if (last_bp.0 - s0).abs() <= 20.0 { 2 } else { 1 };
    t.form(
        discharge,
        vec![
            Payload::Aldrete(AldreteScore {
                activity: 2,
                respiration: 2,
                circulation,
                consciousness: if rng.chance(0.05) { 1 } else { 2 },
                spo2: 2,
            }),
            Payload::RideHome(RideHome {
                who: p.ride.clone(),
            }),
        ],
    );
    t.form(
        discharge + Duration::minutes(rng.range(2, 6)),
        vec![Payload::PatientReady],
    );
    t.end(minutes(start, dose_at + rng.range(130, 140)));
    t
}

const INTEGRATION_OBS: &[&str] = &[
    "obs journaling since the session; sleeping better #integration",
    "obs plan: daily walk, write one line each evening #plan",
    "obs mood brighter, more eye contact #affect",
    "obs reviewed safety plan; no concerns #safety",
    "obs some low days after the session, expected; coping well #integration",
    "obs practised the breathing cue together #skills",
    "obs talked with partner about the session #relationships",
];

fn integration_session(
    p: &Profile,
    rng: &mut Rng,
    start: DateTime<FixedOffset>,
    k: usize,
) -> Timeline {
    let mut t = Timeline::new(rng);
    let mut m = 3;
    for text in rng.sample(INTEGRATION_OBS, 2, 3) {
        t.line(minutes(start, m), *text);
        m += rng.range(6, 12);
    }
    t.line(
        minutes(start, m),
        format!(
            "obs \"{}\" when talking about {} #insight",
            rng.pick(p.theme.quotes),
            p.theme.word
        ),
    );
    measures(
        &mut t,
        rng,
        p,
        minutes(start, 42),
        k + 1,
        k + 1 == DOSING_SESSIONS,
    );
    t.end(minutes(start, rng.range(52, 60)));
    t
}

// ---------------------------------------------------------------------------------------
// Writing a session: each line parsed and planned as `charting::record_line` does, batched
// into one durable transaction.

/// An entry of the session being written: its id once written, and the flags it earned.
struct Written {
    id: Option<EntryId>,
    flags: Vec<Flag>,
    event: DateTime<FixedOffset>,
}

struct Batch<'c> {
    chart: &'c mut Chart,
    session: SessionId,
    entries: Vec<Written>,
    pending: Vec<NewEntry>,
    count: usize,
}

impl Batch<'_> {
    fn push(&mut self, entry: NewEntry) -> usize {
        self.entries.push(Written {
            id: None,
            flags: entry.flags.clone(),
            event: entry.event_time,
        });
        self.pending.push(entry);
        self.entries.len() - 1
    }

    /// Writes what is pending in one transaction.
    fn flush(&mut self) -> Result<(), ChartingError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let ids = self.chart.append(self.session, &self.pending)?;
        let first = self.entries.len() - self.pending.len();
        for (w, id) in self.entries[first..].iter_mut().zip(ids) {
            w.id = Some(id);
        }
        self.count += self.pending.len();
        self.pending.clear();
        Ok(())
    }

    /// The id of an entry, writing what is pending first when it is not written yet.
    fn id_of(&mut self, entry: usize) -> Result<EntryId, ChartingError> {
        if self.entries[entry].id.is_none() {
            self.flush()?;
        }
        self.entries[entry]
            .id
            .ok_or_else(|| ChartingError::Invalid("scale data: entry not written".into()))
    }
}

fn write_session(
    chart: &mut Chart,
    config: &Config,
    session: SessionId,
    kind: SessionKind,
    p: &Profile,
    mut timeline: Timeline,
) -> Result<usize, ChartingError> {
    timeline.steps.sort_by_key(|s| (s.recorded, s.key));
    let _ = kind;
    // The session's chart plans every line and form, as the TUI and the CLI do; it learns the
    // doses written so far (with stand-in ids) so that T+0 and pre-dose are the same.
    let mut planner =
        SessionChart::new(chart.session(session)?, Vec::new(), config.session_rules());
    let mut doses_seen: i64 = 0;
    // The first entry each step wrote (by key).
    let mut first_entry: Vec<Option<usize>> = vec![None; timeline.steps.len()];
    let mut batch = Batch {
        chart,
        session,
        entries: Vec::new(),
        pending: Vec::new(),
        count: 0,
    };
    for step in timeline.steps {
        match step.what {
            What::Line(text) => {
                let parsed =
                    parse_line(&text, &config.parse_context(step.event, Some(p.weight_kg)))?;
                let planned = planner.plan_line(&parsed, step.recorded);
                for (n, e) in planned.into_iter().enumerate() {
                    if matches!(e.payload, Payload::Dose(_)) {
                        doses_seen += 1;
                        planner.extend(vec![Entry {
                            id: -doses_seen,
                            session_id: session,
                            payload: e.payload.clone(),
                            event_time: e.event_time,
                            recorded_time: step.recorded,
                            author: String::new(),
                            flags: Vec::new(),
                            corrects: None,
                            correction: None,
                            reason: None,
                        }]);
                    }
                    let index = batch.push(NewEntry {
                        payload: e.payload,
                        event_time: e.event_time,
                        recorded_time: step.recorded,
                        flags: e.flags,
                        corrects: None,
                    });
                    if n == 0 {
                        first_entry[step.key] = Some(index);
                    }
                }
            }
            What::Form(payloads) => {
                for e in planner.plan_payloads(payloads, step.recorded) {
                    batch.push(NewEntry {
                        payload: e.payload,
                        event_time: e.event_time,
                        recorded_time: step.recorded,
                        flags: e.flags,
                        corrects: None,
                    });
                }
            }
            What::AckAlerts { of, note } => {
                let Some(target) = first_entry[of] else {
                    continue;
                };
                let alerts: Vec<_> = batch.entries[target]
                    .flags
                    .iter()
                    .filter(|f| f.code.is_alert())
                    .map(|f| f.code)
                    .collect();
                if alerts.is_empty() {
                    continue;
                }
                let entry = batch.id_of(target)?;
                for flag in alerts {
                    batch.push(NewEntry {
                        payload: Payload::Acknowledgement(Acknowledgement {
                            entry,
                            flag,
                            note: note.into(),
                        }),
                        event_time: step.recorded,
                        recorded_time: step.recorded,
                        flags: Vec::new(),
                        corrects: None,
                    });
                }
            }
            What::Amend { of, line, reason } => {
                let Some(target) = first_entry[of] else {
                    continue;
                };
                let original = batch.entries[target].event;
                let entry = batch.id_of(target)?;
                let parsed = parse_line(&line, &config.parse_context(original, Some(p.weight_kg)))?;
                // As `charting::amend_entry` without a time: the original's event time, and
                // the flags the reading earns at that time.
                let first = parsed.entries.into_iter().take(1).collect();
                for e in planner.plan_payloads(first, original) {
                    batch.push(NewEntry {
                        payload: e.payload,
                        event_time: original,
                        recorded_time: step.recorded,
                        flags: e.flags,
                        corrects: Some((entry, Correction::Amend, reason.into())),
                    });
                }
            }
            What::Strike { of, reason } => {
                let Some(target) = first_entry[of] else {
                    continue;
                };
                let entry = batch.id_of(target)?;
                batch.push(NewEntry {
                    payload: Payload::Strike,
                    event_time: step.recorded,
                    recorded_time: step.recorded,
                    flags: Vec::new(),
                    corrects: Some((entry, Correction::Strike, reason.into())),
                });
            }
            What::End => {
                batch.push(NewEntry {
                    payload: Payload::SessionEnd(SessionEnd { reason: None }),
                    event_time: step.recorded,
                    recorded_time: step.recorded,
                    flags: Vec::new(),
                    corrects: None,
                });
            }
        }
    }
    batch.flush()?;
    Ok(batch.count)
}

// ---------------------------------------------------------------------------------------
// Integration notes

const ASSESSMENTS: &[&str] = &[
    "integrating well; insight into {} themes",
    "processing {} with more self-compassion; mood improving",
    "early insight into {}; some low days, coping well",
    "steady; {} less overwhelming, sleep better",
];

const PLANS: &[&str] = &[
    "continue course; journaling prompts given.",
    "continue course; breathing cue practised, walk daily.",
    "continue course; share the session with partner as agreed.",
    "continue course; review safety plan next session.",
];

/// Drafts the integration note from the record, edits and saves it, and signs it (with a
/// reason when alerts or missed checks call for one), as a clinician would after the
/// integration session.
#[allow(clippy::too_many_arguments)]
fn write_note(
    chart: &mut Chart,
    config: &Config,
    p: &Profile,
    rng: &mut Rng,
    dosing: SessionId,
    at: DateTime<FixedOffset>,
    signed: bool,
    now: DateTime<FixedOffset>,
) -> Result<(), ChartingError> {
    let (note, _) = chart.note_for_dosing(dosing, &config.notes.format, at)?;
    let draft = course::draft_text(chart, config, &note)?;
    let text = format!(
        "{}\n\nAssessment: {}.\nPlan: {}\n",
        draft
            .lines()
            .filter(|l| !l.starts_with("> DRAFT"))
            .collect::<Vec<_>>()
            .join("\n")
            .trim_end(),
        rng.pick(ASSESSMENTS).replace("{}", p.theme.word),
        rng.pick(PLANS),
    );
    let saved = at + Duration::minutes(rng.range(5, 15));
    chart.save_draft(note.id, &text, saved)?;
    if !signed {
        return Ok(());
    }
    let signed_at = saved + Duration::minutes(rng.range(1, 5));
    let check = course::sign_check(chart, config, dosing, signed_at)?;
    if let Some(blocked) = check.blocked {
        return Err(ChartingError::Invalid(format!(
            "scale data: note of session {dosing} blocked: {blocked}"
        )));
    }
    let reason = (!check.needs_reason.is_empty())
        .then_some("alerts resolved during the session as charted; reviewed before signing");
    chart.sign_note(note.id, reason, signed_at)?;
    let addendum_at = signed_at + Duration::hours(rng.range(16, 30));
    if rng.chance(0.05) && addendum_at < now {
        let text = *rng.pick(&[
            "Patient phoned the next morning: slept well, no nausea.",
            "Patient emailed: mild headache in the evening, resolved with paracetamol.",
            "Ride home confirmed the patient arrived safely.",
        ]);
        chart.add_addendum(note.id, text, addendum_at)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EntryStatus;

    fn now() -> DateTime<FixedOffset> {
        FixedOffset::east_opt(3600)
            .unwrap()
            .with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
            .unwrap()
    }

    fn chart(dir: &tempfile::TempDir, name: &str) -> Chart {
        Chart::create(
            &dir.path().join(name),
            "pw",
            "Dr. Scale Test",
            2000,
            now() - Duration::days(4000),
        )
        .unwrap()
    }

    fn fill(chart: &mut Chart, patients: usize, seed: u64) -> ScaleReport {
        let mut calls = 0;
        let report = generate(
            chart,
            &Config::default(),
            patients,
            seed,
            now(),
            &mut |done, total| {
                assert!(done <= total);
                calls += 1;
            },
        )
        .unwrap();
        assert!(calls > patients, "progress is reported as it goes");
        report
    }

    /// Every entry's kind, payload, times and flags, in the order written.
    fn payloads(chart: &Chart) -> Vec<String> {
        let mut stmt = chart
            .raw_connection()
            .prepare("SELECT session_id, kind, payload, event_at, recorded_at, flags, corrects FROM entries ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| {
            Ok(format!(
                "{}|{}|{}|{}|{}|{}|{:?}",
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<i64>>(6)?
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }

    #[test]
    fn the_same_seed_writes_the_same_chart() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = chart(&dir, "a.db");
        let mut b = chart(&dir, "b.db");
        let mut c = chart(&dir, "c.db");
        assert_eq!(fill(&mut a, 2, 7), fill(&mut b, 2, 7));
        let first = payloads(&a);
        assert!(!first.is_empty());
        assert_eq!(first, payloads(&b));
        fill(&mut c, 2, 8);
        assert_ne!(first, payloads(&c), "another seed, another chart");
    }

    #[test]
    fn counts_match_the_chart_every_course_is_whole_and_it_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let mut chart = chart(&dir, "c.db");
        let report = fill(&mut chart, 3, 42);
        assert_eq!(report.patients, 3);
        assert_eq!(chart.patients().unwrap().len(), 3);
        let sessions = chart.sessions(None).unwrap();
        assert_eq!(report.sessions, sessions.len());
        assert_eq!(report.entries as i64, chart.entry_count().unwrap());
        // Three patients over ten years: every course has ended before `now`.
        assert_eq!(report.sessions, 3 * SESSIONS_PER_COURSE);
        for p in chart.patients().unwrap() {
            let own: Vec<_> = sessions.iter().filter(|s| s.patient_id == p.id).collect();
            let count = |k: SessionKind| own.iter().filter(|s| s.kind == k).count();
            assert_eq!(count(SessionKind::Intake), 1);
            assert_eq!(count(SessionKind::Preparation), 1);
            assert_eq!(count(SessionKind::Dosing), DOSING_SESSIONS);
            assert_eq!(count(SessionKind::Integration), DOSING_SESSIONS);
            assert!(own.iter().all(|s| s.ended.is_some() && s.started < now()));
            assert!(
                own.iter()
                    .all(|s| s.started > now() - Duration::days(HISTORY_DAYS + 1))
            );
            let notes = chart.notes_of_patient(p.id).unwrap();
            assert_eq!(notes.len(), DOSING_SESSIONS);
            assert!(notes.iter().all(|n| n.is_signed()));
            assert!(course::safety_flag(&chart, p.id).unwrap().is_none());
        }
        // About forty entries in a dosing session, standing ones among them.
        let dosing = sessions
            .iter()
            .find(|s| s.kind == SessionKind::Dosing)
            .unwrap();
        let session =
            crate::app::charting::session_chart(&chart, &Config::default(), dosing.id).unwrap();
        let lines = session.lines();
        assert!((30..=55).contains(&lines.len()), "{} entries", lines.len());
        assert!(
            lines
                .iter()
                .filter(|l| l.status == EntryStatus::Current)
                .count()
                >= 30
        );
        let verified = chart.verify().unwrap();
        assert!(verified.is_ok(), "{verified:?}");
        let per_course = report.entries / 3;
        assert!(
            (ENTRIES_PER_COURSE * 4 / 5..=ENTRIES_PER_COURSE * 6 / 5).contains(&per_course),
            "{per_course} entries per course"
        );
    }

    /// Esketamine courses have their REMS forms submitted within the deadline once the
    /// treatment is a week old, through the same path as `kapchart rems submitted`.
    #[test]
    fn esketamine_forms_older_than_a_week_are_submitted_within_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let mut chart = chart(&dir, "c.db");
        fill(&mut chart, 20, 5);
        let config = Config::default();
        let today = now().date_naive();
        let queue = rems::queue(&chart, &config, today, now()).unwrap();
        assert!(
            queue.len() >= 6,
            "an esketamine course: {} forms",
            queue.len()
        );
        for f in &queue {
            let treated = f.form.treatment_date;
            match &f.submission {
                Some((_, s)) => {
                    assert!(treated + Duration::days(7) < today, "{}", f.session.id);
                    assert!(
                        treated <= s.on && s.on <= f.form.deadline,
                        "{}",
                        f.session.id
                    );
                }
                None => assert!(treated + Duration::days(7) >= today, "{}", f.session.id),
            }
        }
        assert!(queue.iter().any(|f| f.submission.is_some()));
        assert!(chart.verify().unwrap().is_ok());
    }

    #[test]
    fn the_generator_is_splitmix64_and_spreads_evenly() {
        // The reference SplitMix64 sequence from seed 0: the same on every platform.
        let mut rng = Rng::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        let mut counts = [0usize; 4];
        for _ in 0..4000 {
            counts[rng.range(0, 3) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (850..1150).contains(&c)),
            "{counts:?}"
        );
    }
}
