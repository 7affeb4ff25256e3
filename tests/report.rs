//! The printable report (HTML and Markdown) and the CSV flowsheet, rendered from a record
//! charted through the library at fixed times: content, escaping, golden files, CSV
//! parse-back, and a headless Chromium print to PDF.
//!
//! Golden files live in tests/golden/report/; rewrite them after an intended change with
//! `KAPCHART_UPDATE_GOLDEN=1 cargo test --test report`.

mod common;

use chrono::{DateTime, Duration, FixedOffset};
use common::fixture::{Fixture, at, dosing_session, mask_ed25519};
use kapchart::app::charting;
use kapchart::domain::measures::MeasureRules;
use kapchart::domain::{AlertThresholds, EntryId, Payload, SessionKind};
use kapchart::export::{Record, course_record_from, csv, report, session_record_from};
use kapchart::store::NewSession;
use std::path::{Path, PathBuf};
use std::process::Command;

const ADDENDUM: &str =
    "Phoned the next day: slept well, no nausea. Ride home confirmed by partner.";

/// The fixture's dosing session, charted to the end: questionnaires before the dose with a
/// risk assessment, an observation with markup in it, a struck observation, a late entry,
/// recovery vitals, discharge, the end, and a signed note with an addendum.
fn charted() -> Fixture {
    let mut f = dosing_session(46);
    f.log_at(-4, "phq9 2 2 2 1 2 2 1 1 1");
    f.log_at(-4, "gad7 2 2 1 1 2 1 1");
    f.log_at(-3, "pcl5 2 2 1 1 3 2 2 1 1 2 3 1 1 2 2 3 1 2 2 1");
    f.log_at(
        -2,
        "risk-assessment C-SSRS screen: passive ideation, no plan; safety plan reviewed",
    );
    f.log_at(
        50,
        "obs wrote <script>alert('x')</script> & drew a <b>map</b>",
    );
    f.log_at(55, "obs nausea, asked for a bucket");
    let wrong = entry_at(&f, 55, "observation");
    charting::strike_entry(
        &mut f.chart,
        wrong,
        "charted for the wrong patient",
        &at(58),
    )
    .unwrap();
    // Written 42 minutes after it happened: a late entry.
    charting::record_line(
        &mut f.chart,
        &f.config,
        f.session,
        "@10:20 obs music changed to the second playlist",
        &at(62),
    )
    .unwrap();
    f.log_at(70, "bp 132/84 hr 78 spo2 98 rr 14");
    f.log_at(71, "moaas 5");
    f.log_at(100, "bp 128/80 hr 72 spo2 98 rr 14 temp 36.8");
    f.log_at(108, "moaas 5");
    f.discharge_at(110);
    f.record_at(115, vec![Payload::PatientReady]);
    // Ended at T+115, five minutes before the 120-minute minimum: the reason is recorded.
    charting::end_session(
        &mut f.chart,
        &f.config,
        f.session,
        Vec::new(),
        Some("patient alert and steady, Aldrete 10; prescriber agreed to discharge at T+115"),
        &at(125),
    )
    .unwrap();

    let note = kapchart::app::course::open_note(&mut f.chart, &f.config, f.session, at(150))
        .unwrap()
        .note
        .id;
    // The clinician completes the pre-filled draft and signs it.
    let draft = f.chart.note(note).unwrap().draft.unwrap().text;
    let mut text: String = draft
        .lines()
        .filter(|l| !l.contains("DRAFT"))
        .map(|l| format!("{l}\n"))
        .collect();
    text.push_str("\nClinician's summary: tolerated the dose; BP settled by T+60.\n");
    f.chart
        .behind_the_door()
        .save_draft(note, &text, at(160))
        .unwrap();
    f.chart
        .behind_the_door()
        .sign_note(note, None, at(165))
        .unwrap();
    f.chart
        .behind_the_door()
        .add_addendum(note, ADDENDUM, at(24 * 60))
        .unwrap();
    f
}

fn exported() -> DateTime<FixedOffset> {
    at(25 * 60)
}

fn alerts(f: &Fixture) -> AlertThresholds {
    f.config.alerts.clone()
}

fn rules() -> MeasureRules {
    MeasureRules::default()
}

fn session_record(f: &Fixture) -> Record {
    session_record_from(&f.chart, &f.config, f.session, exported()).unwrap()
}

/// The id of the entry of `kind` charted at `minute`.
fn entry_at(f: &Fixture, minute: i64, kind: &str) -> EntryId {
    f.lines_now()
        .iter()
        .find(|l| l.entry.event_time == at(minute) && l.entry.payload.kind() == kind)
        .unwrap_or_else(|| panic!("no {kind} entry at minute {minute}"))
        .entry
        .id
}

