//! The course around the sessions, through the built binary: patient details, courses,
//! outcome measures, the safety flag, integration notes and their signatures.

mod common;

use common::Home;
use serde_json::Value;

fn json(home: &Home, args: &[&str]) -> Value {
    serde_json::from_str(&home.ok(args)).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// Writes the parts of a drafted note only the clinician can write (the patient's account,
/// the assessment, the plan) and saves it, as a clinician does before signing.
fn complete_note(home: &Home, id: &str, text: &str) -> String {
    let completed: String = text
        .lines()
        .map(|l| match l.trim_end() {
            "Assessment:" => "Assessment: settled, oriented.".to_string(),
            "Plan:" => "Plan: continue the course.".to_string(),
            t if t.starts_with("Patient's account") => format!("{t} slept well since."),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let file = home.path().join(format!("note-{id}.md"));
    std::fs::write(&file, &completed).unwrap();
    home.ok(&["note", "save", id, file.to_str().unwrap()]);
    completed
}

#[test]
fn measures_are_scored_banded_and_listed() {
    let home = Home::new();
    let (patient, session) = home.with_dosing_session();
    home.ok(&[
        "measure",
        "add",
        "--session",
        &session,
        "phq9",
        "1",
        "2",
        "1",
        "0",
        "3",
        "2",
        "1",
        "0",
        "1",
    ]);
    home.ok(&[
        "measure",
        "add",
        "--session",
        &session,
        "gad7",
        "3",
        "3",
        "3",
        "3",
        "3",
        "0",
        "0",
    ]);
    let pcl = ["2"; 20];
    let mut args = vec!["measure", "add", "--session", session.as_str(), "pcl5"];
    args.extend(pcl);
    home.ok(&args);
    let list = json(&home, &["measure", "list", "--patient", &patient, "--json"]);
    let rows: Vec<(String, u64, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["instrument"].as_str().unwrap().to_string(),
                m["total"].as_u64().unwrap(),
                m["band"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("phq9".to_string(), 11, "moderate".to_string()),
            ("gad7".to_string(), 15, "severe".to_string()),
            (
                "pcl5".to_string(),
                40,
                "at or above provisional cut-off".to_string()
            ),
        ]
    );
    let text = home.ok(&["measure", "list", "--patient", &patient]);
    assert!(text.contains("PHQ-9 11 (moderate)"), "{text}");
}

#[test]
fn wrong_measure_input_is_named_and_nothing_written() {
    let home = Home::new();
    let (patient, session) = home.with_dosing_session();
    let err = home.fails(
        &[
            "measure",
            "add",
            "--session",
            &session,
            "phq9",
            "1",
            "2",
            "3",
        ],
        1,
    );
    assert!(
        err.contains("PHQ-9 has 9 items") && err.contains("got 3"),
        "{err}"
    );
    let err = home.fails(
        &[
            "measure",
            "add",
            "--session",
            &session,
            "gad7",
            "0",
            "0",
            "0",
            "4",
            "0",
            "0",
            "0",
        ],
        1,
    );
    assert!(
        err.contains("item 4 is 4") && err.contains("0 to 3"),
        "{err}"
    );
    let err = home.fails(&["measure", "add", "--session", &session, "bdi", "1"], 1);
    assert!(
        err.contains("bdi") && err.contains("phq9, gad7 or pcl5"),
        "{err}"
    );
    assert_eq!(home.ok(&["measure", "list", "--patient", &patient]), "");
}

#[test]
fn a_risk_assessment_timed_before_the_phq9_says_the_safety_flag_is_still_open() {
    // The flag is cleared by a risk assessment at or after the PHQ-9 that raised it
    // (clinical.md section 4): one charted as done before it leaves the flag open, and the
    // line that charts it says so, as the live screen and the patient page show it.
    let home = Home::new();
    let (patient, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "bp 122/78 hr 70"]);
    let mut phq9 = vec!["measure", "add", "--session", &session, "phq9"];
    phq9.extend(["1", "1", "1", "1", "1", "1", "1", "1", "1"]);
    let out = home.run(&phq9);
    assert!(out.status.success());
    let before = home.run(&[
        "log",
        "--session",
        &session,
        "@-20m risk-assessment C-SSRS screen: no ideation",
    ]);
    assert!(before.status.success());
    let err = String::from_utf8_lossy(&before.stderr);
    assert!(
        err.contains("SAFETY: PHQ-9 item 9 answered 1"),
        "a risk assessment before the PHQ-9 leaves the flag open: {err}"
    );
    assert!(home.ok(&["patient", "show", &patient]).contains("SAFETY"));
    let after = home.run(&[
        "log",
        "--session",
        &session,
        "risk-assessment C-SSRS screen: no ideation",
    ]);
    assert!(after.status.success());
    let err = String::from_utf8_lossy(&after.stderr);
    assert!(!err.contains("SAFETY"), "{err}");
    assert!(!home.ok(&["patient", "show", &patient]).contains("SAFETY"));
}

#[test]
fn item_9_raises_a_safety_flag_that_blocks_signing_until_a_risk_assessment() {
    let home = Home::new();
    let (patient, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "bp 122/78 hr 70"]);
    home.ok(&["log", "--session", &session, "dose ketamine 35mg IM"]);
    let out = home.run(&[
        "measure",
        "add",
        "--session",
        &session,
        "phq9",
        "1",
        "1",
        "1",
        "1",
        "1",
        "1",
        "1",
        "1",
        "2",
    ]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("SAFETY") && err.contains("item 9 answered 2"),
        "{err}"
    );
    let shown = home.ok(&["patient", "show", &patient]);
    assert!(shown.contains("SAFETY"), "{shown}");

    let note = json(&home, &["note", "draft", "--session", &session, "--json"]);
    let id = note["id"].to_string();
    let err = home.fails(&["note", "sign", &id, "--reason", "anything"], 1);
    assert!(
        err.contains("cannot be signed") && err.contains("risk assessment"),
        "{err}"
    );

    // A later PHQ-9 with item 9 at 0 does not clear it; a risk assessment does.
    home.ok(&[
        "measure",
        "add",
        "--session",
        &session,
        "phq9",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
    ]);
    assert!(home.ok(&["patient", "show", &patient]).contains("SAFETY"));
    home.ok(&[
        "log",
        "--session",
        &session,
        "risk-assessment C-SSRS screen: passive ideation, no plan; safety plan reviewed",
    ]);
    assert!(!home.ok(&["patient", "show", &patient]).contains("SAFETY"));
    complete_note(&home, &id, note["text"].as_str().unwrap());
    let out = home.ok(&[
        "note",
        "sign",
        &id,
        "--reason",
        "checks after T+15 not due yet at signing",
    ]);
    assert!(out.contains("signed note"), "{out}");
}

#[test]
fn a_note_is_drafted_from_the_record_signed_locked_and_amended_by_addenda() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "bp 124/80 hr 72 spo2 98"]);
    home.ok(&[
        "log",
        "--session",
        &session,
        "dose ketamine 0.5mg/kg IV over 40m",
    ]);
    home.ok(&[
        "log",
        "--session",
        &session,
        "obs \"I can breathe again\" #insight",
    ]);
    let note = json(&home, &["note", "draft", "--session", &session, "--json"]);
    let id = note["id"].as_i64().unwrap();
    let text = note["text"].as_str().unwrap();
    assert!(text.contains("ketamine"), "draft names the dose: {text}");
    assert!(
        text.contains("I can breathe again"),
        "draft quotes the patient: {text}"
    );
    assert_eq!(note["signed"], false);
    // Reopening gives the same note.
    let again = json(&home, &["note", "draft", "--session", &session, "--json"]);
    assert_eq!(again["id"].as_i64(), Some(id));

    let id = id.to_string();
    // Unsigned: addenda are refused, the draft can be replaced.
    let err = home.fails(&["note", "addend", &id, "too early"], 1);
    assert!(err.contains("not signed"), "{err}");
    complete_note(&home, &id, text);
    let edited = home.path().join(format!("note-{id}.md"));
    let signed = home.ok(&[
        "note",
        "sign",
        &id,
        "--reason",
        "session still open when signed",
    ]);
    assert!(signed.contains("sha256"), "{signed}");
    let err = home.fails(&["note", "sign", &id], 1);
    assert!(err.contains("already signed"), "{err}");
    let err = home.fails(&["note", "save", &id, edited.to_str().unwrap()], 1);
    assert!(err.contains("signed"), "{err}");
    home.ok(&[
        "note",
        "addend",
        &id,
        "Patient called next day: slept well.",
    ]);
    let shown = json(&home, &["note", "show", &id, "--json"]);
    assert!(
        shown["text"]
            .as_str()
            .unwrap()
            .contains("Assessment: settled, oriented.")
    );
    assert_eq!(
        shown["addenda"][0]["text"],
        "Patient called next day: slept well."
    );
    assert_eq!(shown["addenda"][0]["author"], "Dr. Test");
    assert_eq!(shown["signature"]["signer"], "Dr. Test");
    assert_eq!(shown["signature"]["sha256"].as_str().unwrap().len(), 64);
    assert!(home.ok(&["verify"]).starts_with("ok"));
}

