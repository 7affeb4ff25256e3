//! Session timelines: what happened, when, and when it was typed.

use super::*;

/// One thing written in a session.
pub(super) enum What {
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

pub(super) struct Step {
    pub(super) key: usize,
    pub(super) event: DateTime<FixedOffset>,
    pub(super) recorded: DateTime<FixedOffset>,
    pub(super) what: What,
}

pub(super) struct Timeline {
    pub(super) steps: Vec<Step>,
    /// Decides when each line is typed.
    pub(super) rng: Rng,
}

impl Timeline {
    pub(super) fn new(rng: &mut Rng) -> Timeline {
        Timeline {
            steps: Vec::new(),
            rng: Rng::new(rng.next_u64()),
        }
    }

    pub(super) fn push(
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
    pub(super) fn line(&mut self, event: DateTime<FixedOffset>, text: impl Into<String>) -> usize {
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
    pub(super) fn live(&mut self, event: DateTime<FixedOffset>, text: impl Into<String>) -> usize {
        let t = event + Duration::seconds(self.rng.range(0, 59));
        self.push(t, t, What::Line(text.into()))
    }

    /// Something done `minutes` after the line `of` was typed.
    pub(super) fn after(&mut self, of: usize, minutes: i64, what: What) -> usize {
        let t = self.steps[of].recorded + Duration::minutes(minutes);
        self.push(t, t, what)
    }

    pub(super) fn form(&mut self, at: DateTime<FixedOffset>, payloads: Vec<Payload>) -> usize {
        self.push(at, at, What::Form(payloads))
    }

    pub(super) fn end(&mut self, at: DateTime<FixedOffset>) {
        // The end is always the last thing written.
        let last = self.steps.iter().map(|s| s.recorded).max().unwrap_or(at);
        let at = at.max(last + Duration::seconds(30));
        self.push(at, at, What::End);
    }
}

pub(super) fn minutes(start: DateTime<FixedOffset>, m: i64) -> DateTime<FixedOffset> {
    start + Duration::minutes(m)
}

pub(super) fn measure_line(keyword: &str, items: &[u8]) -> String {
    let mut line = keyword.to_string();
    for i in items {
        line.push(' ');
        line.push_str(&i.to_string());
    }
    line
}

/// The measures of one sitting, with a risk assessment after a PHQ-9 item 9 above 0.
pub(super) fn measures(
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

pub(super) fn intake(p: &Profile, rng: &mut Rng, start: DateTime<FixedOffset>) -> Timeline {
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

pub(super) fn preparation(p: &Profile, rng: &mut Rng, start: DateTime<FixedOffset>) -> Timeline {
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

pub(super) const ONSET: &[&str] = &[
    "obs eyes closed, breathing slow and even #somatic",
    "obs reports tingling in hands and feet #somatic",
    "obs \"the room is getting very far away\" #dissociation",
    "obs nystagmus noted, patient calm",
    "obs lying still, hands resting on chest #somatic",
    "obs brief anxiety at onset, settled with breathing cue #anxiety",
];

pub(super) const PEAK: &[&str] = &[
    "obs tearful for a few minutes, then settled #distress",
    "obs hand held at patient's request #support",
    "obs asks for the music to be softer",
    "obs smiling, murmuring, no distress",
    "obs restless legs, reassured, settled #somatic",
    "obs long silence, face relaxed",
    "obs sighs deeply several times #somatic",
    "obs reports seeing colours and shapes #imagery",
];

pub(super) const RETURN: &[&str] = &[
    "obs moving fingers, starting to talk #return",
    "obs mild nausea, declines antiemetic",
    "obs sitting up, oriented to time and place",
    "obs drank water, tolerated well",
    "obs reports feeling heavy and calm #return",
    "obs asks to lie a little longer",
];

pub(super) fn dosing_session(
    p: &Profile,
    rng: &mut Rng,
    start: DateTime<FixedOffset>,
    k: usize,
) -> Timeline {
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

pub(super) const INTEGRATION_OBS: &[&str] = &[
    "obs journaling since the session; sleeping better #integration",
    "obs plan: daily walk, write one line each evening #plan",
    "obs mood brighter, more eye contact #affect",
    "obs reviewed safety plan; no concerns #safety",
    "obs some low days after the session, expected; coping well #integration",
    "obs practised the breathing cue together #skills",
    "obs talked with partner about the session #relationships",
];

pub(super) fn integration_session(
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
