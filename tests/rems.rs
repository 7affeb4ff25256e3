//! The Spravato REMS Patient Monitoring Form through the real binary: built from a charted
//! esketamine session (`rems show`), printed on one page (`export --format rems-html`), and
//! its 7-day deadline queue (`rems list`, `rems submitted`) against an injected day.

mod common;

use common::fhir_validator::validate_fhir;

use chrono::{Days, NaiveDate};
use common::{Home, PASSPHRASE, clock_on};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const CLINIC: &str = "[rems]
provider_name = \"Dr. Test\"
provider_phone = \"+1 555 0100\"
provider_email = \"rems@clinic.example\"
setting_name = \"Test Clinic\"
setting_address = \"1 Main St, Springfield\"
";

fn log(home: &Home, session: &str, line: &str) {
    home.ok(&["log", "--session", session, line]);
}

fn clinic_config(home: &Home) {
    home.configure(CLINIC);
}

/// A whole esketamine session, charted as at the bedside: baseline, two devices with their
/// lot, BPs (T+40 among them), MOAA/S, CADSS-6, respiratory status, ready to leave at T+85,
/// and the discharge; ended at T+145.
fn full_session(home: &Home, session: &str) {
    for line in [
        "@-150m bp 128/82 hr 74 spo2 98 rr 14 resp ok",
        "@-145m dose esketamine 28mg IN lot ABC123",
        "@-140m dose esketamine 28mg IN lot ABC123",
        "@-130m bp 135/85 hr 80",
        "@-115m bp 138/88 moaas 4 cadss 1 0 2 0 1 0",
        "@-105m bp 150/92 hr 82 spo2 96",
        "@-100m resp ok",
        "@-85m bp 140/90",
        "@-60m ready-to-leave",
        "@-55m bp 130/84 spo2 97 rr 14",
        "@-30m bp 126/80 hr 72 moaas 5 cadss 0 0 0 0 0 0 resp ok",
        "@-25m bp 124/80 hr 70",
        "@-5m bp 124/78 hr 70",
    ] {
        log(home, session, line);
    }
}

fn end(home: &Home, session: &str) {
    // Aldrete and the ride are charted in the discharge panel; here the end's reason covers
    // them (the REMS form does not ask for either).
    home.ok(&[
        "session",
        "end",
        session,
        "--reason",
        "discharge charted on paper",
    ]);
}

fn show(home: &Home, session: &str) -> Value {
    serde_json::from_str(&home.ok(&["rems", "show", "--session", session, "--json"])).unwrap()
}

fn field<'a>(form: &'a Value, key: &str) -> &'a Value {
    form["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == key)
        .unwrap_or_else(|| panic!("no field {key} in {form}"))
}

fn text(form: &Value, key: &str) -> String {
    field(form, key)["text"]
        .as_str()
        .unwrap_or_else(|| panic!("{key} has no answer: {}", field(form, key)))
        .to_string()
}

