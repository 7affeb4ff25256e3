//! The home screen reads only what it shows (recent and open sessions, the integrations still
//! to do, a patient's sessions when they are selected). These tests hold its reads to the
//! answer of the slow path they replace: every session of the chart read, then filtered.

use chrono::{DateTime, Duration, FixedOffset, TimeZone};
use kapchart::app::{charting, views};
use kapchart::config::Config;
use kapchart::domain::{Session, SessionKind, integration};
use kapchart::store::{Chart, HomeScan, NewSession, Second};
use kapchart::tui::app::{Action, App, Effect, Screen, update};
use kapchart::tui::keymap::{Key, Keymap};
use kapchart::tui::sign_in::{Purpose, SignIn};
use std::sync::Arc;

fn now() -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 26, 10, 0, 0)
        .unwrap()
}

fn start(
    chart: &mut Chart,
    patient: i64,
    kind: SessionKind,
    dosing: Option<i64>,
    days_ago: i64,
) -> i64 {
    let at = now() - Duration::days(days_ago);
    chart
        .start_session_record(
            &NewSession {
                patient_id: patient,
                kind,
                started: at,
                intention: None,
                dosing_session_id: dosing,
            },
            Second::Meant,
            at,
        )
        .unwrap()
}

/// A generated clinic of a few patients, plus what a generated one may lack: an open session
/// started long ago, a session whose end was struck (open again), dosing sessions with their
/// integration due, overdue and done, and a session started yesterday.
fn clinic() -> (tempfile::TempDir, Chart, Config) {
    let dir = tempfile::tempdir().unwrap();
    let mut chart = Chart::create(
        &dir.path().join("c.db"),
        "pw",
        "Dr. Home Reads",
        2000,
        now() - Duration::days(3700),
    )
    .unwrap();
    let config = Config::default();
    kapchart::scale::generate(&mut chart, &config, 4, 7, now(), &mut |_, _| {}).unwrap();
    let patient = chart.patients().unwrap()[0].id;
    // Open since last year.
    start(&mut chart, patient, SessionKind::Preparation, None, 400);
    // Ended, then its end struck: open again.
    let reopened = start(&mut chart, patient, SessionKind::FollowUp, None, 200);
    let at = now() - Duration::days(199);
    let end = charting::end_session(&mut chart, &config, reopened, Vec::new(), Some("done"), &at)
        .unwrap();
    charting::strike_entry(&mut chart, end, "ended the wrong session", &at).unwrap();
    // Integrations: overdue (30 days ago), due (3 days ago), done (10 days ago).
    let overdue = start(&mut chart, patient, SessionKind::Dosing, None, 30);
    let due = start(&mut chart, patient, SessionKind::Dosing, None, 3);
    let done = start(&mut chart, patient, SessionKind::Dosing, None, 10);
    start(&mut chart, patient, SessionKind::Integration, Some(done), 8);
    for (s, days_ago) in [(overdue, 30), (due, 3), (done, 10)] {
        let end = now() - Duration::days(days_ago) + Duration::hours(2);
        charting::end_session(&mut chart, &config, s, Vec::new(), Some("test"), &end).unwrap();
    }
    start(&mut chart, patient, SessionKind::Intake, None, 1);
    (dir, chart, config)
}

fn ids(sessions: &[&Session]) -> Vec<i64> {
    sessions.iter().map(|s| s.id).collect()
}

#[test]
fn the_home_screen_reads_give_what_reading_every_session_gives() {
    let (_dir, chart, config) = clinic();
    let all = chart.sessions(None).unwrap();
    assert!(all.len() > 50, "a clinic to read: {} sessions", all.len());

    // Integrations still to do: the same list, in the same order.
    let slow = integration::pending(&all, &config.integration, now());
    let fast = views::pending_integrations(&chart, &config, now()).unwrap();
    assert_eq!(fast, slow);
    assert!(
        fast.iter()
            .any(|d| matches!(d.status, integration::IntegrationStatus::Overdue { .. }))
            && fast
                .iter()
                .any(|d| matches!(d.status, integration::IntegrationStatus::Due { .. })),
        "the clinic has overdue and due integrations: {fast:?}"
    );

    // Through the path the user takes: the home screen loaded as the runtime loads it.
    let mut app = App::new(
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
        now(),
        Keymap::default(),
        Arc::new(config.clone()),
    );
    let data = views::home_data(&chart, &config, now()).unwrap();
    assert!(
        data.sessions.len() < all.len() / 2,
        "reads only what it shows"
    );
    let mut effect = update(&mut app, Action::HomeLoaded(Ok(data)));
    let perform = |app: &mut App, mut effect: Option<Effect>| {
        while let Some(Effect::LoadPatientSessions(p)) = effect {
            let sessions = views::patient_sessions(&chart, p).unwrap();
            effect = update(app, Action::PatientSessions(p, Ok(sessions)));
        }
        effect
    };
    effect = perform(&mut app, effect);
    assert_eq!(effect, None);
    let Screen::Home(home) = &app.screen else {
        panic!("not home")
    };

    // Today and recent: sessions of the last 7 days and every open one, newest first.
    let since = now().date_naive() - Duration::days(views::RECENT_DAYS);
    let slow_recent: Vec<&Session> = all
        .iter()
        .filter(|s| s.ended.is_none() || s.started.date_naive() >= since)
        .collect();
    assert_eq!(ids(&home.recent()), ids(&slow_recent));
    assert!(
        slow_recent
            .iter()
            .any(|s| s.started.date_naive() < since - Duration::days(100)),
        "an open session from long ago is among them"
    );

    // Each patient's sessions as the user moves down the patient list.
    let patients = chart.patients().unwrap();
    let key = |app: &mut App, k: &str| update(app, Action::Key(Key::parse(k).unwrap()));
    let e = key(&mut app, "tab");
    assert_eq!(perform(&mut app, e), None);
    for (i, p) in patients.iter().enumerate() {
        if i > 0 {
            let e = key(&mut app, "down");
            assert_eq!(perform(&mut app, e), None);
        }
        let Screen::Home(home) = &app.screen else {
            panic!("not home")
        };
        assert_eq!(home.selected_patient().map(|s| s.id), Some(p.id));
        let slow: Vec<&Session> = all.iter().filter(|s| s.patient_id == p.id).collect();
        assert!(!slow.is_empty());
        assert_eq!(
            ids(&home.patient_sessions()),
            ids(&slow),
            "patient {}",
            p.id
        );
    }
}