fn record_line(f: &mut Fixture, session: i64, at: DateTime<FixedOffset>, line: &str) {
    let line = format!("{} {line}", at.format("@%H:%M"));
    charting::record_line(
        &mut f.chart,
        &f.config,
        session,
        &line,
        &(at + Duration::seconds(30)),
    )
    .unwrap_or_else(|e| panic!("{line}: {e}"));
}

fn start(
    f: &mut Fixture,
    kind: SessionKind,
    started: DateTime<FixedOffset>,
    dosing: Option<i64>,
) -> i64 {
    let patient = f.chart.session(f.session).unwrap().patient_id;
    f.chart
        .behind_the_door()
        .start_session(
            &NewSession {
                patient_id: patient,
                kind,
                started,
                intention: (kind == SessionKind::Dosing).then(|| "Rest in what is here".into()),
                dosing_session_id: dosing,
            },
            started,
        )
        .unwrap()
}

/// A course around the charted session: a plan, an intake a week before with baseline
/// questionnaires, an integration session two days after, and a second dosing session a
/// week after (in summer time, UTC+02:00 is not needed: same offset) with its own
/// questionnaires and an unsigned draft note.
fn course() -> (Fixture, i64) {
    let mut f = charted();
    let patient = f.chart.session(f.session).unwrap().patient_id;
    f.chart
        .behind_the_door()
        .start_course(
            patient,
            6,
            &[
                "Meet grief with less fear".to_string(),
                "Sleep through the night <most nights>".to_string(),
            ],
            at(-7 * 24 * 60 - 60),
        )
        .unwrap();

    let intake_at = at(-7 * 24 * 60);
    let intake = start(&mut f, SessionKind::Intake, intake_at, None);
    record_line(
        &mut f,
        intake,
        intake_at + Duration::minutes(5),
        "phq9 3 3 2 2 3 2 2 2 0",
    );
    record_line(
        &mut f,
        intake,
        intake_at + Duration::minutes(6),
        "gad7 3 2 2 2 2 2 1",
    );
    record_line(
        &mut f,
        intake,
        intake_at + Duration::minutes(8),
        "pcl5 3 3 2 2 3 3 2 2 2 3 3 2 2 3 3 3 2 2 3 2",
    );
    record_line(
        &mut f,
        intake,
        intake_at + Duration::minutes(20),
        "consent KAP course, risks and transport rules explained",
    );
    record_line(
        &mut f,
        intake,
        intake_at + Duration::minutes(30),
        "eligibility eligible no exclusions; BP controlled",
    );
    charting::end_session(
        &mut f.chart,
        &f.config,
        intake,
        Vec::new(),
        None,
        &(intake_at + Duration::minutes(55)),
    )
    .unwrap();

    let integration_at = at(2 * 24 * 60);
    let dosing = f.session;
    let integration = start(
        &mut f,
        SessionKind::Integration,
        integration_at,
        Some(dosing),
    );
    record_line(
        &mut f,
        integration,
        integration_at + Duration::minutes(5),
        "phq9 1 1 1 1 1 1 1 1 0",
    );
    record_line(
        &mut f,
        integration,
        integration_at + Duration::minutes(30),
        "obs grief feels \"less like a wall\" #insight",
    );
    charting::end_session(
        &mut f.chart,
        &f.config,
        integration,
        Vec::new(),
        None,
        &(integration_at + Duration::minutes(50)),
    )
    .unwrap();

    let second_at = at(7 * 24 * 60);
    let second = start(&mut f, SessionKind::Dosing, second_at, None);
    for (minute, line) in [
        (-5, "gad7 1 1 1 0 1 1 0"),
        (-4, "pcl5 1 2 1 0 2 1 1 0 1 1 2 1 0 1 1 2 0 1 1 1"),
        (-3, "phq9 1 1 1 0 1 1 0 0 0"),
        (0, "bp 128/80 hr 70 spo2 98 rr 14"),
        (5, "dose ketamine 0.75mg/kg IM"),
        (20, "bp 142/90 hr 88 spo2 97 rr 14"),
        (21, "moaas 3"),
        (35, "bp 150/94 hr 84 spo2 97 rr 13"),
        (65, "bp 130/82 hr 76 spo2 98 rr 14"),
    ] {
        record_line(
            &mut f,
            second,
            second_at + Duration::minutes(minute + 5),
            line,
        );
    }
    charting::end_session(
        &mut f.chart,
        &f.config,
        second,
        Vec::new(),
        Some("discharge items kept on the paper form that day"),
        &(second_at + Duration::minutes(130)),
    )
    .unwrap();
    kapchart::app::course::open_note(
        &mut f.chart,
        &f.config,
        second,
        second_at + Duration::hours(3),
    )
    .unwrap();
    (f, patient)
}

