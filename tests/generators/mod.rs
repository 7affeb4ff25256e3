//! Generators and fixtures shared by the property tests (properties.rs, store_properties.rs):
//! valid entries of every kind, free text, and a chart with one dosing session.
#![allow(dead_code)]

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use kapchart::app::Chart;
use kapchart::config::Config;
use kapchart::domain::entry::{
    Acknowledgement, AldreteScore, Dissociation, Respiration, RideHome, RiskAssessment, Text,
};
use kapchart::domain::grammar::ParseContext;
use kapchart::domain::measures::{Instrument, MeasureRules, score};
use kapchart::domain::screening::{
    Answer, Decision, EligibilityDecision, ScreeningAnswer, ScreeningItem,
};
use kapchart::domain::{
    BloodPressure, Dose, DoseUnit, FlagCode, Observation, Payload, Route, Sedation, SessionKind,
    VitalSigns,
};
use kapchart::store::{NewPatient, NewSession};
use proptest::prelude::*;

pub const WEIGHT_KG: f64 = 70.0;

/// A string strategy from a regex, parsed once (a `&str` strategy parses it per value).
pub fn re(regex: &str) -> proptest::string::RegexGeneratorStrategy<String> {
    proptest::string::string_regex(regex).expect("a valid regex")
}

pub fn config() -> &'static Config {
    static CONFIG: std::sync::OnceLock<Config> = std::sync::OnceLock::new();
    CONFIG.get_or_init(Config::default)
}

/// 14:30 on 12 May 2026 at +01:00.
pub fn now() -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 5, 12, 14, 30, 0)
        .unwrap()
}

pub fn context(weight_kg: Option<f64>) -> ParseContext<'static, FixedOffset> {
    config().parse_context(now(), weight_kg)
}

/// A word of free text: no quotes or # (an observation reads those), no control characters.
pub fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => re("[a-zA-Z]{1,10}"),
        1 => re("[a-zA-Z0-9,.;:!?'/()@+-]{1,10}"),
        1 => re("[äöüéßñ]{1,4}"),
    ]
}

/// Free text: words with single spaces, trimmed.
pub fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(word(), 1..8).prop_map(|w| w.join(" "))
}

/// Free text where quotes and # are plain characters too (not an observation).
pub fn plain_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(prop_oneof![4 => word(), 1 => re("[#\"a-z]{1,5}")], 1..8)
        .prop_map(|w| w.join(" "))
}

pub fn vitals() -> impl Strategy<Value = Payload> {
    let bp = (50u16..=300, 20u16..=200)
        .prop_filter("diastolic below systolic", |(s, d)| d < s)
        .prop_map(|(systolic, diastolic)| BloodPressure {
            systolic,
            diastolic,
        });
    (
        proptest::option::of(bp),
        proptest::option::of(20u16..=250),
        proptest::option::of(50u8..=100),
        proptest::option::of(4u16..=60),
        proptest::option::of((300u16..=450).prop_map(|tenths| f64::from(tenths) / 10.0)),
    )
        .prop_map(|(bp, hr, spo2, rr, temp_c)| VitalSigns {
            bp,
            hr,
            spo2,
            rr,
            temp_c,
        })
        .prop_filter("at least one vital sign", |v| !v.is_empty())
        .prop_map(Payload::Vitals)
}

pub fn sedation() -> impl Strategy<Value = Payload> {
    (0u8..=5).prop_map(|moaas| Payload::Sedation(Sedation { moaas }))
}

/// A CADSS-6 score: six items within the shipped item maximum.
pub fn dissociation() -> impl Strategy<Value = Payload> {
    let max = config().measures.cadss6_item_max;
    proptest::array::uniform6(0u8..=max)
        .prop_map(|cadss6| Payload::Dissociation(Dissociation { cadss6 }))
}

/// A respiratory status: ok, or depressed with or without what was seen.
pub fn respiration() -> impl Strategy<Value = Payload> {
    prop_oneof![
        Just(Payload::Respiration(Respiration {
            depressed: false,
            note: None,
        })),
        proptest::option::of(text()).prop_map(|note| Payload::Respiration(Respiration {
            depressed: true,
            note,
        })),
    ]
}

