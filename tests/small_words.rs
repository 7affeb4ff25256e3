//! The small words a clinician reads: articles, plurals, a command that has nothing to do,
//! an empty line's example (issue: "every screen fits and tells the whole truth", item 9).

mod common;

use common::Home;

#[test]
fn messages_use_the_right_article_and_name_what_to_do() {
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
    let checks = home.ok(&["session", "checks", &intake]);
    assert!(
        checks.contains(&format!("session {intake} is an intake session")),
        "{checks}"
    );
    let err = home.fails(&["note", "draft", "--session", &intake], 1);
    assert!(err.contains("is an intake session"), "{err}");
    // `patient update` with nothing to change adds no version.
    let err = home.fails(&["patient", "update", &patient], 1);
    assert!(
        err.contains("nothing to change") && err.contains("--weight"),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    // `setting` alone shows a setting's example, not the intention's.
    let err = home.fails(&["log", "--session", &intake, "setting"], 1);
    assert!(err.contains("setting eye mask"), "{err}");
    assert!(!err.contains("intention To meet"), "{err}");
}

#[test]
fn a_joined_moaas_keeps_its_own_entry_id_in_the_csv() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let reading = home.ok(&["log", "--session", &session, "@-2m bp 120/80 hr 70"]);
    let score = home.ok(&["log", "--session", &session, "@-1m moaas 4"]);
    let csv = home.ok(&["export", "--session", &session, "--format", "csv"]);
    let row: Vec<&str> = csv
        .lines()
        .find(|l| l.contains(",120,80,"))
        .unwrap_or_else(|| panic!("{csv}"))
        .split(',')
        .collect();
    assert_eq!(row[10], "4", "the score joined the reading's row: {csv}");
    assert_eq!(row[13], reading);
    assert_eq!(row[16], score);
}