fn course_record(f: &Fixture, patient: i64) -> Record {
    course_record_from(&f.chart, &f.config, patient, at(8 * 24 * 60)).unwrap()
}

/// Compares `got` with the golden file `name`, or writes it when KAPCHART_UPDATE_GOLDEN=1.
fn golden(name: &str, got: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/report")
        .join(name);
    if std::env::var_os("KAPCHART_UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; write it with KAPCHART_UPDATE_GOLDEN=1 cargo test --test report",
            path.display()
        )
    });
    if got != want {
        let line = got
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .map_or(got.lines().count().min(want.lines().count()), |i| i);
        let new = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("report-{name}"));
        let _ = std::fs::write(&new, got);
        panic!(
            "the report differs from {} at line {} (what it is now: {}):\n  got:  {}\n  want: {}\n\
             If the change is intended, rewrite it with KAPCHART_UPDATE_GOLDEN=1 cargo test --test report",
            path.display(),
            line + 1,
            new.display(),
            got.lines().nth(line).unwrap_or("<end>"),
            want.lines().nth(line).unwrap_or("<end>")
        );
    }
}

// ---------------------------------------------------------------------------------------
// Golden files

#[test]
fn golden_session_html() {
    let f = charted();
    golden(
        "session.html",
        &mask_ed25519(
            &f.chart,
            &report::html(&session_record(&f), &alerts(&f), &rules()),
        ),
    );
}

#[test]
fn golden_session_markdown() {
    let f = charted();
    golden(
        "session.md",
        &mask_ed25519(&f.chart, &report::markdown(&session_record(&f), &rules())),
    );
}

#[test]
fn golden_session_csv() {
    let f = charted();
    golden("session.csv", &csv::vitals_csv(&session_record(&f)));
}

#[test]
fn golden_course_html() {
    let (f, patient) = course();
    golden(
        "course.html",
        &mask_ed25519(
            &f.chart,
            &report::html(&course_record(&f, patient), &alerts(&f), &rules()),
        ),
    );
}

#[test]
fn golden_course_markdown() {
    let (f, patient) = course();
    golden(
        "course.md",
        &mask_ed25519(
            &f.chart,
            &report::markdown(&course_record(&f, patient), &rules()),
        ),
    );
}

/// Every render of the fixture's session and course: (name, bytes). The Ed25519 signatures
/// and keys are masked: each chart makes its own keys.
fn every_render() -> Vec<(&'static str, String)> {
    let f = charted();
    let r = session_record(&f);
    let (c, patient) = course();
    let cr = course_record(&c, patient);
    vec![
        (
            "session.html",
            mask_ed25519(&f.chart, &report::html(&r, &alerts(&f), &rules())),
        ),
        (
            "session.md",
            mask_ed25519(&f.chart, &report::markdown(&r, &rules())),
        ),
        ("session.csv", csv::vitals_csv(&r)),
        (
            "course.html",
            mask_ed25519(&c.chart, &report::html(&cr, &alerts(&c), &rules())),
        ),
        (
            "course.md",
            mask_ed25519(&c.chart, &report::markdown(&cr, &rules())),
        ),
        ("course.csv", csv::vitals_csv(&cr)),
    ]
}

/// The same chart renders the same bytes in another process: a fresh chart file, fresh
/// hash seeds, a fresh allocator (and fresh signing keys, masked). The test runs itself again as a child (with
/// `KAPCHART_RENDER_TO` set, the child only writes its renders there).
#[test]
fn the_same_record_renders_the_same_bytes() {
    if let Some(dir) = std::env::var_os("KAPCHART_RENDER_TO") {
        for (name, text) in every_render() {
            std::fs::write(Path::new(&dir).join(name), text).unwrap();
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "the_same_record_renders_the_same_bytes"])
        .env("KAPCHART_RENDER_TO", dir.path())
        .output()
        .expect("run the test binary again");
    assert!(
        out.status.success(),
        "the child render failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    for (name, text) in every_render() {
        let other = std::fs::read_to_string(dir.path().join(name))
            .unwrap_or_else(|e| panic!("the child wrote no {name}: {e}"));
        assert!(other == text, "{name} differs between two processes");
    }
}

// ---------------------------------------------------------------------------------------
// HTML content

