//! The home screen reads only what it shows (recent and open sessions, the integrations still
//! to do, the REMS forms due, a patient's sessions when they are selected). These tests hold
//! its reads to the answer of the slow paths they replace: every session of the chart read,
//! then filtered; the indexes walked over every session; every REMS dose's row read. The open
//! sessions and the integrations awaited come from lists the chart keeps by triggers
//! (migration `HOME_LISTS_KEPT_BY_TRIGGERS`), so the corpus has every way a session's end can
//! stand or fall: ended, end struck, end amended, amended end struck, struck end ended again.

use chrono::{DateTime, Duration, FixedOffset, TimeZone};
use kapchart::app::Chart;
use kapchart::app::{charting, rems, views};
use kapchart::config::Config;
use kapchart::domain::{Session, SessionKind, integration};
use kapchart::store::{HomeScan, NewSession, RemsScan, Second, schema};
use kapchart::tui::keymap::{Key, Keymap};
use kapchart::tui::sign_in::{Purpose, SignIn};
use kapchart::tui::state::{Action, App, Effect, Screen, update};
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
        .behind_the_door()
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

fn end(chart: &mut Chart, config: &Config, session: i64, days_ago: i64) -> i64 {
    let at = now() - Duration::days(days_ago) + Duration::hours(3);
    let written = charting::end_session(chart, config, session, Vec::new(), Some("test"), &at);
    written.unwrap().last().unwrap().id
}

/// Amends a session's end as another program (or an older kapchart) could have written it:
/// kapchart itself refuses to amend an end (strike it to reopen the session), so the
/// amendment, itself a session-end entry, goes in through the raw connection.
fn amend_end_behind_kapcharts_back(chart: &Chart, end: i64) -> i64 {
    let conn = chart.behind_the_door_ref().raw_connection();
    conn.execute(
        "INSERT INTO entries (session_id, kind, payload, event_at, event_offset, recorded_at,
             recorded_offset, author_id, flags, corrects, correction, reason)
         SELECT session_id, kind, payload, event_at + 60000, event_offset, recorded_at + 60000,
             recorded_offset, author_id, flags, id, 'amend', 'the end time was wrong'
           FROM entries WHERE id = ?1 AND kind = 'session-end'",
        [end],
    )
    .unwrap();
    conn.last_insert_rowid()
}

/// The sessions whose end was corrected, by what happened to it.
#[derive(Debug, Clone, Copy)]
struct Ends {
    struck: i64,
    amended: i64,
    amended_then_struck: i64,
    struck_then_ended_again: i64,
}

/// The esketamine dosing sessions, by where their REMS form stands.
#[derive(Debug, Clone, Copy)]
struct Forms {
    submitted: i64,
    submission_struck: i64,
    submission_amended: i64,
    not_submitted: i64,
    dose_struck: i64,
    still_open: i64,
}

fn esketamine_session(chart: &mut Chart, config: &Config, patient: i64, days_ago: i64) -> i64 {
    let s = start(chart, patient, SessionKind::Dosing, None, days_ago);
    let at = now() - Duration::days(days_ago) + Duration::minutes(10);
    charting::record_line(chart, config, s, "dose esketamine 56mg IN lot ABC123", &at).unwrap();
    s
}

fn submit(chart: &mut Chart, config: &Config, session: i64, correction: Option<&str>) -> i64 {
    let on = now().date_naive() - Duration::days(1);
    rems::record_submission(
        chart,
        config,
        session,
        on,
        Some("RX-1"),
        correction,
        now().date_naive(),
        now(),
    )
    .unwrap()
}

