//! Tests of notes.rs.
//! One file because each test builds a whole session record and reads the drafted note
//! section by section, through the same record builders at the top.

use super::*;
use crate::domain::EntryStatus;
use crate::domain::SessionKind;
use crate::domain::entry::{
    Acknowledgement, AldreteScore, Dose, DoseUnit, Observation, RideHome, Route, Sedation,
    SessionEnd, Text,
};
use crate::domain::measures::Instrument;
use crate::domain::{Correction, chart_lines};
use chrono::TimeZone;

/// Central European winter time: a time shown in UTC would be an hour early.
/// The earliest ketamine dose that stands (what the session chart gives the note).
fn first_dose_of(lines: &[ChartLine]) -> Option<DateTime<FixedOffset>> {
    lines
        .iter()
        .filter(|l| l.status == EntryStatus::Current)
        .filter(|l| matches!(&l.entry.payload, Payload::Dose(d) if d.drug == "ketamine"))
        .map(|l| l.entry.event_time)
        .min()
}

fn at(h: u32, m: u32) -> DateTime<FixedOffset> {
    on(24, h, m)
}

/// A session's period as its chart gives it when nothing was charted before it opened.
fn period_of(s: &Session) -> Period {
    Period {
        start: s.started,
        end: s.ended,
    }
}

fn on(d: u32, h: u32, m: u32) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2025, 11, d, h, m, 0)
        .unwrap()
}

fn flag(code: FlagCode, text: &str) -> Flag {
    Flag {
        code,
        text: text.into(),
    }
}

fn vitals(bp: Option<(u16, u16)>, hr: u16, spo2: u8) -> Payload {
    Payload::Vitals(VitalSigns {
        bp: bp.map(|(systolic, diastolic)| BloodPressure {
            systolic,
            diastolic,
        }),
        hr: Some(hr),
        spo2: Some(spo2),
        rr: Some(14),
        temp_c: None,
    })
}

fn observation(text: &str, tags: &[&str], quotes: &[&str]) -> Payload {
    Payload::Observation(Observation {
        text: text.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        quotes: quotes.iter().map(|q| q.to_string()).collect(),
    })
}

struct Builder(Vec<Entry>);

impl Builder {
    fn add(&mut self, t: DateTime<FixedOffset>, payload: Payload, flags: Vec<Flag>) -> i64 {
        let id = self.0.len() as i64 + 1;
        self.0.push(Entry {
            id,
            session_id: 7,
            payload,
            event_time: t,
            recorded_time: t,
            author: "Dr Okafor".into(),
            flags,
            corrects: None,
            correction: None,
            reason: None,
        });
        id
    }

    fn correct(
        &mut self,
        t: DateTime<FixedOffset>,
        payload: Payload,
        target: i64,
        how: Correction,
        reason: &str,
    ) -> i64 {
        let id = self.add(t, payload, vec![]);
        let e = self.0.last_mut().unwrap();
        e.corrects = Some(target);
        e.correction = Some(how);
        e.reason = Some(reason.into());
        id
    }
}