#[test]
fn html_has_the_patient_session_and_dose() {
    let f = charted();
    let html = report::html(&session_record(&f), &alerts(&f), &rules());
    for want in [
        "Alex Rivera",
        "DOB 12 Apr 1986 (age 40 at the session)",
        "MRN DEMO-1001",
        "Dosing 1",
        "Thu 26 Nov 2026",
        "09:55–12:05",
        "Dr. Mara Quinn",
        "To meet my grief with less fear",
        // The dose: time, T+, route, mg.
        "<td class=\"time\">10:10</td><td class=\"time\">T+0</td><td>ketamine</td>",
        "0.75 mg/kg × 70 kg",
        "<td>IM</td>",
        "<strong>52.5 mg</strong>",
        "exported at 2026-11-27 11:00 (UTC+01:00)",
    ] {
        assert!(html.contains(want), "missing {want:?}");
    }
}

#[test]
fn html_chart_draws_the_alert_levels() {
    let f = charted();
    let mut a = alerts(&f);
    a.systolic_at_or_above = 165;
    a.hr_below = 45;
    let html = report::html(&session_record(&f), &a, &rules());
    let svg = &html[html.find("<svg").unwrap()..html.find("</svg>").unwrap()];
    for want in [
        "alert systolic ≥ 165",
        "alert diastolic ≥ 100",
        "alert HR &gt; 120",
        "alert HR &lt; 45",
        "minutes after the first dose (10:10)",
        "stroke-dasharray=\"6 4\"",
        "164/98 !",
    ] {
        assert!(svg.contains(want), "chart lacks {want:?}");
    }
    // Four dashed alert lines (plus the legend's sample).
    assert_eq!(svg.matches("stroke-dasharray=\"6 4\"").count(), 5);
}