pub fn dose() -> impl Strategy<Value = Payload> {
    let unit = proptest::sample::select(vec![DoseUnit::Mg, DoseUnit::Mcg, DoseUnit::MgPerKg]);
    let route = proptest::sample::select(Route::ALL.to_vec());
    (
        proptest::sample::select(config().drugs.known.clone()),
        1u32..=5_000_000,
        unit,
        route,
        proptest::option::of(1u32..=1440),
        proptest::option::of(re("[A-Z0-9][A-Z0-9-]{0,19}")),
    )
        .prop_map(|(drug, thousandths, unit, route, over_min, lot)| {
            // A drug given by device (esketamine IN) comes in whole devices, in mg.
            let device_mg = config()
                .alerts
                .doses
                .for_drug(&drug, route)
                .and_then(|l| l.device_mg);
            let devices = device_mg.map(|_| u8::try_from(1 + thousandths % 30).unwrap());
            let (amount, unit) = match (device_mg, devices) {
                (Some(mg), Some(n)) => (mg * f64::from(n), DoseUnit::Mg),
                _ => (f64::from(thousandths) / 1000.0, unit),
            };
            let (total_mg, weight_kg) = match unit {
                DoseUnit::Mg => (amount, None),
                DoseUnit::Mcg => (amount / 1000.0, None),
                DoseUnit::MgPerKg => (
                    (amount * WEIGHT_KG * 100.0).round() / 100.0,
                    Some(WEIGHT_KG),
                ),
            };
            Dose {
                drug,
                amount,
                unit,
                route,
                over_min,
                total_mg,
                weight_kg,
                devices,
                lot,
                vial: None,
                drawn: Vec::new(),
            }
        })
        // Only doses a clinic can chart: beyond its ceiling a dose is refused as a typo.
        .prop_filter("within the dose ceilings", |d| {
            config().alerts.doses.refusal(d).is_none()
        })
        .prop_map(Payload::Dose)
}

/// An observation made of words, #tags and "quotes"; the expected tags (lowercase, each
/// once) and quotes follow from the parts.
pub fn observation() -> impl Strategy<Value = Payload> {
    #[derive(Debug, Clone)]
    enum Part {
        Word(String),
        Tag(String),
        Quote(String),
    }
    let part = prop_oneof![
        5 => word().prop_map(Part::Word),
        2 => re("[a-zA-Z][a-zA-Z0-9_-]{0,8}").prop_map(Part::Tag),
        2 => text().prop_map(Part::Quote),
    ];
    proptest::collection::vec(part, 1..8).prop_map(|parts| {
        let mut words = Vec::new();
        let mut tags: Vec<String> = Vec::new();
        let mut quotes = Vec::new();
        for p in parts {
            match p {
                Part::Word(w) => words.push(w),
                Part::Tag(t) => {
                    let lower = t.to_lowercase();
                    if !tags.contains(&lower) {
                        tags.push(lower);
                    }
                    words.push(format!("#{t}"));
                }
                Part::Quote(q) => {
                    words.push(format!("\"{q}\""));
                    quotes.push(q);
                }
            }
        }
        Payload::Observation(Observation {
            text: words.join(" "),
            tags,
            quotes,
        })
    })
}

pub fn measure() -> impl Strategy<Value = Payload> {
    proptest::sample::select(Instrument::ALL.to_vec())
        .prop_flat_map(|i| {
            proptest::collection::vec(0..=i.max_item(), i.item_count())
                .prop_map(move |items| (i, items))
        })
        .prop_map(|(i, items)| {
            Payload::Measure(score(i, &items, &MeasureRules::default()).expect("valid answers"))
        })
}