#[test]
fn a_full_esketamine_session_answers_every_field_of_the_form() {
    let home = Home::new();
    clinic_config(&home);
    let (patient, session) = home.with_dosing_session();
    home.ok(&[
        "patient",
        "update",
        &patient,
        "--sex",
        "female",
        "--med-add",
        "clonazepam 0.5 mg",
        "--med-add",
        "sertraline 100 mg",
    ]);
    full_session(&home, &session);
    end(&home, &session);

    let form = show(&home, &session);
    assert_eq!(form["missing"], serde_json::json!([]), "{form:#}");
    let fields = form["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 27);
    assert!(fields.iter().all(|f| !f["value"].is_null()), "{form:#}");
    assert_eq!(text(&form, "patient_name"), "Test Patient");
    assert_eq!(text(&form, "patient_dob"), "1980-05-17");
    assert_eq!(text(&form, "patient_sex"), "female");
    assert_eq!(field(&form, "first_treatment")["value"], true);
    assert_eq!(field(&form, "benzodiazepines")["value"], true);
    for key in ["sedative_hypnotics", "psychostimulants", "maois", "opioids"] {
        assert_eq!(field(&form, key)["value"], false, "{key}");
    }
    assert_eq!(text(&form, "provider_phone"), "+1 555 0100");
    assert_eq!(text(&form, "setting_address"), "1 Main St, Springfield");
    assert_eq!(text(&form, "dose"), "56 mg (2 devices)");
    assert_eq!(text(&form, "lot"), "ABC123");
    // From the first device (T+0, 145 min ago) to the end; ready at T+85.
    assert_eq!(field(&form, "total_minutes")["value"], 145);
    assert_eq!(field(&form, "ready_minutes")["value"], 85);
    assert_eq!(field(&form, "vitals_in_range_before")["value"], true);
    assert_eq!(field(&form, "vitals_in_range_end")["value"], true);
    assert_eq!(field(&form, "bp_before")["value"]["systolic"], 128);
    assert_eq!(field(&form, "bp_before")["value"]["t_plus_min"], -5);
    // The reading that closed the T+40 check.
    assert_eq!(field(&form, "bp_at_40")["value"]["systolic"], 150);
    assert_eq!(field(&form, "bp_at_40")["value"]["t_plus_min"], 40);
    assert_eq!(field(&form, "bp_end")["value"]["systolic"], 124);
    assert_eq!(field(&form, "bp_end")["value"]["diastolic"], 78);
    assert_eq!(field(&form, "sedation")["value"], true);
    assert_eq!(field(&form, "dissociation")["value"], true);
    assert_eq!(field(&form, "respiratory_depression")["value"], false);
    let treated: NaiveDate = serde_json::from_value(form["treatment_date"].clone()).unwrap();
    assert_eq!(
        form["deadline"],
        serde_json::json!(treated.checked_add_days(Days::new(7)).unwrap())
    );

    // The REMS checks were met: `session checks` lists them done.
    let checks: Value =
        serde_json::from_str(&home.ok(&["session", "checks", &session, "--json"])).unwrap();
    let rems_checks: Vec<&Value> = checks["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["t_plus_min"] == 120 && c["check"] != "vitals")
        .collect();
    assert_eq!(rems_checks.len(), 4, "{checks:#}");
    assert!(
        rems_checks.iter().all(|c| c["state"] == "done"),
        "{checks:#}"
    );

    // A second treatment for the same patient is not the first.
    let second = home.ok(&[
        "session",
        "start",
        "--patient",
        &patient,
        "--kind",
        "dosing",
    ]);
    log(&home, &second, "@-10m bp 120/80");
    log(&home, &second, "dose esketamine 84mg IN lot XYZ9");
    let form2 = show(&home, &second);
    assert_eq!(field(&form2, "first_treatment")["value"], false);
    assert_eq!(text(&form2, "dose"), "84 mg (3 devices)");

    // The FHIR export of the session validates, with the submission entry once charted.
    let today = treated.to_string();
    home.ok(&[
        "rems",
        "submitted",
        "--session",
        &session,
        "--on",
        &today,
        "--ref",
        "R-77",
    ]);
    let fhir = home.ok(&["export", "--session", &session, "--format", "fhir"]);
    validate_fhir(&fhir);
    // The submission is a Communication to the REMS program, with its date and reference.
    let bundle: Value = serde_json::from_str(&fhir).unwrap();
    let sent = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["resourceType"] == "Communication")
        .unwrap_or_else(|| panic!("no Communication: {fhir}"));
    assert_eq!(sent["status"], "completed");
    assert_eq!(sent["sent"], today);
    assert_eq!(sent["identifier"][0]["value"], "R-77");
    assert!(
        sent["payload"][0]["contentString"]
            .as_str()
            .unwrap()
            .contains("Spravato REMS Patient Monitoring Form"),
        "{sent}"
    );
}

#[test]
fn a_field_the_record_cannot_answer_is_listed_as_missing_with_what_would_answer_it() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    // No lot on the second device, no CADSS-6, no ready-to-leave, no BP near T+40; the
    // session still open.
    log(&home, &session, "@-60m bp 128/82 hr 74");
    log(&home, &session, "@-50m dose esketamine 28mg IN lot ABC123");
    log(&home, &session, "@-45m dose esketamine 28mg IN");
    log(&home, &session, "@-30m moaas 5 resp ok");
    let form = show(&home, &session);
    let missing: Vec<(String, String)> = form["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["key"].as_str().unwrap().to_string(),
                m["why"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let why = |key: &str| {
        missing
            .iter()
            .find(|(k, _)| k == key)
            .unwrap_or_else(|| panic!("{key} not missing: {missing:?}"))
            .1
            .clone()
    };
    assert!(why("patient_sex").contains("--sex"), "{missing:?}");
    assert!(why("benzodiazepines").contains("--med-add"));
    assert!(why("provider_phone").contains("provider_phone in the [rems] table"));
    assert!(why("lot").contains("no lot charted on the esketamine dose"));
    assert!(why("total_minutes").contains("has not ended"));
    assert!(why("ready_minutes").contains("ready-to-leave"));
    assert!(why("bp_at_40").contains("no BP charted within 10 min of T+40"));
    assert!(why("dissociation").contains("no CADSS-6 charted after the first device"));
    // What the record holds is answered; nothing is guessed.
    assert_eq!(field(&form, "sedation")["value"], false);
    assert_eq!(field(&form, "respiratory_depression")["value"], false);
    assert!(field(&form, "lot")["value"].is_null());
    assert_eq!(form["state"], "to-do");
    let text = home.ok(&["rems", "show", "--session", &session]);
    assert!(
        text.contains("Lot number") && text.contains("MISSING"),
        "{text}"
    );
    assert!(
        text.contains("- Dissociation: no CADSS-6 charted"),
        "{text}"
    );

    // The printable form marks each missing field.
    let html = home.ok(&["export", "--session", &session, "--format", "rems-html"]);
    assert!(
        html.matches("<td class=\"missing\">").count() == missing.len(),
        "{html}"
    );
}

#[test]
fn only_an_esketamine_dosing_session_has_a_form() {
    let home = Home::new();
    let (patient, session) = home.with_dosing_session();
    log(&home, &session, "@-20m dose ketamine 35mg IM");
    let err = home.fails(&["rems", "show", "--session", &session], 1);
    assert!(err.contains("has no esketamine dose charted"), "{err}");
    let intake = home.ok(&[
        "session",
        "start",
        "--patient",
        &patient,
        "--kind",
        "intake",
    ]);
    let err = home.fails(&["rems", "show", "--session", &intake, "--json"], 1);
    assert!(err.contains("is not a dosing session"), "{err}");
    let err = home.fails(&["rems", "show", "--session", "999"], 1);
    assert!(err.contains("999"), "{err}");
    let err = home.fails(
        &["export", "--session", &intake, "--format", "rems-html"],
        1,
    );
    assert!(err.contains("is not a dosing session"), "{err}");
    assert!(
        home.ok(&["rems", "list"])
            .contains("no esketamine dosing sessions")
    );
}

fn list_on(home: &Home, day: NaiveDate) -> Value {
    let out = home
        .cmd(&["rems", "list", "--json"])
        .envs([clock_on(day)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn state_of(list: &Value, session: &str) -> (String, String) {
    let row = list["forms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["session"].as_i64().map(|s| s.to_string()).as_deref() == Some(session))
        .unwrap_or_else(|| panic!("session {session} not in {list:#}"));
    (
        row["state"].as_str().unwrap().to_string(),
        row["state_text"].as_str().unwrap().to_string(),
    )
}

#[test]
fn the_deadline_queue_says_due_overdue_and_submitted_from_an_injected_day() {
    let home = Home::new();
    let (patient, first) = home.with_dosing_session();
    full_session(&home, &first);
    end(&home, &first);
    let treated: NaiveDate =
        serde_json::from_value(show(&home, &first)["treatment_date"].clone()).unwrap();
    let day = |n: u64| treated.checked_add_days(Days::new(n)).unwrap();
    let second = home.ok(&[
        "session",
        "start",
        "--patient",
        &patient,
        "--kind",
        "dosing",
    ]);
    log(&home, &second, "@-5m dose esketamine 56mg IN lot ABC123");

    let on3 = list_on(&home, day(3));
    assert_eq!(on3["today"], day(3).to_string());
    assert_eq!(
        state_of(&on3, &first),
        ("due".into(), format!("due by {}", day(7)))
    );
    assert_eq!(
        state_of(&on3, &second),
        ("to-do".into(), "to do (session open)".into())
    );
    // The seventh day is the last; the eighth is overdue.
    assert_eq!(state_of(&list_on(&home, day(7)), &first).0, "due");
    assert_eq!(
        state_of(&list_on(&home, day(8)), &first),
        ("overdue".into(), format!("overdue since {}", day(8)))
    );

    // Recording the submission: not while open, not before the treatment, not after today.
    let submit = |args: &[&str], today: NaiveDate| {
        let mut all = vec!["rems", "submitted"];
        all.extend_from_slice(args);
        home.cmd(&all).envs([clock_on(today)]).output().unwrap()
    };
    let err = |o: std::process::Output| {
        let stderr = String::from_utf8_lossy(&o.stderr).to_string();
        assert_eq!(o.status.code(), Some(1), "{stderr}");
        stderr
    };
    let open = err(submit(
        &["--session", &second, "--on", &day(1).to_string()],
        day(1),
    ));
    assert!(open.contains("has not ended"), "{open}");
    let before = treated.pred_opt().unwrap().to_string();
    let e = err(submit(&["--session", &first, "--on", &before], day(9)));
    assert!(e.contains("is before the treatment"), "{e}");
    let e = err(submit(
        &["--session", &first, "--on", &day(10).to_string()],
        day(9),
    ));
    assert!(e.contains("is after today"), "{e}");
    // A date that is not one is a usage error naming the format.
    let e = home.fails(
        &[
            "rems",
            "submitted",
            "--session",
            &first,
            "--on",
            "yesterday",
        ],
        2,
    );
    assert!(e.contains("expected YYYY-MM-DD"), "{e}");

    let checks_before = home.ok(&["session", "checks", &first, "--json"]);
    let ok = submit(
        &[
            "--session",
            &first,
            "--on",
            &day(9).to_string(),
            "--ref",
            "RX-1",
        ],
        day(9),
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let entry = String::from_utf8_lossy(&ok.stdout).trim().to_string();
    assert_eq!(
        state_of(&list_on(&home, day(30)), &first),
        (
            "submitted".into(),
            format!("submitted on {} (ref RX-1)", day(9))
        )
    );

    // A second submission is refused, naming the first; as a correction with a reason it is
    // a new entry amending the first, which stays.
    let e = err(submit(
        &["--session", &first, "--on", &day(8).to_string()],
        day(9),
    ));
    assert!(
        e.contains("already recorded as submitted") && e.contains(&entry),
        "{e}"
    );
    let e = err(submit(
        &[
            "--session",
            &second,
            "--on",
            &day(0).to_string(),
            "--reason",
            "x",
        ],
        day(0),
    ));
    assert!(e.contains("has not ended"), "{e}");
    let fix = submit(
        &[
            "--session",
            &first,
            "--on",
            &day(8).to_string(),
            "--ref",
            "RX-2",
            "--reason",
            "the fax receipt says the 8th",
        ],
        day(9),
    );
    assert!(
        fix.status.success(),
        "{}",
        String::from_utf8_lossy(&fix.stderr)
    );
    let entries = home.show_json(&first)["entries"]
        .as_array()
        .unwrap()
        .clone();
    let subs: Vec<&Value> = entries
        .iter()
        .filter(|e| e["kind"] == "rems-submitted")
        .collect();
    assert_eq!(subs.len(), 2);
    assert_eq!(subs[1]["corrects"].to_string(), entry);
    assert_eq!(subs[1]["reason"], "the fax receipt says the 8th");
    assert_eq!(
        state_of(&list_on(&home, day(30)), &first).1,
        format!("submitted on {} (ref RX-2)", day(8))
    );
    // The entries charted after the end did not disturb the session's checks.
    assert_eq!(
        home.ok(&["session", "checks", &first, "--json"]),
        checks_before
    );

    // An inpatient clinic is exempt: nothing listed.
    home.configure("[rems]\noutpatient = false\n");
    assert_eq!(list_on(&home, day(3))["forms"], serde_json::json!([]));
    assert!(
        home.ok(&["rems", "list"])
            .contains("inpatient settings are exempt")
    );
}

#[test]
fn the_count_of_forms_due_is_one_statement_on_the_rems_indexes() {
    let home = Home::new();
    let (_, first) = home.with_dosing_session();
    full_session(&home, &first);
    end(&home, &first);
    let chart = kapchart::store::Chart::open(&home.chart(), PASSPHRASE, 2000).unwrap();
    let drugs = vec!["esketamine".to_string()];
    let due = chart.rems_outstanding(&drugs).unwrap();
    assert_eq!(due.count, 1);
    let plan = chart
        .rems_outstanding_plan(
            &drugs,
            kapchart::store::RemsScan::ReadingOnlyOutstandingDoses,
        )
        .unwrap()
        .join("\n");
    assert!(plan.contains("entries_dose_drug"), "{plan}");
    assert!(plan.contains("entries_rems_submitted"), "{plan}");
    assert!(
        !plan
            .lines()
            .any(|l| l.trim() == "SCAN d" || l.trim() == "SCAN r" || l.contains("SCAN entries")),
        "{plan}"
    );
    drop(chart);
    let treated = show(&home, &first)["treatment_date"]
        .as_str()
        .unwrap()
        .to_string();
    home.ok(&["rems", "submitted", "--session", &first, "--on", &treated]);
    let chart = kapchart::store::Chart::open(&home.chart(), PASSPHRASE, 2000).unwrap();
    assert_eq!(chart.rems_outstanding(&drugs).unwrap().count, 0);
}

// ---------------------------------------------------------------------------------------
// Printing and FHIR (as tests/report.rs and tests/spravato.rs do)

fn chromium() -> PathBuf {
    for candidate in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(candidate).exists() {
            return PathBuf::from(candidate);
        }
    }
    panic!(
        "Chromium is needed to check that the form prints: install it with \
         `apt-get install -y chromium poppler-utils fonts-dejavu-core`, or run the suite \
         with `bash .ci/test`"
    );
}

fn pages(dir: &Path, name: &str, html: &str) -> u32 {
    let input = dir.join(format!("{name}.html"));
    let output = dir.join(format!("{name}.pdf"));
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
        .arg(format!(
            "--user-data-dir={}",
            dir.join(format!("{name}-profile")).display()
        ))
        .arg(format!("--print-to-pdf={}", output.display()))
        .arg(format!("file://{}", input.display()))
        .output()
        .expect("run chromium");
    assert!(
        output.exists(),
        "chromium wrote no PDF: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info = Command::new("pdfinfo")
        .arg(&output)
        .output()
        .unwrap_or_else(|e| {
            panic!("pdfinfo is needed ({e}): apt-get install -y poppler-utils, or bash .ci/test")
        });
    let text = String::from_utf8_lossy(&info.stdout).to_string();
    text.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("pdfinfo gave no page count:\n{text}"))
}

#[test]
fn the_form_prints_on_one_page_with_the_deadline_and_its_missing_marks() {
    let home = Home::new();
    let (patient, session) = home.with_dosing_session();
    home.ok(&[
        "patient",
        "update",
        &patient,
        "--sex",
        "male",
        "--med-add",
        "none",
    ]);
    full_session(&home, &session);
    end(&home, &session);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("form.html");
    let said = home.ok(&[
        "export",
        "--session",
        &session,
        "--format",
        "rems-html",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(
        said.contains("wrote") && said.contains("audit head"),
        "{said}"
    );
    let html = std::fs::read_to_string(&file).unwrap();
    let form = show(&home, &session);
    assert!(
        html.contains(&format!("Submit by {}", form["deadline"].as_str().unwrap())),
        "{html}"
    );
    // No provider or setting configured: five visible MISSING marks, and the count.
    assert_eq!(
        html.matches("<strong>MISSING</strong>").count(),
        5,
        "{html}"
    );
    assert!(html.contains("5 fields MISSING"), "{html}");
    assert!(html.contains("ABC123") && html.contains("150/92"), "{html}");
    for (name, size) in [("a4", "A4"), ("letter", "letter")] {
        let on_paper = html.replacen(
            "</style>",
            &format!("@page {{ size: {size}; }}\n</style>"),
            1,
        );
        assert_eq!(pages(dir.path(), name, &on_paper), 1, "{name}");
    }
}

#[test]
fn missed_rems_checks_are_in_the_record_and_the_fhir_export_validates() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    log(&home, &session, "@-150m bp 128/82 hr 74");
    log(&home, &session, "@-145m dose esketamine 56mg IN lot ABC123");
    log(&home, &session, "@-105m bp 150/92 hr 82");
    // Ending without the checks before discharge asks for a reason, naming them.
    let err = home.fails(&["session", "end", &session], 1);
    assert!(err.contains("sedation resolved T+120"), "{err}");
    assert!(err.contains("respiration resolved T+120"), "{err}");
    end(&home, &session);
    let checks = home.ok(&["session", "checks", &session]);
    for kind in [
        "BP before discharge",
        "sedation resolved",
        "dissociation resolved",
    ] {
        assert!(
            checks
                .lines()
                .any(|l| l.contains(kind) && l.contains("missed")),
            "{kind}: {checks}"
        );
    }
    let fhir = home.ok(&["export", "--session", &session, "--format", "fhir"]);
    let bundle: serde_json::Value = serde_json::from_str(&fhir).unwrap();
    let missed = common::named(
        &bundle,
        &format!("session/{session}/check/t120-sedation-resolved"),
    );
    assert!(fhir.contains(&format!("\"id\": \"{missed}\"")), "{fhir}");
    validate_fhir(&fhir);
}

#[test]
fn the_form_prints_on_one_page_whatever_is_missing() {
    // No [rems] settings, a patient without sex or medications, a dose without its lot and
    // nothing else charted, the session still open: most of the form is MISSING.
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    log(&home, &session, "@-10m dose esketamine 56mg IN");
    let form = show(&home, &session);
    let missing = form["missing"].as_array().unwrap().len();
    assert!(missing >= 20, "{missing} missing: {form}");
    let html = home.ok(&["export", "--session", &session, "--format", "rems-html"]);
    assert_eq!(
        html.matches("<strong>MISSING</strong>").count(),
        missing,
        "{html}"
    );
    // Each field still says what would answer it; a reason the field above gives once.
    assert!(
        html.contains("no medications recorded for the patient")
            && html.contains("not set: provider_phone"),
        "{html}"
    );
    assert_eq!(
        html.matches("no medications recorded for the patient")
            .count(),
        1,
        "{html}"
    );
    assert_eq!(html.matches(">as above<").count(), 4, "{html}");
    let dir = tempfile::tempdir().unwrap();
    for (name, size) in [("a4", "A4"), ("letter", "letter")] {
        let on_paper = html.replacen(
            "</style>",
            &format!("@page {{ size: {size}; }}\n</style>"),
            1,
        );
        assert_eq!(pages(dir.path(), name, &on_paper), 1, "{name}");
    }
}

#[test]
fn recording_a_submission_of_a_form_with_fields_missing_names_them_first() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    full_session(&home, &session);
    end(&home, &session);
    let form = show(&home, &session);
    let labels: Vec<String> = form["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["label"].as_str().unwrap().to_string())
        .collect();
    assert!(labels.len() >= 5, "{labels:?}");
    let out = home.run(&[
        "rems",
        "submitted",
        "--session",
        &session,
        "--on",
        &common::child_now().date_naive().to_string(),
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "warning: session {session}'s form has {} fields the record does not answer",
            labels.len()
        )),
        "{stderr}"
    );
    for label in &labels {
        assert!(
            stderr.contains(label.as_str()),
            "{label} not named: {stderr}"
        );
    }
    // Recorded all the same: the clinician submitted it.
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(id.parse::<i64>().is_ok(), "{id}");
    // A complete form records without a word.
    let home = Home::new();
    clinic_config(&home);
    let (patient, session) = home.with_dosing_session();
    home.ok(&[
        "patient",
        "update",
        &patient,
        "--sex",
        "male",
        "--med-add",
        "none",
    ]);
    full_session(&home, &session);
    end(&home, &session);
    assert_eq!(show(&home, &session)["missing"], serde_json::json!([]));
    let out = home.run(&[
        "rems",
        "submitted",
        "--session",
        &session,
        "--on",
        &common::child_now().date_naive().to_string(),
    ]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn a_submitted_form_whose_record_changed_after_says_so_and_lists_what_changed() {
    let home = Home::new();
    clinic_config(&home);
    let (_, session) = home.with_dosing_session();
    full_session(&home, &session);
    let depressed = home.ok(&[
        "log",
        "--session",
        &session,
        "@-50m resp depressed shallow breathing",
    ]);
    end(&home, &session);
    let form = show(&home, &session);
    assert_eq!(field(&form, "respiratory_depression")["value"], true);
    let treated = form["treatment_date"].as_str().unwrap().to_string();
    home.ok(&[
        "rems",
        "submitted",
        "--session",
        &session,
        "--on",
        &treated,
        "--ref",
        "REF-002",
    ]);
    // Submitted as it stood: nothing has changed yet.
    let form = show(&home, &session);
    assert_eq!(form["changed_since_submission"], serde_json::json!([]));
    let shown = home.ok(&["rems", "show", "--session", &session]);
    assert!(!shown.contains("CHANGED"), "{shown}");

    // The depressed respiration is struck afterwards: the form now says N, and says that
    // what was submitted said Y.
    let entry = depressed.split_whitespace().next().unwrap().to_string();
    home.ok(&[
        "strike",
        &entry,
        "--reason",
        "charted for the wrong patient",
    ]);
    let form = show(&home, &session);
    assert_eq!(field(&form, "respiratory_depression")["value"], false);
    let changed = form["changed_since_submission"].as_array().unwrap();
    assert!(
        changed
            .iter()
            .any(|c| c["key"] == "respiratory_depression" && c["then"] == "Y" && c["now"] == "N"),
        "{form}"
    );
    let shown = home.ok(&["rems", "show", "--session", &session]);
    assert!(
        shown.contains("CHANGED SINCE IT WAS SUBMITTED")
            && shown.contains("Respiratory depression: Y when submitted, N now")
            && shown.contains("submitted on")
            && shown.contains("REF-002"),
        "{shown}"
    );
    let list = home.ok(&["rems", "list"]);
    assert!(list.contains("changed since submitted"), "{list}");
    let html = home.ok(&["export", "--session", &session, "--format", "rems-html"]);
    assert!(
        html.contains("Changed since it was submitted")
            && html.contains("Respiratory depression: Y when submitted, N now"),
        "{html}"
    );
}