#[test]
fn html_flowsheet_marks_flagged_values_and_leaves_out_amended_originals() {
    let f = charted();
    let html = report::html(&session_record(&f), &alerts(&f), &rules());
    let table = &html[html.find("<table class=\"flowsheet\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    // The pre-dose caution, the high BP, the deep sedation: each with "!".
    assert!(
        table.contains("146/92 <span class=\"mark\">!</span>"),
        "{table}"
    );
    assert!(
        table.contains("164/98 <span class=\"mark\">!</span>"),
        "{table}"
    );
    assert!(table.contains("2 <span class=\"mark\">!</span>"), "{table}");
    // The SpO2 read as 91% was amended to 95%: only the correction is in the flowsheet.
    assert!(!table.contains("91%"), "{table}");
    assert!(table.contains(">95%<"), "{table}");
    assert!(table.contains(" †"), "the correction is marked: {table}");
    assert!(
        html.contains("<p class=\"legend\"><span class=\"mark\">!</span> flagged when charted")
    );
    // Rows run in time order, the baseline first.
    let first = table.find("10:00").unwrap();
    assert!(first < table.find("10:40").unwrap());
}

#[test]
fn html_timeline_strikes_and_labels_corrections() {
    let f = charted();
    let html = report::html(&session_record(&f), &alerts(&f), &rules());
    assert!(
        html.contains("<s>nausea, asked for a bucket</s>"),
        "struck text is struck through"
    );
    assert!(
        html.contains("struck: charted for the wrong patient"),
        "and labelled with its reason"
    );
    assert!(html.contains("strikes #"));
    assert!(html.contains("amended: replaced by #"));
    assert!(html.contains("reason: probe slipped; re-read"));
    assert!(html.contains("written 11:02, late"), "the late entry");
    assert!(html.contains("! BP 164/98 high (alert at &gt;= 160/100)"));
    // Event-time order: the late entry sits at 10:20, between the T+0 dose and T+15.
    let late = html.find("music changed").unwrap();
    assert!(html.find("Dose ketamine").unwrap() < late);
    assert!(late < html.find("BP 138/88").unwrap());
}

#[test]
fn html_escapes_what_was_typed() {
    let f = charted();
    let html = report::html(&session_record(&f), &alerts(&f), &rules());
    assert!(!html.contains("<script"), "a typed script tag is text");
    assert!(!html.contains("<b>map"), "typed markup is text");
    assert!(html.contains(
        "wrote &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; drew a &lt;b&gt;map&lt;/b&gt;"
    ));
    // The goal typed with angle brackets, in the course summary.
    let (f, patient) = course();
    let html = report::html(&course_record(&f, patient), &alerts(&f), &rules());
    assert!(html.contains("Sleep through the night &lt;most nights&gt;"));
    assert!(!html.contains("<script"));
}

#[test]
fn html_loads_nothing_from_anywhere() {
    let f = charted();
    let (c, patient) = course();
    for html in [
        report::html(&session_record(&f), &alerts(&f), &rules()),
        report::html(&course_record(&c, patient), &alerts(&c), &rules()),
    ] {
        let xmlns = html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count();
        assert!(xmlns >= 1);
        assert_eq!(
            html.matches("http://").count() + html.matches("https://").count(),
            xmlns,
            "the only URL is the SVG namespace"
        );
        for banned in [
            "<script", "<link", "<img", "<iframe", "@import", "url(", "src=",
        ] {
            assert!(!html.contains(banned), "{banned}");
        }
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("@page"));
        assert!(html.contains("@media print"));
        assert!(html.contains("break-inside: avoid"));
    }
}

#[test]
fn html_shows_discharge_and_the_signed_note_with_its_hashes() {
    let f = charted();
    let record = session_record(&f);
    let note = record.sessions[0].note.clone().unwrap();
    let sig = note.signature.clone().unwrap();
    let html = report::html(&record, &alerts(&f), &rules());
    for want in [
        "<strong>10/10</strong>",
        "activity 2 (moves 4 limbs)",
        "partner (Chris)",
        "12:05 (T+115)",
        // Ended five minutes before the 120-minute minimum: the reason is in the record.
        "12:05 (T+115); ended against a discharge reminder, reason: patient alert and steady",
        "<h3>Protocol checks</h3>",
        "<strong class=\"flagged\">done late (20 min)</strong>",
        "<strong class=\"flagged\">missed</strong>",
    ] {
        assert!(html.contains(want), "missing {want:?}");
    }
    assert!(html.contains(&format!("<code class=\"hash\">{}</code>", sig.sha256)));
    assert!(html.contains("Signed</strong> by Dr. Mara Quinn at 2026-11-26 12:45 (UTC+01:00)"));
    let addendum = &note.addenda[0];
    assert!(html.contains(&format!("<code class=\"hash\">{}</code>", addendum.sha256)));
    assert!(html.contains("Addendum 1 — Dr. Mara Quinn at 2026-11-27 10:00 (UTC+01:00)"));
    assert!(html.contains(ADDENDUM));
    // The signed text is there verbatim once unescaped: its SHA-256 can be checked.
    let pre = &html[html.find("<pre class=\"note\">").unwrap() + 18..];
    let pre = &pre[..pre.find("</pre>").unwrap()];
    let text = pre
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    assert_eq!(text, sig.text);
    assert!(!html.contains("DRAFT"));
}

#[test]
fn an_unsigned_note_is_marked_draft_and_its_text_left_out() {
    let mut f = dosing_session(46);
    let note = kapchart::app::course::open_note(&mut f.chart, &f.config, f.session, at(60))
        .unwrap()
        .note;
    f.chart
        .behind_the_door()
        .save_draft(note.id, "A sentence only the draft has.", at(61))
        .unwrap();
    let record = session_record(&f);
    let html = report::html(&record, &alerts(&f), &rules());
    assert!(html.contains("DRAFT — not signed"));
    assert!(html.contains("draft text is left out"));
    assert!(!html.contains("<pre class=\"note\">"));
    let md = report::markdown(&record, &rules());
    assert!(md.contains("**DRAFT — not signed.**"));
    assert!(!md.contains("```text"));
    assert!(!md.contains("a sentence only the draft has"));
    assert!(!html.contains("a sentence only the draft has"));
}

#[test]
fn course_html_starts_with_the_summary() {
    let (f, patient) = course();
    let html = report::html(&course_record(&f, patient), &alerts(&f), &rules());
    let summary = &html[..html.find("<section class=\"sheet session\"").unwrap()];
    for want in [
        "KAP course summary: Alex Rivera",
        "2 of 6 planned dosing sessions done",
        "Meet grief with less fear",
        // The trend chart: one panel per measure, totals labelled, band boundaries dashed.
        "PHQ-9 (total 0-27)",
        "GAD-7 (total 0-21)",
        "PCL-5 (total 0-80)",
        "moderately severe ≥ 15",
        ">at or above provisional</text>",
        ">cut-off ≥ 33</text>",
        ">D1</text>",
        ">D2</text>",
        // The measures table with change from baseline.
        "<td>PHQ-9</td><td class=\"num\">19 (19 Nov 2026)</td><td class=\"num\">5 (3 Dec 2026)</td><td class=\"num\"><strong>-14</strong></td>",
        "clinically meaningful",
        "! item 9 answered 1",
        "briefly below",
    ] {
        assert!(summary.contains(want), "summary lacks {want:?}");
    }
    let svg = &summary[summary.find("<svg").unwrap()..];
    assert!(
        svg.contains(">19</text>") && svg.contains(">14</text>"),
        "points labelled with totals"
    );
    assert_eq!(
        html.matches("<section class=\"sheet session\"").count(),
        2,
        "two dosing sessions in full"
    );
    assert!(html.contains("Other sessions"));
    assert!(html.contains("Eligibility (clinician&#39;s decision): eligible"));
    assert!(
        html.contains("DRAFT — not signed"),
        "the second dosing note is a draft"
    );
    // Each section carries the patient and the session.
    assert_eq!(html.matches("<div class=\"sheet-head\">").count(), 4);
}

// ---------------------------------------------------------------------------------------
// Markdown

#[test]
fn markdown_has_tables_the_timeline_and_the_note() {
    let f = charted();
    let record = session_record(&f);
    let sig = record.sessions[0].note.clone().unwrap().signature.unwrap();
    let md = report::markdown(&record, &rules());
    for want in [
        "# KAP dosing 1 record: Alex Rivera, 26 Nov 2026",
        "| Time | T+ | BP | HR | SpO2 | RR | Temp °C | MOAA/S | Entry |",
        "| 10:40 | T+30 | **164/98 !** | 96 | 95% | 12 | – | **2 !** |",
        "~~nausea, asked for a bucket~~",
        "**struck: charted for the wrong patient",
        "**Signed** by Dr. Mara Quinn",
        "#### Addendum 1 — Dr. Mara Quinn",
        ADDENDUM,
        "- Modified Aldrete: **10/10**",
        "\\<script\\>alert('x')\\</script\\> \\& drew a \\<b\\>map\\</b\\>",
    ] {
        assert!(md.contains(want), "missing {want:?}");
    }
    assert!(md.contains(&format!("`{}`", sig.sha256)));
    // The signed text is fenced verbatim.
    assert!(md.contains(&format!("```text\n{}", sig.text)));
    assert!(!md.contains("<svg"));
    // Outside the fenced (verbatim, never rendered) note, a typed tag is escaped.
    let outside: String = md.split("```").step_by(2).collect::<Vec<_>>().concat();
    assert!(
        outside
            .match_indices('<')
            .all(|(i, _)| outside[..i].ends_with('\\')),
        "every < outside the note is escaped"
    );
    assert!(md.contains("```text\n"));
}

#[test]
fn course_markdown_has_the_measures_with_change() {
    let (f, patient) = course();
    let md = report::markdown(&course_record(&f, patient), &rules());
    for want in [
        "## Course summary",
        "2 of 6 planned dosing sessions done",
        "| PHQ-9 | 19 (19 Nov 2026) | 5 (3 Dec 2026) | **-14** |",
        "| Date | Measure | Total | Band | Change from baseline | Note |",
        "## Other sessions",
        "Sleep through the night \\<most nights\\>",
    ] {
        assert!(md.contains(want), "missing {want:?}");
    }
}

// ---------------------------------------------------------------------------------------
// CSV

/// Splits CSV per RFC 4180: quoted fields may hold commas, doubled quotes and line breaks.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "CR without LF");
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\n') => panic!("a bare LF ends a row"),
            (false, c) => field.push(c),
        }
    }
    assert!(
        field.is_empty() && row.is_empty(),
        "the last row ends with CRLF"
    );
    rows
}

