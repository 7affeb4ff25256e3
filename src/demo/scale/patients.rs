//! Patients

use super::*;

pub(super) const FIRST_NAMES: &[&str] = &[
    "Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn",
    "Robin", "Dana", "Noa", "Priya", "Mateo", "Aisha", "Ines", "Tomasz", "Yuki", "Kwame", "Leila",
    "Oskar", "Marisol", "Hannah", "David", "Grace", "Farid", "Chloe", "Emeka", "Sofia", "Liam",
    "Maya", "Ethan", "Zara", "Lucas", "Amara", "Nina", "Omar", "Elena", "Jonas", "Ruth", "Victor",
    "Mei", "Andre", "Clara", "Hugo", "Ivy", "Rafael", "Selin", "Tariq",
];

pub(super) const LAST_NAMES: &[&str] = &[
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

pub(super) const MEDICATIONS: &[&str] = &[
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

pub(super) const RELATIONS: &[&str] = &[
    "partner", "sister", "brother", "friend", "mother", "father", "spouse",
];

/// A course's theme: the intention, goals, and what the patient says.
pub(super) struct Theme {
    pub(super) word: &'static str,
    pub(super) intention: &'static str,
    pub(super) goals: [&'static str; 2],
    pub(super) quotes: &'static [&'static str],
}

pub(super) const THEMES: &[Theme] = &[
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
pub(super) enum Regimen {
    Im,
    Iv,
    Intranasal,
    Sublingual,
}

impl Regimen {
    /// The esketamine dose of the `k`th dosing session: 56 mg, then 84 (Spravato label).
    pub(super) fn intranasal_mg(k: usize) -> u32 {
        [56, 56, 84, 84, 84, 84][k.min(5)]
    }

    pub(super) fn dose_line(self, k: usize) -> String {
        match self {
            Regimen::Im => {
                let mgkg = [0.5, 0.6, 0.75, 0.75, 0.85, 1.0][k.min(5)];
                format!("dose ketamine {mgkg}mg/kg IM")
            }
            Regimen::Iv => {
                let mgkg = [0.5, 0.5, 0.6, 0.6, 0.75, 0.75][k.min(5)];
                format!("dose ketamine {mgkg}mg/kg IV over 40m")
            }
            Regimen::Intranasal => format!("dose esketamine {}mg IN", Regimen::intranasal_mg(k)),
            Regimen::Sublingual => {
                let mg = [200, 200, 300, 300, 400, 400][k.min(5)];
                format!("dose ketamine {mg}mg SL")
            }
        }
    }
}

/// Who a patient is and how their course goes; all drawn up front from the seed.
pub(super) struct Profile {
    pub(super) name: String,
    pub(super) dob: NaiveDate,
    pub(super) mrn: String,
    pub(super) weight_kg: f64,
    pub(super) emergency: String,
    pub(super) ride: String,
    pub(super) medications: Vec<String>,
    pub(super) theme: &'static Theme,
    pub(super) regimen: Regimen,
    /// Resting systolic, diastolic, pulse.
    pub(super) bp: (f64, f64, f64),
    pub(super) spo2: i64,
    /// How much the systolic BP rises at its peak (T+40), in mmHg.
    pub(super) bp_rise: f64,
    /// Mean PHQ-9 and GAD-7 item scores at intake (0-3).
    pub(super) phq: f64,
    pub(super) gad: f64,
    /// The share of symptoms gone by the end of the course.
    pub(super) response: f64,
    /// PHQ-9 item 9 at intake (0-2).
    pub(super) item9: u8,
    /// Mean PCL-5 item score (0-4), for patients screened for PTSD.
    pub(super) pcl: Option<f64>,
    /// When each session starts: intake, preparation, then (dosing, integration) pairs.
    pub(super) starts: Vec<DateTime<FixedOffset>>,
    /// For an esketamine course: how far into the REMS deadline each dosing session's form is
    /// submitted (0 the day of the treatment, towards 1 the last day).
    pub(super) rems_delay: [f64; DOSING_SESSIONS],
}

/// What happens at a moment of the clinic's history.
#[derive(Debug, Clone, Copy)]
pub(super) enum Event {
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
pub(super) enum Slot {
    Intake,
    Preparation,
    Dosing(usize),
    Integration(usize),
}

impl Slot {
    pub(super) fn kind(self) -> SessionKind {
        match self {
            Slot::Intake => SessionKind::Intake,
            Slot::Preparation => SessionKind::Preparation,
            Slot::Dosing(_) => SessionKind::Dosing,
            Slot::Integration(_) => SessionKind::Integration,
        }
    }

    /// The session's place in the course (0-13).
    pub(super) fn index(self) -> usize {
        match self {
            Slot::Intake => 0,
            Slot::Preparation => 1,
            Slot::Dosing(k) => 2 + 2 * k,
            Slot::Integration(k) => 3 + 2 * k,
        }
    }

    pub(super) fn at(index: usize) -> Slot {
        match index {
            0 => Slot::Intake,
            1 => Slot::Preparation,
            i if i % 2 == 0 => Slot::Dosing((i - 2) / 2),
            i => Slot::Integration((i - 3) / 2),
        }
    }
}

#[derive(Default)]
pub(super) struct PatientState {
    pub(super) patient: Option<PatientId>,
    pub(super) dosing: [Option<SessionId>; DOSING_SESSIONS],
}

/// The longest a session of each kind may run, in minutes (see the timelines).
pub(super) fn longest(slot: Slot) -> i64 {
    match slot {
        Slot::Intake => 95,
        Slot::Preparation => 70,
        Slot::Dosing(_) => 170,
        Slot::Integration(_) => 80,
    }
}

impl Profile {
    pub(super) fn new(seed: u64, index: usize, now: DateTime<FixedOffset>) -> Profile {
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
    pub(super) fn events(
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
    pub(super) fn phq9(&self, rng: &mut Rng, done: usize) -> Vec<u8> {
        let mean = self.improved(self.phq, done);
        let mut items: Vec<u8> = (0..8).map(|_| item(rng, mean, 3)).collect();
        items.push(self.item9_after(rng, done));
        items
    }

    pub(super) fn gad7(&self, rng: &mut Rng, done: usize) -> Vec<u8> {
        let mean = self.improved(self.gad, done);
        (0..7).map(|_| item(rng, mean, 3)).collect()
    }

    pub(super) fn pcl5(&self, rng: &mut Rng, done: usize) -> Option<Vec<u8>> {
        let mean = self.improved(self.pcl?, done);
        Some((0..20).map(|_| item(rng, mean, 4)).collect())
    }

    pub(super) fn improved(&self, base: f64, done: usize) -> f64 {
        base * (1.0 - self.response * done as f64 / DOSING_SESSIONS as f64)
    }

    pub(super) fn item9_after(&self, rng: &mut Rng, done: usize) -> u8 {
        match (self.item9, done) {
            (0, _) => 0,
            (n, 0) => n,
            (n, d) if d < 3 => n.saturating_sub(u8::from(rng.chance(0.5))),
            (n, _) => n.saturating_sub(1 + u8::from(rng.chance(0.6))),
        }
    }
}

pub(super) fn item(rng: &mut Rng, mean: f64, max: u8) -> u8 {
    (mean + 0.7 * rng.normal())
        .round()
        .clamp(0.0, f64::from(max)) as u8
}

/// The next weekday on or after `date`.
pub(super) fn weekday(date: NaiveDate) -> NaiveDate {
    match date.weekday() {
        Weekday::Sat => date + Duration::days(2),
        Weekday::Sun => date + Duration::days(1),
        _ => date,
    }
}

pub(super) fn at_time(
    offset: &FixedOffset,
    date: NaiveDate,
    minutes: i64,
) -> DateTime<FixedOffset> {
    let naive = date.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::minutes(minutes);
    offset
        .from_local_datetime(&naive)
        .single()
        .unwrap_or_else(|| offset.from_utc_datetime(&naive))
}

/// Session start times: intake, preparation 3-10 days later, dosing sessions 2-7 days apart on
/// weekdays in clinic hours, each integration 48-54 hours after its dosing session ends.
pub(super) fn schedule(
    rng: &mut Rng,
    offset: &FixedOffset,
    start: NaiveDate,
) -> Vec<DateTime<FixedOffset>> {
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

pub(super) fn admit(
    chart: &mut Chart,
    p: &Profile,
    at: DateTime<FixedOffset>,
) -> Result<PatientId, ChartingError> {
    let patient = chart.behind_the_door().add_patient(
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
            address: None,
            sex: None,
        },
        at + Duration::minutes(2),
    )?;
    let goals: Vec<String> = p.theme.goals.iter().map(|g| g.to_string()).collect();
    chart.behind_the_door().start_course(
        patient,
        DEFAULT_PLANNED_DOSING,
        &goals,
        at + Duration::minutes(5),
    )?;
    Ok(patient)
}