/// Dosing session 3: a pre-dose caution, acknowledged and rechecked; IM ketamine at 10:10;
/// a BP alert at T+30 resolved at T+45; an SpO2 of 91 amended to 95; a struck observation.
fn dosing_lines() -> Vec<ChartLine> {
    let mut b = Builder(Vec::new());
    let caution = b.add(
        at(9, 50),
        vitals(Some((146, 92)), 78, 98),
        vec![flag(
            FlagCode::BpPredose,
            "BP 146/92 before dosing, above 140/90: consider delaying",
        )],
    );
    b.add(
        at(9, 54),
        Payload::Acknowledgement(Acknowledgement {
            entry: caution,
            flag: FlagCode::BpPredose,
            note: "anxious on arrival; rechecked after 5 min of rest".into(),
        }),
        vec![],
    );
    b.add(at(9, 58), vitals(Some((138, 88)), 74, 98), vec![]);
    b.add(
        at(10, 10),
        Payload::Dose(Dose {
            drug: "ketamine".into(),
            amount: 0.75,
            unit: DoseUnit::MgPerKg,
            route: Route::IM,
            over_min: None,
            total_mg: 52.5,
            weight_kg: Some(70.0),
            devices: None,
            lot: None,
            vial: None,
            drawn: Vec::new(),
        }),
        vec![],
    );
    b.add(at(10, 25), vitals(Some((150, 94)), 84, 97), vec![]);
    b.add(
        at(10, 33),
        observation(
            "#somatic #insight hands on chest, breathing slower \"it's like warm water over my chest\"",
            &["somatic", "insight"],
            &["it's like warm water over my chest"],
        ),
        vec![],
    );
    b.add(
        at(10, 40),
        vitals(Some((164, 98)), 88, 96),
        vec![flag(
            FlagCode::BpHigh,
            "BP 164/98 high (alert at >= 160/100)",
        )],
    );
    b.add(at(10, 40), Payload::Sedation(Sedation { moaas: 3 }), vec![]);
    let wrong = b.add(
        at(10, 45),
        observation("#grief talks about her brother's funeral", &["grief"], &[]),
        vec![],
    );
    b.correct(
        at(10, 46),
        Payload::Strike,
        wrong,
        Correction::Strike,
        "charted for the wrong patient",
    );
    b.add(
        at(10, 50),
        observation(
            "#insight \"I don't have to carry all of it\"",
            &["insight"],
            &["I don't have to carry all of it"],
        ),
        vec![],
    );
    b.add(at(10, 55), vitals(Some((148, 90)), 80, 96), vec![]);
    b.add(
        at(11, 0),
        observation("eye mask off briefly, sipping water", &[], &[]),
        vec![],
    );
    let low = b.add(
        at(11, 10),
        vitals(Some((142, 88)), 76, 91),
        vec![flag(FlagCode::Spo2Low, "SpO2 91% low (alert below 92%)")],
    );
    b.correct(
        at(11, 10),
        vitals(Some((142, 88)), 76, 95),
        low,
        Correction::Amend,
        "probe had slipped; re-read 95%",
    );
    b.add(at(11, 10), Payload::Sedation(Sedation { moaas: 4 }), vec![]);
    b.add(at(11, 40), vitals(Some((132, 84)), 72, 97), vec![]);
    b.add(
        at(12, 5),
        Payload::Aldrete(AldreteScore {
            activity: 2,
            respiration: 2,
            circulation: 2,
            consciousness: 2,
            spo2: 2,
        }),
        vec![],
    );
    b.add(
        at(12, 8),
        Payload::RideHome(RideHome {
            who: "partner (Sam)".into(),
        }),
        vec![],
    );
    b.add(at(12, 10), Payload::PatientReady, vec![]);
    b.add(
        at(12, 15),
        Payload::SessionEnd(SessionEnd::default()),
        vec![],
    );
    chart_lines(b.0)
}

fn patient() -> Patient {
    Patient {
        id: 1,
        name: "Alex Rivera".into(),
        dob: NaiveDate::from_ymd_opt(1988, 3, 14).unwrap(),
        mrn: Some("KAP-0042".into()),
        weight_kg: Some(70.0),
    }
}

fn session(id: i64, kind: SessionKind, started: DateTime<FixedOffset>) -> Session {
    Session {
        id,
        patient_id: 1,
        kind,
        started,
        ended: None,
        clinician: "Dr Okafor".into(),
        intention: (kind == SessionKind::Dosing)
            .then(|| "to meet the grief without bracing against it".into()),
        dosing_session_id: (kind == SessionKind::Integration).then_some(7),
    }
}

fn measure(instrument: Instrument, items: Vec<u8>, band: &str) -> MeasureResponse {
    MeasureResponse {
        instrument,
        total: items.iter().map(|&i| u16::from(i)).sum(),
        items,
        band: band.into(),
    }
}

fn measures() -> Vec<(DateTime<FixedOffset>, MeasureResponse)> {
    vec![
        (
            on(26, 13, 55),
            measure(Instrument::Gad7, vec![1, 1, 2, 1, 1, 2, 1], "mild"),
        ),
        (
            on(26, 13, 50),
            measure(
                Instrument::Phq9,
                vec![2, 2, 1, 2, 1, 2, 1, 1, 0],
                "moderate",
            ),
        ),
    ]
}