#[test]
fn csv_has_one_row_per_reading_that_stands() {
    let f = charted();
    let text = csv::vitals_csv(&session_record(&f));
    assert!(!text.starts_with('\u{feff}'), "no BOM");
    let rows = parse_csv(&text);
    assert_eq!(
        rows[0],
        [
            "session",
            "event_time",
            "recorded_time",
            "t_plus_min",
            "systolic",
            "diastolic",
            "hr",
            "spo2",
            "rr",
            "temp_c",
            "moaas",
            "flags",
            "author",
            "entry_id",
            "cadss6",
            "resp",
            "moaas_entry_id"
        ]
    );
    assert!(rows.iter().all(|r| r.len() == 17), "{rows:?}");
    // The protocol's lapses have rows of their own, at their due times, with no values:
    // the T+40 BP closed 20 minutes late by the T+60 reading, and T+45 missed.
    let lapses: Vec<&Vec<String>> = rows[1..].iter().filter(|r| r[2].is_empty()).collect();
    assert_eq!(lapses.len(), 2, "{lapses:?}");
    assert_eq!(lapses[0][1], "2026-11-26T10:50:00+01:00");
    assert_eq!(lapses[0][3], "40");
    assert_eq!(
        lapses[0][11],
        "Protocol check done late: BP T+40 (10:50), 20 min late"
    );
    assert!(!lapses[0][13].is_empty(), "the entry that closed it");
    assert_eq!(lapses[1][11], "Protocol check missed: vitals T+45 (10:55)");
    assert_eq!(lapses[1][13], "");
    assert!(lapses.iter().all(|r| r[4..11].iter().all(String::is_empty)));
    let body: Vec<&Vec<String>> = rows[1..].iter().filter(|r| !r[2].is_empty()).collect();
    // Baseline, T+15, T+30 (the correction), T+60, T+90, and the lone MOAA/S at T+98.
    let times: Vec<&str> = body.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(
        times,
        [
            "2026-11-26T10:00:00+01:00",
            "2026-11-26T10:25:00+01:00",
            "2026-11-26T10:40:00+01:00",
            "2026-11-26T11:10:00+01:00",
            "2026-11-26T11:40:00+01:00",
            "2026-11-26T11:48:00+01:00",
        ]
    );
    let baseline = &body[0];
    assert_eq!(baseline[0], f.session.to_string());
    assert_eq!(baseline[2], "2026-11-26T10:00:30+01:00");
    assert_eq!(
        baseline[3], "-10",
        "minutes before the dose are negative, as a number"
    );
    assert_eq!(
        &baseline[4..11],
        ["146", "92", "80", "98", "14", "36.7", "5"]
    );
    assert!(baseline[11].contains("before dosing"), "{}", baseline[11]);
    assert_eq!(baseline[12], "Dr. Mara Quinn");
    let corrected = &body[2];
    assert_eq!(
        &corrected[3..11],
        ["30", "164", "98", "96", "95", "12", "", "2"]
    );
    assert!(corrected[11].contains("BP 164/98 high") && corrected[11].contains("MOAA/S 2"));
    assert!(
        !corrected[11].contains("SpO2"),
        "the amended reading is no longer low"
    );
    assert_eq!(corrected[2], "2026-11-26T10:46:00+01:00");
    // The MOAA/S 2 charted a minute after the reading joined its row: its own entry is kept.
    assert!(
        !corrected[16].is_empty() && corrected[16] != corrected[13],
        "{corrected:?}"
    );
    let lone = &body[5];
    assert_eq!(&lone[4..11], ["", "", "", "", "", "", "5"]);
    // No amended or struck reading: the 91% is gone.
    assert!(!text.contains(",91,"));
}