#[test]
fn open_alerts_need_a_reason_to_sign() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let vitals = home.ok(&["log", "--session", &session, "bp 170/104 hr 88"]);
    let note = json(&home, &["note", "draft", "--session", &session, "--json"]);
    let id = note["id"].to_string();
    // Empty sections come first: no reason signs past them, so none is asked yet.
    let err = home.fails(&["note", "sign", &id, "--reason", "reviewed"], 1);
    assert!(
        err.contains("cannot be signed") && err.contains("are empty"),
        "{err}"
    );
    complete_note(&home, &id, note["text"].as_str().unwrap());
    let err = home.fails(&["note", "sign", &id], 1);
    assert!(
        err.contains("needs a reason") && err.contains("alert not acknowledged"),
        "{err}"
    );
    home.ok(&[
        "ack",
        &vitals,
        "--note",
        "rechecked after rest: 150/92; proceeded after discussion",
    ]);
    // Acknowledged now; the session has no dose yet, so no checks are missed either.
    home.ok(&["note", "sign", &id]);
}

#[test]
fn a_note_is_signed_only_when_complete_and_without_its_draft_banner() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "bp 124/80 hr 72"]);
    let note = json(&home, &["note", "draft", "--session", &session, "--json"]);
    let id = note["id"].to_string();
    let text = note["text"].as_str().unwrap();
    assert!(text.contains("> DRAFT"), "{text}");
    // The draft as made: the clinician's sections are blank, and each is named.
    let err = home.fails(&["note", "sign", &id], 1);
    assert!(
        err.contains("cannot be signed")
            && err.contains("Integration session, Assessment, Plan are empty"),
        "{err}"
    );
    // With only the assessment written, the others are still named.
    let partial = text.replace("Assessment: \n", "Assessment: settled.\n");
    let file = home.path().join("partial.md");
    std::fs::write(&file, &partial).unwrap();
    home.ok(&["note", "save", &id, file.to_str().unwrap()]);
    let err = home.fails(&["note", "sign", &id], 1);
    assert!(
        err.contains("Integration session, Plan are empty") && !err.contains("Assessment,"),
        "{err}"
    );
    assert_eq!(
        json(&home, &["note", "show", &id, "--json"])["signed"],
        false
    );

    complete_note(&home, &id, text);
    home.ok(&["note", "sign", &id]);
    let signed = json(&home, &["note", "show", &id, "--json"]);
    let signed_text = signed["text"].as_str().unwrap();
    assert!(!signed_text.contains("DRAFT"), "{signed_text}");
    assert!(
        !signed_text.contains("complete it, then sign"),
        "{signed_text}"
    );
    assert!(
        signed_text.starts_with("# Integration note (DAP)"),
        "{signed_text}"
    );
    assert!(signed_text.contains("Plan: continue the course."));
    assert!(home.ok(&["verify"]).starts_with("ok"));
}