fn draft_for(format: NoteFormat) -> String {
    let lines = dosing_lines();
    let patient = patient();
    let dosing = session(7, SessionKind::Dosing, at(9, 45));
    let integration = session(8, SessionKind::Integration, on(26, 14, 0));
    let measures = measures();
    let source = NoteSource {
        patient: &patient,
        author: "Dr Okafor",
        dosing: &dosing,
        dosing_period: period_of(&dosing),
        dosing_number: 3,
        lines: &lines,
        first_dose: first_dose_of(&lines),
        checks: &[],
        integration: Some(&integration),
        integration_period: Some(period_of(&integration)),
        measures: &measures,
        drafted_on: NaiveDate::from_ymd_opt(2025, 11, 26).unwrap(),
    };
    draft(&source, template_text(format)).unwrap()
}

#[test]
fn each_format_drafts_every_fact_of_the_record_and_nothing_withdrawn() {
    for format in NoteFormat::ALL {
        let note = draft_for(format);
        let has = |s: &str| assert!(note.contains(s), "{format}: missing {s:?} in\n{note}");
        let lacks = |s: &str| assert!(!note.contains(s), "{format}: has {s:?} in\n{note}");
        has(&format!("# Integration note ({})", format.label()));
        has(
            "DRAFT drafted from the kapchart record on 26 Nov 2025 for dosing session 3 \
             (24 Nov 2025)",
        );
        has("Date: 26 Nov 2025");
        has("Patient: Alex Rivera (DOB 14 Mar 1988, MRN KAP-0042)");
        has("Clinician: Dr Okafor");
        has("Integration session: 26 Nov 2025 at 14:00, 51 h after the first dose");
        has("to meet the grief without bracing against it");
        has("- T+0 (10:10) ketamine 0.75 mg/kg IM (52.5 mg)");
        has("- Baseline (09:58): BP 138/88 · HR 74 · SpO2 98% · RR 14");
        has("- Peak BP 164/98 at T+30 (10:40)");
        has("- Lowest SpO2 95% at T+60 (11:10)");
        has("- Deepest sedation MOAA/S 3 at T+30 (10:40)");
        has("- 7 sets of vitals recorded, 09:50 to 11:40");
        has(
            "- BP 146/92 above the pre-dose caution level at 09:50 (before the dose), \
             rechecked below it at 09:58 (before the dose, BP 138/88); \
             acknowledged: “anxious on arrival; rechecked after 5 min of rest”",
        );
        has(
            "- BP 164/98 high at T+30 (10:40), back below alert level by T+45 (10:55, \
             BP 148/90)",
        );
        has("- Aldrete 10/10 at T+115 (12:05)");
        has("- Ready to leave at T+120 (12:10)");
        has("- Ride home: partner (Sam)");
        has("- Session ended at T+125 (12:15)");
        has("- #somatic\n  - 10:33 #somatic #insight hands on chest");
        has("- #insight\n  - 10:33 #somatic #insight hands on chest");
        has("  - 10:50 #insight \"I don't have to carry all of it\"");
        has("- 10:33 “it's like warm water over my chest”");
        has("- 10:50 “I don't have to carry all of it”");
        has("- PHQ-9 12 (moderate) on 26 Nov 2025\n- GAD-7 9 (mild) on 26 Nov 2025");
        has("Plan: ");
        // Withdrawn, amended away, untagged, or template-only text.
        lacks("brother");
        lacks("#grief");
        lacks("SpO2 91");
        lacks("Spo2");
        lacks("not resolved");
        lacks("eye mask off");
        lacks("item 9");
        lacks("{{");
        lacks("}}");
        lacks("Placeholders are");
        assert!(note.starts_with("# Integration note"), "{note}");
        assert!(!note.contains("09:10"), "shown in UTC:\n{note}");
    }
}