pub fn screening() -> impl Strategy<Value = Payload> {
    let item = proptest::sample::select(vec![
        ScreeningItem::ActivePsychosis,
        ScreeningItem::ManiaHistory,
        ScreeningItem::Hypertension,
        ScreeningItem::UncontrolledHypertension,
        ScreeningItem::VascularDisease,
        ScreeningItem::Pregnancy,
        ScreeningItem::SubstanceUse,
    ]);
    let answer = proptest::sample::select(vec![Answer::Yes, Answer::No, Answer::Unknown]);
    (item, answer, proptest::option::of(plain_text()))
        .prop_map(|(item, answer, note)| Payload::Screening(ScreeningAnswer { item, answer, note }))
}

pub fn eligibility() -> impl Strategy<Value = Payload> {
    let decision = proptest::sample::select(vec![
        Decision::Eligible,
        Decision::NotEligible,
        Decision::Deferred,
    ]);
    (decision, plain_text()).prop_map(|(decision, reason)| {
        Payload::Eligibility(EligibilityDecision { decision, reason })
    })
}

/// The kinds that take the rest of the line as text.
pub fn text_kind() -> impl Strategy<Value = Payload> {
    (0..4u8, plain_text()).prop_map(|(kind, text)| match kind {
        0 => Payload::Intention(Text { text }),
        1 => Payload::Setting(Text { text }),
        2 => Payload::Consent(Text { text }),
        _ => Payload::RiskAssessment(RiskAssessment { outcome: text }),
    })
}

/// Any payload a quick-entry line can make.
pub fn valid_payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        3 => vitals(),
        1 => sedation(),
        1 => dissociation(),
        1 => respiration(),
        2 => dose(),
        3 => observation(),
        1 => measure(),
        1 => screening(),
        1 => eligibility(),
        2 => text_kind(),
    ]
}

/// Whether a payload's segment takes the rest of the line (so it must come last).
pub fn takes_the_rest(p: &Payload) -> bool {
    matches!(
        p,
        Payload::Observation(_)
            | Payload::Screening(_)
            | Payload::Eligibility(_)
            | Payload::Intention(_)
            | Payload::Setting(_)
            | Payload::Consent(_)
            | Payload::RiskAssessment(_)
            | Payload::Respiration(Respiration {
                depressed: true,
                ..
            })
    )
}

/// Entries that come from forms, not typed lines. An acknowledgement points at entry 0 until
/// the test gives it a real one.
pub fn form_payload() -> impl Strategy<Value = Payload> {
    let item = || 0u8..=2;
    prop_oneof![
        (plain_text(), 0..3u8).prop_map(|(note, f)| Payload::Acknowledgement(Acknowledgement {
            entry: 0,
            flag: [FlagCode::BpHigh, FlagCode::BpPredose, FlagCode::HrHigh][usize::from(f)],
            note,
        })),
        (item(), item(), item(), item(), item()).prop_map(|(a, r, c, k, s)| {
            Payload::Aldrete(AldreteScore {
                activity: a,
                respiration: r,
                circulation: c,
                consciousness: k,
                spo2: s,
            })
        }),
        plain_text().prop_map(|who| Payload::RideHome(RideHome { who })),
        Just(Payload::PatientReady),
    ]
}

/// A chart with one 70 kg patient and one dosing session started at `now()`.
pub fn new_chart() -> (tempfile::TempDir, Chart, i64) {
    let dir = tempfile::tempdir().unwrap();
    let start = now();
    let mut chart =
        Chart::create(&dir.path().join("p.db"), "pw", "Dr. Property", 2000, start).unwrap();
    let patient = chart
        .behind_the_door()
        .add_patient(
            &NewPatient {
                name: "Prop Patient".into(),
                dob: NaiveDate::from_ymd_opt(1980, 1, 1).unwrap(),
                mrn: None,
                weight_kg: Some(WEIGHT_KG),
            },
            start,
        )
        .unwrap();
    let session = chart
        .behind_the_door()
        .start_session(
            &NewSession {
                patient_id: patient,
                kind: SessionKind::Dosing,
                started: start,
                intention: None,
                dosing_session_id: None,
            },
            start,
        )
        .unwrap();
    (dir, chart, session)
}