#[test]
fn a_clinic_template_may_mark_a_section_optional() {
    let home = Home::new();
    let templates = home
        .path()
        .join("xdg-config")
        .join("kapchart")
        .join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("dap.md"),
        "# Note\n\n> DRAFT for {{patient}}: complete it, then sign.\n\n## Data\n\n{{dose}}\n\n\
         ## Assessment\n\nAssessment: \n\n## Plan {{! optional }}\n\nPlan: \n",
    )
    .unwrap();
    let (_, session) = home.with_dosing_session();
    let note = json(&home, &["note", "draft", "--session", &session, "--json"]);
    let id = note["id"].to_string();
    let err = home.fails(&["note", "sign", &id], 1);
    assert!(err.contains("Assessment is empty"), "{err}");
    assert!(!err.contains("Plan"), "{err}");
    let file = home.path().join("no-plan.md");
    let text = note["text"]
        .as_str()
        .unwrap()
        .replace("Assessment: \n", "Assessment: settled.\n");
    std::fs::write(&file, &text).unwrap();
    home.ok(&["note", "save", &id, file.to_str().unwrap()]);
    home.ok(&["note", "sign", &id]);
}

#[test]
fn notes_belong_to_dosing_sessions() {
    let home = Home::new();
    let (patient, _) = home.with_dosing_session();
    let intake = home.ok(&[
        "session",
        "start",
        "--patient",
        &patient,
        "--kind",
        "intake",
    ]);
    let err = home.fails(&["note", "draft", "--session", &intake], 1);
    assert!(err.contains("dosing"), "{err}");
    let err = home.fails(&["note", "show", "77"], 1);
    assert!(err.contains("note 77 does not exist"), "{err}");
}