#[test]
fn each_format_has_its_sections_with_prompts_for_the_clinician() {
    let sections: [(NoteFormat, &[&str]); 3] = [
        (
            NoteFormat::Dap,
            &["## Data", "## Assessment\n\nAssessment: \n", "## Plan"],
        ),
        (
            NoteFormat::Soap,
            &["## Subjective", "## Objective", "## Assessment", "## Plan"],
        ),
        (
            NoteFormat::Birp,
            &[
                "## Behavior",
                "## Intervention\n\nIntervention: \n",
                "## Response\n\nResponse: \n",
                "## Plan",
            ],
        ),
    ];
    for (format, headings) in sections {
        let note = draft_for(format);
        let mut from = 0;
        for h in headings {
            let found = note[from..]
                .find(h)
                .unwrap_or_else(|| panic!("{format}: {h:?} missing or out of order"));
            from += found + h.len();
        }
        assert!(note.ends_with("Plan: \n"), "{format}");
    }
    // SOAP: the patient's words are subjective; the record is objective.
    let soap = draft_for(NoteFormat::Soap);
    let objective = soap.find("## Objective").unwrap();
    assert!(soap.find("“it's like warm water").unwrap() < objective);
    assert!(soap.find("Peak BP").unwrap() > objective);
}

#[test]
fn shipped_templates_validate_and_use_the_record() {
    for format in NoteFormat::ALL {
        let text = template_text(format);
        validate_template(text).unwrap();
        for name in [
            "drafted_on",
            "dosing_number",
            "date",
            "patient",
            "intention",
            "dose",
            "vitals",
            "alerts",
            "observations",
            "quotes",
            "measures",
        ] {
            assert!(
                text.contains(&format!("{{{{{name}}}}}")),
                "{format} lacks {name}"
            );
        }
        assert!(text.contains("{{all_observations}}"), "{format}: hint");
    }
}

#[test]
fn an_override_can_list_every_observation_and_keeps_its_text_exactly() {
    let lines = dosing_lines();
    let patient = patient();
    let dosing = session(7, SessionKind::Dosing, at(9, 45));
    let source = NoteSource {
        patient: &patient,
        author: "Dr Okafor",
        dosing: &dosing,
        dosing_period: period_of(&dosing),
        dosing_number: 3,
        lines: &lines,
        first_dose: first_dose_of(&lines),
        checks: &[],
        integration: None,
        integration_period: None,
        measures: &[],
        drafted_on: NaiveDate::from_ymd_opt(2025, 11, 24).unwrap(),
    };
    let template = "Note {{date}}  *{{ patient }}*\n\
                    {{! a comment on its own line goes, line and all }}\n\
                    Seen:{{! inline comment }} {{integration}}\n\
                    \x20   {{all_observations}}\n\
                    M: {{measures}}\n\
                    {{quotes}}";
    let note = draft(&source, template).unwrap();
    assert_eq!(
        note,
        "Note 24 Nov 2025  *Alex Rivera*\n\
         Seen: no integration session recorded yet\n\
         \x20   - 10:33 #somatic #insight hands on chest, breathing slower \"it's like warm water over my chest\"\n\
         \x20   - 10:50 #insight \"I don't have to carry all of it\"\n\
         \x20   - 11:00 eye mask off briefly, sipping water\n\
         M: No measures since the last note.\n\
         - 10:33 “it's like warm water over my chest”\n\
         - 10:50 “I don't have to carry all of it”"
    );
    // Windows line endings stay Windows line endings.
    let crlf = draft(&source, "Quotes:\r\n{{quotes}}\r\n").unwrap();
    assert_eq!(
        crlf,
        "Quotes:\r\n- 10:33 “it's like warm water over my chest”\r\n\
         - 10:50 “I don't have to carry all of it”\r\n"
    );
}

#[test]
fn a_phq9_item_9_answer_is_surfaced() {
    let lines = dosing_lines();
    let patient = patient();
    let dosing = session(7, SessionKind::Dosing, at(9, 45));
    let measures = [(
        on(26, 13, 50),
        measure(
            Instrument::Phq9,
            vec![2, 2, 1, 2, 1, 2, 1, 1, 1],
            "moderate",
        ),
    )];
    let source = NoteSource {
        patient: &patient,
        author: "Dr Okafor",
        dosing: &dosing,
        dosing_period: period_of(&dosing),
        dosing_number: 3,
        lines: &lines,
        first_dose: first_dose_of(&lines),
        checks: &[],
        integration: None,
        integration_period: None,
        measures: &measures,
        drafted_on: NaiveDate::from_ymd_opt(2025, 11, 26).unwrap(),
    };
    assert_eq!(
        draft(&source, "{{measures}}").unwrap(),
        "- PHQ-9 13 (moderate) on 26 Nov 2025; item 9 (thoughts of death or self-harm) \
         answered 1"
    );
}