#[test]
fn csv_quotes_text_and_defuses_formulas() {
    let f = charted();
    let mut record = session_record(&f);
    for l in &mut record.sessions[0].lines {
        if l.entry.event_time == at(0) {
            l.entry.author = "Quinn, \"Mara\" MD".into();
        }
        if l.entry.event_time == at(70) {
            l.entry.author = "=HYPERLINK(\"http://x\",\"y\")".into();
        }
        if l.entry.event_time == at(100) {
            l.entry.author = "-Lee".into();
        }
    }
    let text = csv::vitals_csv(&record);
    assert!(text.contains(",\"Quinn, \"\"Mara\"\" MD\","), "{text}");
    assert!(
        text.contains(",\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\","),
        "{text}"
    );
    assert!(text.contains(",'-Lee,"), "{text}");
    let rows: Vec<Vec<String>> = parse_csv(&text)
        .into_iter()
        .filter(|r| !r[2].is_empty())
        .collect();
    assert!(rows.iter().all(|r| r.len() == 17));
    assert_eq!(rows[1][12], "Quinn, \"Mara\" MD");
    assert_eq!(rows[4][12], "'=HYPERLINK(\"http://x\",\"y\")");
    assert_eq!(rows[5][12], "'-Lee");
    // Numbers are never prefixed.
    assert_eq!(rows[1][3], "-10");
}

#[test]
fn course_csv_runs_session_by_session() {
    let (f, patient) = course();
    let rows = parse_csv(&csv::vitals_csv(&course_record(&f, patient)));
    // Readings only (lapse rows have no recorded time).
    let sessions: Vec<&str> = rows[1..]
        .iter()
        .filter(|r| !r[2].is_empty())
        .map(|r| r[0].as_str())
        .collect();
    let first = f.session.to_string();
    assert_eq!(sessions.iter().filter(|s| **s == first).count(), 6);
    assert_eq!(sessions.len(), 10, "{rows:?}");
    assert!(sessions.windows(2).all(|w| w[0] <= w[1] || w[0] == first));
}

// ---------------------------------------------------------------------------------------
// Printing

fn chromium() -> PathBuf {
    for candidate in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(candidate).exists() {
            return PathBuf::from(candidate);
        }
    }
    panic!(
        "Chromium is needed to check that the report prints: install it with \
         `apt-get install -y chromium poppler-utils fonts-dejavu-core`, or run the suite \
         with `bash .ci/test`"
    );
}