/// A generated clinic of a few patients, plus what a generated one may lack: an open session
/// started long ago, sessions whose end was struck (open again), amended (still ended),
/// amended and the amendment struck (open again), struck and ended again; dosing sessions
/// with their integration due, overdue and done; a session started yesterday; and esketamine
/// sessions whose REMS form was submitted, submitted and struck, submitted and amended, not
/// submitted, whose dose was struck, and one still open.
fn clinic() -> (tempfile::TempDir, Chart, Config, Ends, Forms) {
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
    kapchart::demo::scale::generate(&mut chart, &config, 4, 7, now(), &mut |_, _| {}).unwrap();
    let patient = chart.patients().unwrap()[0].id;
    let other = chart.patients().unwrap()[1].id;
    // Open since last year.
    start(&mut chart, patient, SessionKind::Preparation, None, 400);
    // Ended, then its end struck: open again.
    let struck = start(&mut chart, patient, SessionKind::FollowUp, None, 200);
    let e = end(&mut chart, &config, struck, 200);
    charting::strike_entry(&mut chart, e, "ended the wrong session", &now()).unwrap();
    // Ended, its end amended: still ended.
    let amended = start(&mut chart, other, SessionKind::FollowUp, None, 150);
    let e = end(&mut chart, &config, amended, 150);
    amend_end_behind_kapcharts_back(&chart, e);
    // Ended, its end amended, the amendment struck: open again.
    let amended_then_struck = start(&mut chart, other, SessionKind::Preparation, None, 120);
    let e = end(&mut chart, &config, amended_then_struck, 120);
    let amendment = amend_end_behind_kapcharts_back(&chart, e);
    charting::strike_entry(&mut chart, amendment, "the amendment was wrong", &now()).unwrap();
    // Ended, its end struck, ended again: ended.
    let ended_again = start(&mut chart, other, SessionKind::Intake, None, 100);
    let e = end(&mut chart, &config, ended_again, 100);
    charting::strike_entry(&mut chart, e, "ended too early", &now()).unwrap();
    end(&mut chart, &config, ended_again, 99);
    // Integrations: overdue (30 days ago), due (3 days ago), done (10 days ago).
    let overdue = start(&mut chart, patient, SessionKind::Dosing, None, 30);
    let due = start(&mut chart, patient, SessionKind::Dosing, None, 3);
    let done = start(&mut chart, patient, SessionKind::Dosing, None, 10);
    start(&mut chart, patient, SessionKind::Integration, Some(done), 8);
    for (s, days_ago) in [(overdue, 30), (due, 3), (done, 10)] {
        end(&mut chart, &config, s, days_ago);
    }
    start(&mut chart, patient, SessionKind::Intake, None, 1);
    // REMS forms.
    let mut forms = Forms {
        submitted: 0,
        submission_struck: 0,
        submission_amended: 0,
        not_submitted: 0,
        dose_struck: 0,
        still_open: 0,
    };
    for (slot, days_ago) in [
        (&mut forms.submitted, 20),
        (&mut forms.submission_struck, 18),
        (&mut forms.submission_amended, 16),
        (&mut forms.not_submitted, 14),
        (&mut forms.dose_struck, 12),
    ] {
        *slot = esketamine_session(&mut chart, &config, other, days_ago);
        end(&mut chart, &config, *slot, days_ago);
    }
    submit(&mut chart, &config, forms.submitted, None);
    let s = submit(&mut chart, &config, forms.submission_struck, None);
    charting::strike_entry(&mut chart, s, "submitted for the wrong session", &now()).unwrap();
    submit(&mut chart, &config, forms.submission_amended, None);
    submit(
        &mut chart,
        &config,
        forms.submission_amended,
        Some("the fax receipt says the day before"),
    );
    let dose = chart
        .behind_the_door_ref()
        .entries(forms.dose_struck)
        .unwrap()
        .into_iter()
        .find(|e| e.payload.kind() == "dose")
        .unwrap();
    charting::strike_entry(&mut chart, dose.id, "charted in the wrong session", &now()).unwrap();
    forms.still_open = esketamine_session(&mut chart, &config, patient, 0);
    let ends = Ends {
        struck,
        amended,
        amended_then_struck,
        struck_then_ended_again: ended_again,
    };
    (dir, chart, config, ends, forms)
}