#[test]
fn unknown_placeholders_are_named_with_the_known_ones() {
    let err = validate_template("# Note\n{{date}}\n{{vitls}} and {{ Patient }}\n").unwrap_err();
    assert!(err.contains("{{vitls}} (line 3)"), "{err}");
    assert!(err.contains("{{Patient}} (line 3)"), "{err}");
    assert!(err.contains("unknown placeholders"), "{err}");
    for (name, _) in placeholders() {
        assert!(err.contains(&format!("{{{{{name}}}}}")), "{name}: {err}");
    }
    let err = validate_template("{{}}").unwrap_err();
    assert!(err.contains("{{}} (line 1)"), "{err}");

    let err = validate_template("a\n{{date\n}}").unwrap_err();
    assert!(
        err.contains("line 2") && err.contains("not closed"),
        "{err}"
    );
    let err = validate_template("{{date").unwrap_err();
    assert!(err.contains("not closed"), "{err}");
    let err = validate_template("x\n\n{{! about {{quotes}} }").unwrap_err();
    assert!(err.contains("comment") && err.contains("line 3"), "{err}");
    // A placeholder mentioned in a comment is not checked; stray closing braces are text.
    validate_template("{{! try {{anything}} }} }} {").unwrap();

    let lines = dosing_lines();
    let patient = patient();
    let dosing = session(7, SessionKind::Dosing, at(9, 45));
    let source = NoteSource {
        patient: &patient,
        author: "Dr Okafor",
        dosing: &dosing,
        dosing_period: period_of(&dosing),
        dosing_number: 1,
        lines: &lines,
        first_dose: first_dose_of(&lines),
        checks: &[],
        integration: None,
        integration_period: None,
        measures: &[],
        drafted_on: NaiveDate::from_ymd_opt(2025, 11, 24).unwrap(),
    };
    let err = draft(&source, "{{vitals}} {{spo2}}").unwrap_err();
    assert!(
        err.contains("{{spo2}}") && err.contains("{{vitals}}"),
        "{err}"
    );
}

#[test]
fn format_parses_and_defaults_to_dap() {
    assert_eq!(NoteFormat::default(), NoteFormat::Dap);
    assert_eq!("SOAP".parse::<NoteFormat>(), Ok(NoteFormat::Soap));
    assert_eq!(" birp ".parse::<NoteFormat>(), Ok(NoteFormat::Birp));
    let err = "narrative".parse::<NoteFormat>().unwrap_err();
    assert!(
        err.contains("'narrative'") && err.contains("dap, soap, birp"),
        "{err}"
    );
    assert_eq!(NoteFormat::Birp.to_string(), "birp");
    assert_eq!(
        serde_json::to_string(&NoteFormat::Soap).unwrap(),
        "\"soap\""
    );
    assert_eq!(
        serde_json::from_str::<NoteFormat>("\"dap\"").unwrap(),
        NoteFormat::Dap
    );
}

#[test]
fn vitals_summary_of_the_whole_session() {
    let lines = dosing_lines();
    let s = vitals_summary(&lines, Some(at(10, 10)));
    assert_eq!(s.baseline.as_ref().map(|b| b.1), Some(at(9, 58)));
    assert_eq!(
        s.peak_bp,
        Some((
            BloodPressure {
                systolic: 164,
                diastolic: 98
            },
            at(10, 40)
        ))
    );
    assert_eq!(s.lowest_spo2, Some((95, at(11, 10))));
    assert_eq!(s.deepest_sedation, Some((3, at(10, 40))));
    assert_eq!(s.readings, 7);
    let codes: Vec<FlagCode> = s.alerts.iter().map(|a| a.flag.code).collect();
    assert_eq!(codes, [FlagCode::BpPredose, FlagCode::BpHigh]);
    assert_eq!(s.alerts[1].resolved.as_ref().unwrap().at, at(10, 55));
    assert_eq!(s.alerts[1].acknowledged, None);
    assert!(
        s.alerts[0]
            .acknowledged
            .as_deref()
            .unwrap()
            .contains("rest")
    );
}