#[test]
fn patient_details_medications_and_course() {
    let home = Home::new();
    let (patient, session) = home.with_dosing_session();
    home.ok(&[
        "patient",
        "update",
        &patient,
        "--weight",
        "64",
        "--emergency-contact",
        "Sam (sister) 555-0100",
        "--ride-contact",
        "Chris (partner)",
        "--med-add",
        "Clonazepam 0.5 mg at night",
        "--med-add",
        "sertraline 100 mg",
    ]);
    let shown = home.ok(&["patient", "show", &patient]);
    assert!(shown.contains("64 kg"), "{shown}");
    assert!(
        shown.contains("Clonazepam 0.5 mg at night ! benzodiazepine"),
        "{shown}"
    );
    assert!(
        shown.contains("medication: sertraline 100 mg\n")
            || shown.ends_with("medication: sertraline 100 mg"),
        "{shown}"
    );
    assert!(
        shown.contains("usual ride home: Chris (partner)"),
        "{shown}"
    );
    // The new weight is the one mg/kg doses use.
    home.ok(&["log", "--session", &session, "dose ketamine 0.5mg/kg IM"]);
    let s = home.show_json(&session);
    assert_eq!(s["entries"][0]["payload"]["total_mg"], 32.0);
    home.ok(&["patient", "update", &patient, "--med-stop", "clonazepam"]);
    assert!(
        !home
            .ok(&["patient", "show", &patient])
            .contains("Clonazepam")
    );
    let err = home.fails(&["patient", "update", &patient, "--med-stop", "aspirin"], 1);
    assert!(err.contains("aspirin"), "{err}");

    home.ok(&[
        "course",
        "start",
        "--patient",
        &patient,
        "--goal",
        "fewer days in bed",
        "--goal",
        "return to running",
    ]);
    home.ok(&[
        "session",
        "end",
        &session,
        "--reason",
        "dose postponed; patient went home with partner",
    ]);
    let course = json(&home, &["course", "show", "--patient", &patient, "--json"]);
    assert_eq!(course["planned_dosing"], 6);
    assert_eq!(course["dosing_done"], 1);
    assert_eq!(course["course"]["goals"][1], "return to running");
    assert_eq!(
        course["integrations"][0]["dosing_session"].to_string(),
        session
    );
    let text = home.ok(&["course", "show", "--patient", &patient]);
    assert!(text.contains("dosing 1 of 6"), "{text}");
    let err = home.fails(
        &["course", "start", "--patient", &patient, "--planned", "0"],
        1,
    );
    assert!(err.contains("planned"), "{err}");
}

