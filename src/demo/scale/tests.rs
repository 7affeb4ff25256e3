use super::*;
use crate::domain::EntryStatus;

fn now() -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
        .unwrap()
}

fn chart(dir: &tempfile::TempDir, name: &str) -> Chart {
    Chart::create(
        &dir.path().join(name),
        "pw",
        "Dr. Scale Test",
        2000,
        now() - Duration::days(4000),
    )
    .unwrap()
}

fn fill(chart: &mut Chart, patients: usize, seed: u64) -> ScaleReport {
    let mut calls = 0;
    let report = generate(
        chart,
        &Config::default(),
        patients,
        seed,
        now(),
        &mut |done, total| {
            assert!(done <= total);
            calls += 1;
        },
    )
    .unwrap();
    assert!(calls > patients, "progress is reported as it goes");
    report
}

/// Every entry's kind, payload, times and flags, in the order written.
fn payloads(chart: &Chart) -> Vec<String> {
    let mut stmt = chart
        .behind_the_door_ref().raw_connection()
        .prepare("SELECT session_id, kind, payload, event_at, recorded_at, flags, corrects FROM entries ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| {
        Ok(format!(
            "{}|{}|{}|{}|{}|{}|{:?}",
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, Option<i64>>(6)?
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[test]
fn the_same_seed_writes_the_same_chart() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = chart(&dir, "a.db");
    let mut b = chart(&dir, "b.db");
    let mut c = chart(&dir, "c.db");
    assert_eq!(fill(&mut a, 2, 7), fill(&mut b, 2, 7));
    let first = payloads(&a);
    assert!(!first.is_empty());
    assert_eq!(first, payloads(&b));
    fill(&mut c, 2, 8);
    assert_ne!(first, payloads(&c), "another seed, another chart");
}

#[test]
fn counts_match_the_chart_every_course_is_whole_and_it_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let mut chart = chart(&dir, "c.db");
    let report = fill(&mut chart, 3, 42);
    assert_eq!(report.patients, 3);
    assert_eq!(chart.patients().unwrap().len(), 3);
    let sessions = chart.sessions(None).unwrap();
    assert_eq!(report.sessions, sessions.len());
    assert_eq!(
        report.entries as i64,
        chart.behind_the_door_ref().entry_count().unwrap()
    );
    // Three patients over ten years: every course has ended before `now`.
    assert_eq!(report.sessions, 3 * SESSIONS_PER_COURSE);
    for p in chart.patients().unwrap() {
        let own: Vec<_> = sessions.iter().filter(|s| s.patient_id == p.id).collect();
        let count = |k: SessionKind| own.iter().filter(|s| s.kind == k).count();
        assert_eq!(count(SessionKind::Intake), 1);
        assert_eq!(count(SessionKind::Preparation), 1);
        assert_eq!(count(SessionKind::Dosing), DOSING_SESSIONS);
        assert_eq!(count(SessionKind::Integration), DOSING_SESSIONS);
        assert!(own.iter().all(|s| s.ended.is_some() && s.started < now()));
        assert!(
            own.iter()
                .all(|s| s.started > now() - Duration::days(HISTORY_DAYS + 1))
        );
        let notes = chart.behind_the_door_ref().notes_of_patient(p.id).unwrap();
        assert_eq!(notes.len(), DOSING_SESSIONS);
        assert!(notes.iter().all(|n| n.is_signed()));
        assert!(course::safety_flag(&chart, p.id).unwrap().is_none());
    }
    // About forty entries in a dosing session, standing ones among them.
    let dosing = sessions
        .iter()
        .find(|s| s.kind == SessionKind::Dosing)
        .unwrap();
    let session =
        crate::app::charting::session_chart(&chart, &Config::default(), dosing.id).unwrap();
    let lines = session.lines();
    assert!((30..=55).contains(&lines.len()), "{} entries", lines.len());
    assert!(
        lines
            .iter()
            .filter(|l| l.status == EntryStatus::Current)
            .count()
            >= 30
    );
    let verified = chart.verify().unwrap();
    assert!(verified.is_ok(), "{verified:?}");
    let per_course = report.entries / 3;
    assert!(
        (ENTRIES_PER_COURSE * 4 / 5..=ENTRIES_PER_COURSE * 6 / 5).contains(&per_course),
        "{per_course} entries per course"
    );
}

/// Esketamine courses have their REMS forms submitted within the deadline once the
/// treatment is a week old, through the same path as `kapchart rems submitted`.
#[test]
fn esketamine_forms_older_than_a_week_are_submitted_within_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let mut chart = chart(&dir, "c.db");
    fill(&mut chart, 20, 5);
    let config = Config::default();
    let today = now().date_naive();
    let queue = rems::queue(&chart, &config, today, now()).unwrap();
    assert!(
        queue.len() >= 6,
        "an esketamine course: {} forms",
        queue.len()
    );
    for f in &queue {
        let treated = f.form.treatment_date;
        match &f.submission {
            Some((_, s)) => {
                assert!(treated + Duration::days(7) < today, "{}", f.session.id);
                assert!(
                    treated <= s.on && s.on <= f.form.deadline,
                    "{}",
                    f.session.id
                );
            }
            None => assert!(treated + Duration::days(7) >= today, "{}", f.session.id),
        }
    }
    assert!(queue.iter().any(|f| f.submission.is_some()));
    assert!(chart.verify().unwrap().is_ok());
}

#[test]
fn the_generator_is_splitmix64_and_spreads_evenly() {
    // The reference SplitMix64 sequence from seed 0: the same on every platform.
    let mut rng = Rng::new(0);
    assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
    assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    let mut counts = [0usize; 4];
    for _ in 0..4000 {
        counts[rng.range(0, 3) as usize] += 1;
    }
    assert!(
        counts.iter().all(|&c| (850..1150).contains(&c)),
        "{counts:?}"
    );
}

/// The stock of a generated chart: every container's ledger sums to its balance and never
/// runs below nothing; each vial a session drew from is wasted to empty at its end, every
/// waste witnessed by a second clinician; esketamine devices are drawn whole; and every dose
/// of ketamine by injection or esketamine names what it drew from.
#[test]
fn the_generated_stock_balances_and_every_vial_is_drawn_then_wasted_witnessed() {
    use crate::domain::stock::ledger::{ContainerState, MovementKind};
    let dir = tempfile::tempdir().unwrap();
    let mut chart = chart(&dir, "c.db");
    fill(&mut chart, 20, 5);
    let ledgers = crate::app::stock::all(&chart).unwrap();
    let receipts = crate::app::stock::records(&chart, "receive", 1000).unwrap();
    assert!(receipts.len() >= 2, "{} deliveries", receipts.len());
    for (row, _) in &receipts {
        let crate::domain::stock::StockRecord::Receive(r) = &row.record else {
            panic!("{row:?}")
        };
        assert!((5..=30).contains(&r.containers), "{r:?}");
        assert_eq!(r.supplier_dea, "RN1234563");
    }
    let mut drug = std::collections::BTreeMap::<String, usize>::new();
    for l in &ledgers {
        let id = l.container.id;
        assert!(l.balances(), "{id}: {:?}", l.lines);
        let sum: f64 = l.lines.iter().map(|x| x.movement.change_mg).sum();
        assert!((sum - l.balance_mg()).abs() < 1e-6, "{id}");
        assert!(
            l.lines.iter().all(|x| x.balance_mg >= -1e-6),
            "{id} runs below nothing: {:?}",
            l.lines
        );
        let drawn = l
            .lines
            .iter()
            .any(|x| x.movement.kind == MovementKind::Administered);
        if drawn {
            *drug.entry(l.container.drug().to_string()).or_default() += 1;
            assert_eq!(l.state(), ContainerState::Empty, "{id} drawn, then emptied");
        } else {
            assert_eq!(
                l.state(),
                ContainerState::Sealed,
                "{id} untouched is sealed"
            );
        }
        for x in &l.lines {
            if let MovementKind::Wasted { manner } = &x.movement.kind {
                assert!(!manner.is_empty());
                assert_eq!(x.movement.witness.as_deref(), Some(WITNESS), "{id}");
                assert_ne!(x.movement.who, WITNESS);
            }
        }
    }
    assert!(drug.get("ketamine").is_some_and(|n| *n >= 20), "{drug:?}");
    assert!(drug.get("esketamine").is_some_and(|n| *n >= 6), "{drug:?}");
    // Each injected ketamine dose and each esketamine dose drew, and the draws are what
    // the doses were.
    let config = Config::default();
    for s in chart.sessions(None).unwrap() {
        if s.kind != SessionKind::Dosing {
            continue;
        }
        let session = crate::app::charting::session_chart(&chart, &config, s.id).unwrap();
        for l in session.lines() {
            if let Payload::Dose(d) = &l.entry.payload
                && (d.drug == "esketamine" || (d.drug == "ketamine" && d.vial.is_some()))
            {
                let sum: f64 = d.drawn.iter().map(|x| x.mg).sum();
                assert!((sum - d.total_mg).abs() < 1e-6, "{d:?}");
            }
        }
    }
    assert!(chart.verify().unwrap().is_ok());
}