#[test]
fn vitals_summary_before_any_dose() {
    let mut b = Builder(Vec::new());
    b.add(at(9, 40), vitals(Some((130, 80)), 70, 99), vec![]);
    b.add(
        at(9, 50),
        vitals(Some((146, 92)), 78, 98),
        vec![flag(FlagCode::BpPredose, "BP 146/92 before dosing")],
    );
    b.add(at(9, 52), vitals(None, 76, 97), vec![]);
    let lines = chart_lines(b.0);
    let s = vitals_summary(&lines, None);
    // The latest with a BP, before a later reading without one.
    assert_eq!(s.baseline.as_ref().map(|b| b.1), Some(at(9, 50)));
    assert_eq!(
        (s.peak_bp, s.lowest_spo2, s.deepest_sedation),
        (None, None, None)
    );
    assert_eq!(s.readings, 3);
    assert_eq!(s.alerts.len(), 1);
    assert_eq!(s.alerts[0].reading, "BP 146/92");
    assert_eq!(s.alerts[0].resolved, None);
    assert_eq!(s.alerts[0].acknowledged, None);

    let patient = patient();
    let dosing = session(7, SessionKind::Dosing, at(9, 35));
    let source = NoteSource {
        patient: &patient,
        author: "Dr Okafor",
        dosing: &dosing,
        dosing_period: period_of(&dosing),
        dosing_number: 1,
        lines: &lines,
        first_dose: first_dose_of(&lines),
        checks: &[],
        integration: None,
        integration_period: None,
        measures: &[],
        drafted_on: NaiveDate::from_ymd_opt(2025, 11, 24).unwrap(),
    };
    assert_eq!(
        draft(&source, "{{dose}}\n{{vitals}}\n{{alerts}}\n{{discharge}}").unwrap(),
        "No dose recorded.\n\
         - Baseline (09:50): BP 146/92 · HR 78 · SpO2 98% · RR 14\n\
         - 3 sets of vitals recorded, 09:40 to 09:52\n\
         - BP 146/92 above the pre-dose caution level at 09:50; no acknowledgement in the \
         record\n\
         No discharge entries recorded."
    );
}

#[test]
fn vitals_summary_without_vitals() {
    let mut b = Builder(Vec::new());
    b.add(
        at(10, 10),
        Payload::Dose(Dose {
            drug: "ketamine".into(),
            amount: 100.0,
            unit: DoseUnit::Mg,
            route: Route::SL,
            over_min: None,
            total_mg: 100.0,
            weight_kg: None,
            devices: None,
            lot: None,
            vial: None,
            drawn: Vec::new(),
        }),
        vec![],
    );
    b.add(
        at(10, 30),
        Payload::Dose(Dose {
            drug: "ketamine".into(),
            amount: 0.5,
            unit: DoseUnit::MgPerKg,
            route: Route::IV,
            over_min: Some(40),
            total_mg: 35.0,
            weight_kg: Some(70.0),
            devices: None,
            lot: None,
            vial: None,
            drawn: Vec::new(),
        }),
        vec![],
    );
    let lines = chart_lines(b.0);
    assert_eq!(
        vitals_summary(&lines, Some(at(10, 10))),
        VitalsSummary::default()
    );
    assert_eq!(vitals_summary(&[], None), VitalsSummary::default());

    let patient = patient();
    let dosing = session(7, SessionKind::Dosing, at(10, 0));
    let source = NoteSource {
        patient: &patient,
        author: "Dr Okafor",
        dosing: &dosing,
        dosing_period: period_of(&dosing),
        dosing_number: 2,
        lines: &lines,
        first_dose: first_dose_of(&lines),
        checks: &[],
        integration: None,
        integration_period: None,
        measures: &[],
        drafted_on: NaiveDate::from_ymd_opt(2025, 11, 24).unwrap(),
    };
    assert_eq!(
        draft(
            &source,
            "{{dose}}\n{{vitals}}\n{{alerts}}\n{{observations}}"
        )
        .unwrap(),
        "- T+0 (10:10) ketamine 100 mg SL\n\
         - T+20 (10:30) ketamine 0.5 mg/kg IV over 40 min (35 mg)\n\
         - Total ketamine: 135 mg in 2 doses\n\
         No vitals recorded.\n\
         No alerts recorded.\n\
         No tagged observations."
    );
}