/// The home screen's session reads go by index: no step scans the sessions table itself (its
/// rows carry the intentions), and finding the dosing sessions reads no other session.
#[test]
fn the_home_screen_reads_use_their_indexes() {
    let (_dir, chart, _config) = clinic();
    let (open, dosing) = chart.home_read_plans(HomeScan::ByIndex).unwrap();
    let shown = format!(
        "open:\n{}\n\ndosing:\n{}",
        open.join("\n"),
        dosing.join("\n")
    );
    assert!(
        open.iter()
            .any(|l| l == "SCAN sessions USING COVERING INDEX sessions_ids"),
        "{shown}"
    );
    assert!(
        open.iter()
            .any(|l| l == "SCAN e USING COVERING INDEX entries_session_end"),
        "{shown}"
    );
    assert!(open.iter().any(|l| l == "MERGE (EXCEPT)"), "{shown}");
    assert!(
        dosing
            .iter()
            .any(|l| l == "SEARCH s USING INDEX sessions_kind (kind=?)"),
        "{shown}"
    );
    for line in open.iter().chain(&dosing) {
        assert!(
            !line.starts_with("SCAN s ") && line != "SCAN sessions",
            "a scan of every session's row: {line}\n{shown}"
        );
    }
    // The reads kept for comparison do read every row, so the bench compares what it says.
    let (open_before, dosing_before) = chart
        .home_read_plans(HomeScan::ReadingEverySessionRow)
        .unwrap();
    assert!(
        open_before.iter().any(|l| l == "SCAN sessions"),
        "{open_before:?}"
    );
    assert!(
        dosing_before
            .iter()
            .any(|l| l == "SCAN s USING INDEX sessions_started"),
        "{dosing_before:?}"
    );
}

/// The reads by index give the same sessions, in the same order, as the reads of every row.
#[test]
fn the_home_screen_reads_by_index_give_what_reading_every_row_gives() {
    let (_dir, chart, _config) = clinic();
    for days in [0, 1, 10, 3 + views::RECENT_DAYS, 400, 5000] {
        let since = now() - Duration::days(days);
        let fast = chart
            .sessions_since_or_open_by(since, HomeScan::ByIndex)
            .unwrap();
        let slow = chart
            .sessions_since_or_open_by(since, HomeScan::ReadingEverySessionRow)
            .unwrap();
        assert_eq!(fast, slow, "since {days} days ago");
        let all = chart.sessions(None).unwrap();
        let mut expected: Vec<&Session> = all
            .iter()
            .filter(|s| s.started >= since || s.ended.is_none())
            .collect();
        expected.sort_by_key(|s| std::cmp::Reverse((s.started.timestamp_millis(), s.id)));
        assert_eq!(ids(&fast.iter().collect::<Vec<_>>()), ids(&expected));
    }
    assert!(
        chart
            .sessions_since_or_open_by(now() - Duration::days(1), HomeScan::ByIndex)
            .unwrap()
            .iter()
            .any(|s| s.ended.is_none() && s.started < now() - Duration::days(300)),
        "the long-open sessions are found"
    );
    let fast = chart
        .dosing_sessions_without_integration_by(HomeScan::ByIndex)
        .unwrap();
    let slow = chart
        .dosing_sessions_without_integration_by(HomeScan::ReadingEverySessionRow)
        .unwrap();
    assert_eq!(fast, slow);
    assert!(!fast.is_empty());
}