/// Prints `html` to PDF with headless Chromium; returns the PDF's bytes.
fn print_to_pdf(dir: &Path, name: &str, html: &str) -> Vec<u8> {
    let input = dir.join(format!("{name}.html"));
    let output = dir.join(format!("{name}.pdf"));
    let profile = dir.join(format!("{name}-profile"));
    std::fs::write(&input, html).unwrap();
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--print-to-pdf={}", output.display()))
        .arg(format!("file://{}", input.display()))
        .output()
        .expect("run chromium");
    let pdf = std::fs::read(&output).unwrap_or_else(|e| {
        panic!(
            "chromium wrote no PDF ({e}); exit {:?}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(pdf.starts_with(b"%PDF"), "{name}: not a PDF");
    assert!(
        pdf.len() > 20_000,
        "{name}: a {} byte PDF is too small",
        pdf.len()
    );
    pdf
}

/// pdfinfo's "Pages" and "Page size" lines. A missing pdfinfo fails the test with the
/// install hint: the page checks are never skipped.
fn pdf_info(path: &Path) -> (u32, String) {
    let out = Command::new("pdfinfo")
        .arg(path)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "pdfinfo is needed to check the printed pages ({e}): install it with \
             `apt-get install -y poppler-utils`, or run the suite with `bash .ci/test`"
            )
        });
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "pdfinfo {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let pages = text
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("pdfinfo gave no page count:\n{text}"));
    let size = text
        .lines()
        .find_map(|l| l.strip_prefix("Page size:"))
        .unwrap_or_else(|| panic!("pdfinfo gave no page size:\n{text}"))
        .trim()
        .to_string();
    (pages, size)
}

/// The report with its paper size fixed, as a browser's print dialog would choose it.
fn on_paper(html: &str, size: &str) -> String {
    html.replacen(
        "</style>",
        &format!("@page {{ size: {size}; }}\n</style>"),
        1,
    )
}

#[test]
fn the_report_prints_to_pdf_with_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let f = charted();
    let session = report::html(&session_record(&f), &alerts(&f), &rules());
    let (c, patient) = course();
    let course = report::html(&course_record(&c, patient), &alerts(&c), &rules());
    for (name, html, size, points) in [
        ("session-a4", on_paper(&session, "A4"), "A4", (595.0, 842.0)),
        (
            "session-letter",
            on_paper(&session, "letter"),
            "letter",
            (612.0, 792.0),
        ),
        ("course-a4", on_paper(&course, "A4"), "A4", (595.0, 842.0)),
        (
            "course-letter",
            on_paper(&course, "letter"),
            "letter",
            (612.0, 792.0),
        ),
    ] {
        print_to_pdf(dir.path(), name, &html);
        let (pages, page_size) = pdf_info(&dir.path().join(format!("{name}.pdf")));
        assert!(pages > 0, "{name}: no pages");
        let got: Vec<f64> = page_size
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        assert!(
            got.len() == 2 && (got[0] - points.0).abs() < 3.0 && (got[1] - points.1).abs() < 3.0,
            "{name}: printed on {page_size}, not {size}"
        );
        if name.starts_with("session") {
            assert!((2..=5).contains(&pages), "{name}: {pages} pages");
        }
    }
}

#[test]
fn a_session_without_a_dose_charts_from_its_start() {
    // Baseline only: no dose yet.
    let f = dosing_session(5);
    let record = session_record(&f);
    let html = report::html(&record, &alerts(&f), &rules());
    assert!(html.contains("minutes after the start (09:55); no dose charted"));
    assert!(html.contains("No dose charted."));
    assert!(html.contains("No integration note yet."));
    assert!(html.contains("not ended"));
    let rows = parse_csv(&csv::vitals_csv(&record));
    assert_eq!(rows[1][3], "", "no T+ without a dose");
    let md = report::markdown(&record, &rules());
    assert!(md.contains("No dose charted."));
}

#[test]
fn an_empty_record_still_renders() {
    let f = dosing_session(0);
    let mut record = session_record(&f);
    record.sessions.clear();
    record.measures.clear();
    let html = report::html(&record, &alerts(&f), &rules());
    assert!(html.contains("No sessions."));
    assert!(html.ends_with("</html>\n"));
    assert!(report::markdown(&record, &rules()).contains("No sessions."));
    assert_eq!(
        csv::vitals_csv(&record),
        "session,event_time,recorded_time,t_plus_min,systolic,diastolic,hr,spo2,rr,temp_c,moaas,flags,author,entry_id,cadss6,resp,moaas_entry_id\r\n"
    );
}