#[test]
fn integrations_due_after_each_dosing_session_are_listed() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let list = json(&home, &["integrations", "--json"]);
    assert_eq!(list[0]["dosing_session"].to_string(), session);
    assert_eq!(list[0]["status"], "upcoming");
}

#[test]
fn preparation_entries_and_the_intention() {
    let home = Home::new();
    let (patient, _) = home.with_dosing_session();
    let prep = home.ok(&[
        "session",
        "start",
        "--patient",
        &patient,
        "--kind",
        "preparation",
    ]);
    home.ok(&[
        "log",
        "--session",
        &prep,
        "intention To grieve without drowning",
    ]);
    home.ok(&[
        "log",
        "--session",
        &prep,
        "setting eye mask, own playlist, weighted blanket",
    ]);
    home.ok(&[
        "log",
        "--session",
        &prep,
        "consent written consent signed after discussing risks",
    ]);
    let intake = home.ok(&[
        "session",
        "start",
        "--patient",
        &patient,
        "--kind",
        "intake",
    ]);
    home.ok(&["log", "--session", &intake, "screen psychosis no"]);
    home.ok(&[
        "log",
        "--session",
        &intake,
        "screen hypertension yes controlled on amlodipine",
    ]);
    home.ok(&[
        "log",
        "--session",
        &intake,
        "eligibility eligible BP controlled; no other contraindication",
    ]);
    let s = home.show_json(&intake);
    let kinds: Vec<&str> = s["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["screening", "screening", "eligibility"]);
    // What the clinician said is what is stored: hypertension, controlled, not
    // "uncontrolled hypertension: yes".
    let hypertension = s["entries"][1]["summary"].as_str().unwrap();
    assert_eq!(
        hypertension,
        "Screening hypertension: yes (controlled on amlodipine)"
    );
    assert!(
        s["entries"][2]["summary"]
            .as_str()
            .unwrap()
            .contains("clinician's decision")
    );
}

#[test]
fn a_second_course_does_not_replace_the_first_unless_meant() {
    let home = Home::new();
    let (patient, _) = home.with_dosing_session();
    let first = home.ok(&[
        "course",
        "start",
        "--patient",
        &patient,
        "--planned",
        "6",
        "--goal",
        "PHQ-9 below 10",
    ]);
    let err = home.fails(
        &[
            "course",
            "start",
            "--patient",
            &patient,
            "--goal",
            "sleep through",
        ],
        1,
    );
    assert!(
        err.contains(&format!("already has course {first}"))
            && err.contains("6 dosing sessions planned")
            && err.contains("goals: PHQ-9 below 10")
            && err.contains("--new-course"),
        "{err}"
    );
    let shown = home.ok(&["course", "show", "--patient", &patient]);
    assert!(
        shown.contains("PHQ-9 below 10") && !shown.contains("sleep through"),
        "{shown}"
    );
    let second = home.ok(&[
        "course",
        "start",
        "--patient",
        &patient,
        "--goal",
        "sleep through",
        "--new-course",
    ]);
    assert_ne!(second, first);
    let shown = home.ok(&["course", "show", "--patient", &patient]);
    assert!(shown.contains("sleep through"), "{shown}");
}