fn ids(sessions: &[&Session]) -> Vec<i64> {
    sessions.iter().map(|s| s.id).collect()
}

#[test]
fn the_home_screen_reads_give_what_reading_every_session_gives() {
    let (_dir, chart, config, _, _) = clinic();
    let all = chart.sessions(None).unwrap();
    assert!(all.len() > 50, "a clinic to read: {} sessions", all.len());

    // Integrations still to do: the same list, in the same order.
    let doses = views::first_doses(&chart, &config, &all).unwrap();
    let slow = integration::pending(&all, &doses, &config.integration, now());
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

/// How SQLite runs the home screen's reads, one string per read, for the messages.
fn shown(plans: &[(&str, &Vec<String>)]) -> String {
    plans
        .iter()
        .map(|(name, plan)| format!("{name}:\n{}", plan.join("\n")))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The home screen's reads read what they show: the open sessions and the integrations
/// awaited from the lists the chart keeps, the recent sessions by the `sessions_started`
/// index, the REMS forms due from the REMS indexes with dose rows read only per session. No
/// step walks every session (its rows, its ids, or every session's end) or reads every dose.
#[test]
fn the_home_screen_reads_walk_no_session_and_no_dose_they_do_not_show() {
    let (_dir, chart, config, _, _) = clinic();
    let (open, dosing) = chart
        .behind_the_door_ref()
        .home_read_plans(HomeScan::FromKeptLists)
        .unwrap();
    let rems = chart
        .behind_the_door_ref()
        .rems_outstanding_plan(&config.rems.drugs, RemsScan::ReadingOnlyOutstandingDoses)
        .unwrap();
    let all = shown(&[("open", &open), ("dosing", &dosing), ("rems", &rems)]);
    assert!(
        open.iter()
            .any(|l| l == "USING ROWID SEARCH ON TABLE open_sessions FOR IN-OPERATOR"),
        "{all}"
    );
    assert!(
        open.iter()
            .any(|l| l.starts_with("SEARCH s USING INDEX sessions_started (started_at>?)")),
        "{all}"
    );
    assert!(
        dosing
            .iter()
            .any(|l| l == "USING ROWID SEARCH ON TABLE integrations_awaited FOR IN-OPERATOR"),
        "{all}"
    );
    for line in open.iter().chain(&dosing) {
        assert!(
            !line.starts_with("SCAN s ")
                && line != "SCAN sessions"
                && !line.contains("sessions_ids")
                && !line.contains("sessions_kind")
                && !line.starts_with("SCAN e "),
            "a walk over every session: {line}\n{all}"
        );
    }
    // REMS: the doses from their covering index (no dose row read), the submissions by
    // their index, the dosing sessions by id for the forms still due.
    assert!(
        rems.iter()
            .any(|l| l.starts_with("SEARCH d USING COVERING INDEX entries_dose_drug_time")),
        "{all}"
    );
    assert!(
        rems.iter().any(|l| l.contains("entries_rems_submitted")),
        "{all}"
    );
    for line in &rems {
        let reads_rows = line.starts_with("SEARCH d USING INDEX")
            || line.starts_with("SCAN d")
            || line.starts_with("SCAN s")
            || line.starts_with("SCAN r")
            || line.contains("SCAN entries")
            || line.contains("SCAN sessions");
        assert!(!reads_rows, "a walk over every row: {line}\n{all}");
    }

    // The reads kept for comparison do walk every session, so the bench compares what it says.
    let (open_by_index, dosing_by_index) = chart
        .behind_the_door_ref()
        .home_read_plans(HomeScan::ByIndex)
        .unwrap();
    assert!(
        open_by_index
            .iter()
            .any(|l| l == "SCAN sessions USING COVERING INDEX sessions_ids"),
        "{open_by_index:?}"
    );
    assert!(
        dosing_by_index
            .iter()
            .any(|l| l == "SEARCH s USING INDEX sessions_kind (kind=?)"),
        "{dosing_by_index:?}"
    );
    let (open_before, dosing_before) = chart
        .behind_the_door_ref()
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
    let rems_before = chart
        .behind_the_door_ref()
        .rems_outstanding_plan(&config.rems.drugs, RemsScan::ReadingEveryDose)
        .unwrap();
    assert!(
        rems_before
            .iter()
            .any(|l| l.starts_with("SEARCH d USING INDEX entries_dose_drug")),
        "{rems_before:?}"
    );
}

const SCANS: [HomeScan; 3] = [
    HomeScan::FromKeptLists,
    HomeScan::ByIndex,
    HomeScan::ReadingEverySessionRow,
];

/// The three ways of reading give the same sessions, in the same order; the kept list of open
/// sessions holds exactly the sessions whose end does not stand.
#[test]
fn the_home_screen_reads_from_the_kept_lists_give_what_every_other_way_gives() {
    let (_dir, chart, _config, ends, _) = clinic();
    let all = chart.sessions(None).unwrap();
    for days in [0, 1, 10, 3 + views::RECENT_DAYS, 400, 5000] {
        let since = now() - Duration::days(days);
        let read: Vec<Vec<Session>> = SCANS
            .iter()
            .map(|scan| {
                chart
                    .behind_the_door_ref()
                    .sessions_since_or_open_by(since, *scan)
                    .unwrap()
            })
            .collect();
        assert_eq!(read[0], read[1], "since {days} days ago");
        assert_eq!(read[0], read[2], "since {days} days ago");
        let mut expected: Vec<&Session> = all
            .iter()
            .filter(|s| s.started >= since || s.ended.is_none())
            .collect();
        expected.sort_by_key(|s| std::cmp::Reverse((s.started.timestamp_millis(), s.id)));
        assert_eq!(ids(&read[0].iter().collect::<Vec<_>>()), ids(&expected));
    }
    // From tomorrow: the open sessions alone, whenever they started.
    let open = chart
        .behind_the_door_ref()
        .sessions_since_or_open_by(now() + Duration::days(1), HomeScan::FromKeptLists)
        .unwrap();
    let open_ids: Vec<i64> = open.iter().map(|s| s.id).collect();
    let expected: Vec<&Session> = all.iter().filter(|s| s.ended.is_none()).collect();
    assert_eq!(open.iter().collect::<Vec<_>>(), expected);
    assert!(open_ids.contains(&ends.struck), "an end struck reopens");
    assert!(
        open_ids.contains(&ends.amended_then_struck),
        "an amended end struck reopens"
    );
    assert!(!open_ids.contains(&ends.amended), "an amended end stands");
    assert!(
        !open_ids.contains(&ends.struck_then_ended_again),
        "a session ended again is ended"
    );
    assert!(
        open.iter().any(|s| s.started < now() - Duration::days(300)),
        "the long-open sessions are found"
    );

    let read: Vec<Vec<Session>> = SCANS
        .iter()
        .map(|scan| {
            chart
                .behind_the_door_ref()
                .dosing_sessions_without_integration_by(*scan)
                .unwrap()
        })
        .collect();
    assert_eq!(read[0], read[1]);
    assert_eq!(read[0], read[2]);
    let integrated: Vec<i64> = all.iter().filter_map(|s| s.dosing_session_id).collect();
    let expected: Vec<&Session> = all
        .iter()
        .filter(|s| s.kind == SessionKind::Dosing && !integrated.contains(&s.id))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(read[0].iter().collect::<Vec<_>>(), expected);
    // And the chart finds its kept lists in agreement with the record.
    assert_eq!(chart.verify().unwrap().kept_lists, Vec::<String>::new());
}

/// The home screen's REMS count is the `rems list` queue's: the forms without a submission
/// that stands, and the oldest deadline among them; reading only the outstanding forms' doses
/// gives what reading every dose gives.
#[test]
fn the_home_screen_counts_the_rems_forms_the_queue_lists_as_not_submitted() {
    let (_dir, chart, config, _, forms) = clinic();
    let by_outstanding = chart
        .behind_the_door_ref()
        .rems_outstanding_by(&config.rems.drugs, RemsScan::ReadingOnlyOutstandingDoses)
        .unwrap();
    let by_every_dose = chart
        .behind_the_door_ref()
        .rems_outstanding_by(&config.rems.drugs, RemsScan::ReadingEveryDose)
        .unwrap();
    assert_eq!(by_outstanding, by_every_dose);

    let queue = rems::queue(&chart, &config, now().date_naive(), now()).unwrap();
    let listed: Vec<i64> = queue.iter().map(|f| f.session.id).collect();
    let not_submitted: Vec<&rems::RemsFormData> =
        queue.iter().filter(|f| f.submission.is_none()).collect();
    let due: Vec<i64> = not_submitted.iter().map(|f| f.session.id).collect();
    assert!(due.contains(&forms.not_submitted), "{due:?}");
    assert!(due.contains(&forms.submission_struck), "{due:?}");
    assert!(due.contains(&forms.still_open), "{due:?}");
    assert!(!due.contains(&forms.submitted), "{due:?}");
    assert!(!due.contains(&forms.submission_amended), "{due:?}");
    assert!(!listed.contains(&forms.dose_struck), "{listed:?}");

    // Through the path the user takes: the home screen's data.
    let home = views::home_data(&chart, &config, now()).unwrap();
    let expected = not_submitted
        .iter()
        .map(|f| f.form.deadline)
        .min()
        .map(|oldest_deadline| rems::FormsDue {
            count: not_submitted.len(),
            oldest_deadline,
        });
    assert_eq!(home.rems_due, expected);
    assert_eq!(by_outstanding.count, not_submitted.len());
}

/// The migration fills the kept lists from the record of a chart written before it.
#[test]
fn the_migration_fills_the_kept_lists_from_the_record() {
    let (_dir, chart, _config, _, _) = clinic();
    let before = (
        chart
            .behind_the_door_ref()
            .sessions_since_or_open_by(now() + Duration::days(1), HomeScan::ByIndex)
            .unwrap(),
        chart
            .behind_the_door_ref()
            .dosing_sessions_without_integration_by(HomeScan::ByIndex)
            .unwrap(),
    );
    let migration = schema::MIGRATIONS
        .iter()
        .find(|m| m.contains("CREATE TABLE open_sessions"))
        .unwrap();
    let conn = chart.behind_the_door_ref().raw_connection();
    conn.execute_batch(
        "DROP TABLE open_sessions; DROP TABLE integrations_awaited;
         DROP INDEX entries_dose_drug_time;
         DROP TRIGGER open_sessions_session_started; DROP TRIGGER open_sessions_session_ended;
         DROP TRIGGER open_sessions_end_corrected; DROP TRIGGER integrations_awaited_dosing_started;
         DROP TRIGGER integrations_awaited_integration_started;",
    )
    .unwrap();
    conn.execute_batch(migration).unwrap();
    let after = (
        chart
            .behind_the_door_ref()
            .sessions_since_or_open_by(now() + Duration::days(1), HomeScan::FromKeptLists)
            .unwrap(),
        chart
            .behind_the_door_ref()
            .dosing_sessions_without_integration_by(HomeScan::FromKeptLists)
            .unwrap(),
    );
    assert!(!after.0.is_empty() && !after.1.is_empty());
    assert_eq!(after, before);
    let verified = chart.verify().unwrap();
    assert_eq!(verified.kept_lists, Vec::<String>::new());
    assert_eq!(verified.schema_problems, Vec::<String>::new());
}