#[test]
fn alerts_resolve_on_the_first_later_reading_of_their_kind() {
    let mut b = Builder(Vec::new());
    b.add(at(10, 0), vitals(Some((130, 80)), 70, 98), vec![]);
    b.add(
        at(10, 5),
        Payload::Dose(Dose {
            drug: "ketamine".into(),
            amount: 50.0,
            unit: DoseUnit::Mg,
            route: Route::IM,
            over_min: None,
            total_mg: 50.0,
            weight_kg: None,
            devices: None,
            lot: None,
            vial: None,
            drawn: Vec::new(),
        }),
        vec![],
    );
    b.add(
        at(10, 30),
        Payload::Sedation(Sedation { moaas: 2 }),
        vec![flag(FlagCode::DeepSedation, "MOAA/S 2 (alert at <= 2)")],
    );
    b.add(
        at(10, 32),
        vitals(None, 70, 90),
        vec![flag(FlagCode::Spo2Low, "SpO2 90% low")],
    );
    // Still low: does not resolve it. A reading without SpO2 is not of its kind.
    b.add(
        at(10, 35),
        vitals(None, 70, 89),
        vec![flag(FlagCode::Spo2Low, "SpO2 89% low")],
    );
    b.add(
        at(10, 38),
        Payload::Vitals(VitalSigns {
            hr: Some(72),
            ..Default::default()
        }),
        vec![],
    );
    b.add(at(10, 40), vitals(None, 70, 94), vec![]);
    b.add(at(10, 45), Payload::Sedation(Sedation { moaas: 4 }), vec![]);
    b.add(
        at(10, 50),
        Payload::Intention(Text {
            text: "to let the sadness be there".into(),
        }),
        vec![],
    );
    let lines = chart_lines(b.0);
    let patient = patient();
    let dosing = session(7, SessionKind::Dosing, at(9, 55));
    let source = NoteSource {
        patient: &patient,
        author: "Dr Okafor",
        dosing: &dosing,
        dosing_period: period_of(&dosing),
        dosing_number: 4,
        lines: &lines,
        first_dose: first_dose_of(&lines),
        checks: &[],
        integration: None,
        integration_period: None,
        measures: &[],
        drafted_on: NaiveDate::from_ymd_opt(2025, 11, 24).unwrap(),
    };
    assert_eq!(
        draft(&source, "{{alerts}}").unwrap(),
        "- MOAA/S 2 (deep sedation) at T+25 (10:30), lighter by T+40 (10:45, MOAA/S 4)\n\
         - SpO2 90% low at T+27 (10:32), back above alert level by T+35 (10:40, SpO2 94%)\n\
         - SpO2 89% low at T+30 (10:35), back above alert level by T+35 (10:40, SpO2 94%)"
    );
    let mut unresolved = lines.clone();
    unresolved.truncate(4);
    let source = NoteSource {
        lines: &unresolved,
        first_dose: first_dose_of(&unresolved),
        checks: &[],
        ..source
    };
    assert_eq!(
        draft(&source, "{{alerts}}").unwrap(),
        "- MOAA/S 2 (deep sedation) at T+25 (10:30), not resolved in the record\n\
         - SpO2 90% low at T+27 (10:32), not resolved in the record"
    );
    // Without an intention on the session, the intention entry of the record is used.
    let dosing = Session {
        intention: None,
        ..dosing.clone()
    };
    let source = NoteSource {
        dosing: &dosing,
        lines: &lines,
        first_dose: first_dose_of(&lines),
        checks: &[],
        ..source
    };
    assert_eq!(
        draft(&source, "{{intention}}").unwrap(),
        "to let the sadness be there"
    );
}

#[test]
fn the_note_names_who_writes_it_who_charted_and_the_day_the_session_began() {
    use crate::domain::entry::{Dissociation, Witness};
    let mut b = Builder(Vec::new());
    // Opened at 00:08 on the 25th, with the baseline and the dose charted back to the 24th.
    b.add(on(24, 23, 0), vitals(Some((128, 82)), 74, 98), vec![]);
    let dose = b.add(
        on(24, 23, 10),
        Payload::Dose(Dose {
            drug: "ketamine".into(),
            amount: 35.0,
            unit: DoseUnit::Mg,
            route: Route::IM,
            over_min: None,
            total_mg: 35.0,
            weight_kg: None,
            devices: None,
            lot: None,
            vial: None,
            drawn: Vec::new(),
        }),
        vec![],
    );
    let witness = b.add(
        on(24, 23, 11),
        Payload::Witness(Witness { entry: dose }),
        vec![],
    );
    b.0[witness as usize - 1].author = "Nia Nurse".into();
    b.add(
        on(24, 23, 25),
        Payload::Dissociation(Dissociation {
            cadss6: [2, 1, 2, 1, 1, 1],
        }),
        vec![],
    );
    b.add(
        on(25, 0, 10),
        Payload::Dissociation(Dissociation {
            cadss6: [0, 0, 1, 0, 0, 0],
        }),
        vec![],
    );
    let lines = chart_lines(b.0);
    let patient = patient();
    // The session was started by someone who charted nothing in it.
    let dosing = Session {
        clinician: "Front Desk".into(),
        ..session(7, SessionKind::Dosing, on(25, 0, 8))
    };
    let source = NoteSource {
        patient: &patient,
        author: "Dr Priya Prescriber",
        dosing: &dosing,
        dosing_period: Period {
            start: on(24, 23, 0),
            end: Some(on(25, 0, 40)),
        },
        dosing_number: 1,
        lines: &lines,
        first_dose: first_dose_of(&lines),
        checks: &[],
        integration: None,
        integration_period: None,
        measures: &[],
        drafted_on: NaiveDate::from_ymd_opt(2025, 11, 25).unwrap(),
    };
    let note = draft(&source, template_text(NoteFormat::Dap)).unwrap();
    let has = |s: &str| assert!(note.contains(s), "missing {s:?} in\n{note}");
    has("- Date: 24 Nov 2025");
    has("for dosing session 1 (24 Nov 2025)");
    has("- Clinician: Dr Priya Prescriber");
    has("- Charted by: Dr Okafor and Nia Nurse");
    assert!(!note.contains("Front Desk"), "{note}");
    has("- T+0 (23:10) ketamine 35 mg IM, witnessed by Nia Nurse");
    has("- CADSS-6 (dissociation): 8 at T+15 (23:25), 1 at T+60 (00:10)");
}

/// One reading with two alerts, one of them acknowledged: the note says so of that alert
/// alone, and the other reads as nobody acknowledged it.
#[test]
fn an_acknowledgement_answers_for_its_own_alert_of_a_reading_only() {
    let mut b = Builder(Vec::new());
    let high = b.add(
        at(10, 40),
        vitals(Some((172, 108)), 131, 97),
        vec![
            flag(FlagCode::BpHigh, "BP 172/108 above 160/100"),
            flag(FlagCode::HrHigh, "HR 131 above 120"),
        ],
    );
    b.add(
        at(10, 42),
        Payload::Acknowledgement(Acknowledgement {
            entry: high,
            flag: FlagCode::BpHigh,
            note: "rechecked; prescriber told".into(),
        }),
        vec![],
    );
    let lines = chart_lines(b.0);
    let s = vitals_summary(&lines, Some(at(10, 10)));
    let of = |code| s.alerts.iter().find(|a| a.flag.code == code).unwrap();
    assert_eq!(
        of(FlagCode::BpHigh).acknowledged.as_deref(),
        Some("rechecked; prescriber told")
    );
    assert_eq!(of(FlagCode::HrHigh).acknowledged, None);
    assert_eq!(of(FlagCode::BpHigh).reading, "BP 172/108");
}

/// Respiratory depression reads as what was seen, not as the flag's words.
#[test]
fn respiratory_depression_reads_as_what_was_seen() {
    let mut b = Builder(Vec::new());
    b.add(
        at(10, 30),
        Payload::Respiration(crate::domain::entry::Respiration {
            depressed: true,
            note: Some("shallow".into()),
        }),
        vec![flag(FlagCode::RespDepressed, "the flag's own words")],
    );
    let lines = chart_lines(b.0);
    let s = vitals_summary(&lines, Some(at(10, 10)));
    assert_eq!(s.alerts.len(), 1);
    assert_eq!(s.alerts[0].reading, "respiratory depression");
}
