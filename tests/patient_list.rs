//! The home screen's patient list, read a page at a time and filtered by index as the
//! clinician types: the same patients as the in-memory filter it replaced (name or MRN
//! contains the text, case aside) from three characters, names and MRNs that begin with one
//! or two, every patient exactly once while paging, whatever is typed, by index.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone};
use kapchart::app::Chart;
use kapchart::app::patient_list::{self, PAGE, PageRead};
use kapchart::app::views;
use kapchart::config::Config;
use kapchart::domain::Patient;
use kapchart::domain::patient_filter::{CONTAINS_FROM, PatientFilter};
use kapchart::store::{NewPatient, Second};
use kapchart::tui::keymap::{Key, KeyName, Keymap};
use kapchart::tui::sign_in::{Purpose, SignIn};
use kapchart::tui::state::{Action, App, Effect, Screen, update};
use std::sync::Arc;

mod common;

const PASS: &str = "patient list passphrase";
const WHO: &str = "Dr. List";

fn now() -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 26, 10, 0, 0)
        .unwrap()
}

/// Names and MRNs a clinic may hold: accents in both cases, hyphens, apostrophes, spaces,
/// the same name twice, MRNs with letters, dashes and none, and the characters a filter's
/// SQL or FTS5 syntax could take for its own (quotes, `%`, `_`, `*`, AND, OR, NEAR).
const CORPUS: &[(&str, Option<&str>)] = &[
    ("Ada Byron", Some("MRN-0001")),
    ("Bo Chen", Some("mrn-0002")),
    ("Émile Zola", Some("FR-75-001")),
    ("émilie du Châtelet", None),
    ("ÉLODIE Durand", Some("FR-13-200")),
    ("Zoë Ångström", Some("SE_44")),
    ("Søren Kierkegaard", Some("DK 1813")),
    ("Łucja Żak", Some("PL-ŁÓDŹ-9")),
    ("Seán O'Brien", Some("IE'77")),
    ("Anne-Marie O’Neill", Some("AM-1")),
    ("anne marie oneill", Some("AM-2")),
    ("Mary-Kate d'Arcy", None),
    ("ÑUÑEZ, José", Some("ES-0007")),
    ("Grace Hopper", Some("100% SURE")),
    ("Alan Turing", Some("A_B*C")),
    ("Andrea \"Andi\" Ortiz", Some("Q\"1\"")),
    ("Sandra And Orr", Some("NEAR-5")),
    ("Ada Byron", Some("MRN-0099")),
    ("Al", Some("7")),
    ("Ян Новак", Some("RU-2")),
    ("Μαρία Παπαδοπούλου", Some("GR-3")),
];

fn chart_of(patients: &[(&str, Option<&str>)]) -> (tempfile::TempDir, Chart) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let mut chart = Chart::create(&path, PASS, WHO, 2000, now() - Duration::days(30)).unwrap();
    for (name, mrn) in patients {
        chart
            .behind_the_door()
            .add_patient_record(
                &NewPatient {
                    name: (*name).into(),
                    dob: NaiveDate::from_ymd_opt(1970, 5, 17).unwrap(),
                    mrn: mrn.map(str::to_string),
                    weight_kg: None,
                },
                Second::Meant,
                now(),
            )
            .unwrap();
    }
    (dir, chart)
}

/// The filter the home screen had before it read by index, as it was written.
fn in_memory_filter<'a>(patients: &'a [Patient], typed: &str) -> Vec<&'a Patient> {
    let needle = typed.trim().to_lowercase();
    patients
        .iter()
        .filter(|p| {
            needle.is_empty()
                || p.name.to_lowercase().contains(&needle)
                || p.mrn
                    .as_deref()
                    .is_some_and(|m| m.to_lowercase().contains(&needle))
        })
        .collect()
}

/// Every page under what was typed, read as the screen reads them.
fn every_page(chart: &Chart, typed: &str) -> Vec<Patient> {
    let filter = PatientFilter::typed(typed);
    let mut list = patient_list::first_page(chart, filter).unwrap();
    while let Some(read) = list.next_read() {
        let page = patient_list::read(chart, read).unwrap();
        assert!(page.rows.len() <= PAGE);
        assert!(list.take(page));
    }
    list.rows
}

fn ids<'a>(patients: impl IntoIterator<Item = &'a Patient>) -> Vec<i64> {
    patients.into_iter().map(|p| p.id).collect()
}

/// The home screen as the runtime opens it, on this chart.
fn home_screen(chart: &Chart) -> App {
    let config = Config::default();
    let mut app = App::new(
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
        now(),
        Keymap::default(),
        Arc::new(config.clone()),
    );
    let data = views::home_data(chart, &config, now()).unwrap();
    let effect = update(&mut app, Action::HomeLoaded(Ok(data)));
    perform(chart, &mut app, effect);
    app
}

/// Carries out the reads the home screen asks for, as the runtime does; returns how many
/// pages of patients were read.
fn perform(chart: &Chart, app: &mut App, mut effect: Option<Effect>) -> usize {
    let mut pages = 0;
    while let Some(e) = effect {
        effect = match e {
            Effect::LoadPatients(read) => {
                pages += 1;
                update(
                    app,
                    Action::PatientsRead(Ok(patient_list::read(chart, read).unwrap())),
                )
            }
            Effect::LoadPatientSessions(p) => update(
                app,
                Action::PatientSessions(p, Ok(views::patient_sessions(chart, p).unwrap())),
            ),
            other => panic!("the home screen asked for {other:?}"),
        };
    }
    pages
}

fn press(chart: &Chart, app: &mut App, key: &str) -> usize {
    let effect = update(app, Action::Key(Key::parse(key).unwrap()));
    perform(chart, app, effect)
}

fn type_text(chart: &Chart, app: &mut App, text: &str) {
    for c in text.chars() {
        let key = Key {
            code: KeyName::Char(c),
            ctrl: false,
            alt: false,
        };
        let effect = update(app, Action::Key(key));
        perform(chart, app, effect);
    }
}

fn home(app: &App) -> &kapchart::tui::home::Home {
    match &app.screen {
        Screen::Home(h) => h,
        _ => panic!("not the home screen"),
    }
}

fn shown(app: &App) -> Vec<String> {
    home(app)
        .visible_patients()
        .iter()
        .map(|p| p.name.clone())
        .collect()
}

#[test]
fn typing_a_filter_on_the_home_screen_shows_the_patients_it_matches() {
    let (_dir, chart) = chart_of(CORPUS);
    let all = chart.patients().unwrap();
    let mut app = home_screen(&chart);
    assert_eq!(shown(&app).len(), CORPUS.len());
    press(&chart, &mut app, "/");
    type_text(&chart, &mut app, "émi");
    assert_eq!(shown(&app), ["Émile Zola", "émilie du Châtelet"]);
    press(&chart, &mut app, "backspace");
    assert_eq!(home(&app).filter, "ém");
    // Two characters: the names with a word that begins with them, either case.
    assert_eq!(shown(&app), ["Émile Zola", "émilie du Châtelet"]);
    for _ in 0..2 {
        press(&chart, &mut app, "backspace");
    }
    // Accents count; case does not.
    type_text(&chart, &mut app, "emi");
    assert!(shown(&app).is_empty(), "{:?}", shown(&app));
    for _ in 0..3 {
        press(&chart, &mut app, "backspace");
    }
    // One or two characters begin a word of a name or MRN (a family name as well as a
    // given one); three are found anywhere in it.
    type_text(&chart, &mut app, "ch");
    assert_eq!(shown(&app), ["Bo Chen", "émilie du Châtelet"]);
    type_text(&chart, &mut app, "E");
    assert_eq!(shown(&app), ["Bo Chen"]);
    for _ in 0..3 {
        press(&chart, &mut app, "backspace");
    }
    type_text(&chart, &mut app, "he");
    assert!(shown(&app).is_empty(), "inside a word: {:?}", shown(&app));
    type_text(&chart, &mut app, "n");
    assert_eq!(shown(&app), ["Bo Chen"]);
    for _ in 0..3 {
        press(&chart, &mut app, "backspace");
    }
    // Not a letter or digit: no word begins with it, until a third character.
    type_text(&chart, &mut app, "o'");
    assert!(shown(&app).is_empty(), "{:?}", shown(&app));
    for _ in 0..2 {
        press(&chart, &mut app, "backspace");
    }
    type_text(&chart, &mut app, "o'b");
    assert_eq!(shown(&app), ["Seán O'Brien"]);
    press(&chart, &mut app, "enter");
    // The filter stays, and the patient it found is the one the keys act on.
    assert_eq!(home(&app).filter, "o'b");
    assert_eq!(
        home(&app).selected_patient().map(|p| p.name.as_str()),
        Some("Seán O'Brien")
    );
    let effect = update(&mut app, Action::Key(Key::parse("p").unwrap()));
    let brien = all.iter().find(|p| p.name == "Seán O'Brien").unwrap();
    assert_eq!(effect, Some(Effect::OpenPatient(brien.id)));
    // By MRN, any case.
    press(&chart, &mut app, "/");
    for _ in 0..3 {
        press(&chart, &mut app, "backspace");
    }
    type_text(&chart, &mut app, "mrn-00");
    assert_eq!(shown(&app), ["Ada Byron", "Ada Byron", "Bo Chen"]);
    let expected: Vec<String> = in_memory_filter(&all, "mrn-00")
        .iter()
        .map(|p| p.name.clone())
        .collect();
    assert_eq!(shown(&app), expected);
}

/// From three characters, what the chart finds by its index is what the in-memory filter
/// found, for every piece of every name and MRN of the corpus, in both cases; with one or
/// two, the names and MRNs that begin with them.
#[test]
fn the_filter_gives_what_the_in_memory_filter_gave() {
    let (_dir, chart) = chart_of(CORPUS);
    let all = chart.patients().unwrap();
    let mut needles = std::collections::BTreeSet::new();
    for p in &all {
        for text in std::iter::once(p.name.as_str()).chain(p.mrn.as_deref()) {
            let chars: Vec<char> = text.chars().collect();
            for len in 1..=5 {
                for piece in chars.windows(len) {
                    let piece: String = piece.iter().collect();
                    needles.insert(piece.to_uppercase());
                    needles.insert(piece.to_lowercase());
                    needles.insert(piece);
                }
            }
        }
    }
    for extra in [
        "",
        "   ",
        "zzz",
        "xyz",
        "anne",
        " bo ",
        "ÉMILE",
        "ÅNGSTRÖM",
        "o’n",
    ] {
        needles.insert(extra.to_string());
    }
    let mut begins = 0;
    for needle in &needles {
        let found = every_page(&chart, needle);
        let filter = PatientFilter::typed(needle);
        // One or two characters begin a word (or, not letters or digits, find no one): the
        // filter's own meaning. From three, the old in-memory filter's.
        let expected: Vec<&Patient> = match filter {
            _ if needle.trim().chars().count() < CONTAINS_FROM => {
                begins += 1;
                all.iter().filter(|p| filter.matches(p)).collect()
            }
            _ => {
                let old = in_memory_filter(&all, needle);
                let meant: Vec<&Patient> = all.iter().filter(|p| filter.matches(p)).collect();
                assert_eq!(ids(meant), ids(old.iter().copied()), "{needle:?}");
                old
            }
        };
        assert_eq!(ids(&found), ids(expected), "filter {needle:?}");
    }
    assert!(begins > 50, "one and two characters: {begins}");
}

/// Quotes, `%`, `_`, `*`, FTS5's operators and syntax, escape sequences and a megabyte are
/// only text: no error, and exactly the patients whose name or MRN holds them.
#[test]
fn hostile_filters_neither_fail_nor_match_wrongly() {
    let (_dir, chart) = chart_of(CORPUS);
    let all = chart.patients().unwrap();
    let megabyte = "an\"d OR *%_".repeat(100_000);
    let hostile = [
        "\"",
        "\"\"",
        "\"1\"",
        "q\"1",
        "\"andi\"",
        "%",
        "0%",
        "% s",
        "_",
        "e_4",
        "a_b*",
        "*",
        "b*c",
        "and",
        "AND",
        "ada AND bo",
        "bo OR ada",
        "NEAR",
        "NEAR(ada bo)",
        "near-",
        "name:ada",
        "{name}: ada",
        "-ada",
        "^ada",
        "ada*",
        "(",
        ")",
        "'",
        "''",
        "\\",
        "\\\"",
        "\u{1b}[31m",
        "\u{1b}",
        "\0",
        "a\0b",
        "\n",
        "ada\nbo",
        &megabyte,
    ];
    for typed in hostile {
        let found = every_page(&chart, typed);
        let filter = PatientFilter::typed(typed);
        let expected: Vec<&Patient> = all.iter().filter(|p| filter.matches(p)).collect();
        if typed.trim().chars().count() >= CONTAINS_FROM {
            assert_eq!(
                ids(expected.iter().copied()),
                ids(in_memory_filter(&all, typed))
            );
        }
        assert_eq!(ids(&found), ids(expected), "filter {:?}", typed.get(..40));
    }
    for (typed, name) in [
        ("q\"1", "Andrea \"Andi\" Ortiz"),
        ("00%", "Grace Hopper"),
        ("a_b*", "Alan Turing"),
        ("NEAR-", "Sandra And Orr"),
    ] {
        let names: Vec<String> = every_page(&chart, typed)
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, [name], "filter {typed:?}");
    }
    // Typed on the home screen (key by key, so 22 kB rather than the megabyte: a debug
    // build takes about 0.1 ms a key), long text is kept whole and shows nobody.
    let long = &megabyte[..22_000];
    let mut app = home_screen(&chart);
    press(&chart, &mut app, "/");
    type_text(&chart, &mut app, long);
    assert_eq!(home(&app).filter, long);
    assert!(shown(&app).is_empty());
    assert_eq!(home(&app).error, None);
}

/// More patients than a page: moving down one at a time, and `End`, read the pages as the
/// selection reaches them; every patient arrives once, in the list's order.
#[test]
fn paging_through_more_patients_than_a_page() {
    let names: Vec<String> = (0..(3 * PAGE + 17))
        .map(|i| {
            // Names that sort apart from their ids, in both cases, some the same.
            let surname = ["abbott", "Baker", "baker", "Čapek", "Dunn"][i % 5];
            format!("{surname} {:03}", (i * 37) % 60)
        })
        .collect();
    let corpus: Vec<(&str, Option<&str>)> = names.iter().map(|n| (n.as_str(), None)).collect();
    let (_dir, chart) = chart_of(&corpus);
    let all = chart.patients().unwrap();
    assert_eq!(all.len(), names.len());

    let mut app = home_screen(&chart);
    assert_eq!(
        home(&app).visible_patients().len(),
        PAGE,
        "one page at first"
    );
    assert_eq!(home(&app).data.patient_count, all.len());
    // No sessions this week: the patient list has the focus.
    assert_eq!(home(&app).focus, kapchart::tui::home::Focus::Patients);
    let mut selected = Vec::new();
    let mut pages = 0;
    for i in 0..all.len() + 3 {
        if i > 0 {
            pages += press(&chart, &mut app, "down");
        }
        selected.push(home(&app).selected_patient().unwrap().id);
    }
    selected.dedup();
    assert_eq!(selected, ids(&all), "every patient once, in order");
    let more_pages = all.len().div_ceil(PAGE) - 1;
    assert_eq!(
        pages, more_pages,
        "the pages read as the selection reached them"
    );
    assert_eq!(ids(home(&app).visible_patients()), ids(&all));

    // `End` from a fresh screen reads on to the last patient.
    let mut app = home_screen(&chart);
    assert_eq!(press(&chart, &mut app, "end"), more_pages);
    assert_eq!(
        home(&app).selected_patient().map(|p| p.id),
        all.last().map(|p| p.id)
    );
    assert_eq!(ids(home(&app).visible_patients()), ids(&all));
    press(&chart, &mut app, "home");
    assert_eq!(home(&app).patient, 0);

    // `PgDn` under a filter with more matches than a page.
    let bakers: Vec<&Patient> = in_memory_filter(&all, "bak");
    assert!(bakers.len() > PAGE);
    press(&chart, &mut app, "/");
    type_text(&chart, &mut app, "bak");
    press(&chart, &mut app, "enter");
    assert_eq!(home(&app).visible_patients().len(), PAGE);
    for _ in 0..(bakers.len() / 10 + 2) {
        press(&chart, &mut app, "pagedown");
    }
    assert_eq!(
        ids(home(&app).visible_patients()),
        ids(bakers.iter().copied())
    );
    assert_eq!(
        home(&app).selected_patient().map(|p| p.id),
        bakers.last().map(|p| p.id)
    );
}

/// The page and filter reads go by index: the name index in the list's order for a page,
/// the trigram index for three characters, the name and MRN indexes for one or two; no read
/// scans the patients.
#[test]
fn the_list_reads_use_their_indexes() {
    let (_dir, chart) = chart_of(CORPUS);
    let ada = chart.patients().unwrap()[0].clone();
    let plan = |filter: PatientFilter, after: Option<&Patient>| {
        let plan = chart
            .behind_the_door_ref()
            .patient_page_plan(&filter, after)
            .unwrap();
        for line in &plan {
            // A walk of the name index in order, stopped by the page's LIMIT, is not one.
            assert!(
                !(line.starts_with("SCAN p") || line.starts_with("SCAN patients"))
                    || line == "SCAN p USING INDEX patients_by_name",
                "{filter:?}: a scan of every patient: {plan:#?}"
            );
        }
        plan
    };
    for after in [None, Some(&ada)] {
        let page = plan(PatientFilter::All, after);
        // The first page walks the name index from its start; a later one seeks to where the
        // last page ended.
        let expected = match after {
            None => "SCAN p USING INDEX patients_by_name",
            Some(_) => "SEARCH p USING INDEX patients_by_name (name>?)",
        };
        assert!(page.iter().any(|l| l == expected), "{page:#?}");
        assert!(!page.iter().any(|l| l.contains("TEMP B-TREE")), "{page:#?}");
        let contains = plan(PatientFilter::Contains("ada".into()), after);
        assert!(
            contains
                .iter()
                .any(|l| l.starts_with("SCAN s VIRTUAL TABLE INDEX")),
            "{contains:#?}"
        );
        assert!(
            contains
                .iter()
                .any(|l| l.starts_with("SEARCH p USING INTEGER PRIMARY KEY")),
            "{contains:#?}"
        );
        let begins = plan(PatientFilter::Begins("éa".into()), after);
        assert!(
            begins
                .iter()
                .any(|l| l.starts_with("SCAN w VIRTUAL TABLE INDEX")),
            "{begins:#?}"
        );
        assert!(
            begins
                .iter()
                .any(|l| l.starts_with("SEARCH p USING INTEGER PRIMARY KEY")),
            "{begins:#?}"
        );
    }
}

/// The first page of the list under the filter it was asked for (a later read for another
/// filter replaces it, a read overtaken by typing is left out).
#[test]
fn a_page_read_for_an_earlier_filter_is_left_out() {
    let (_dir, chart) = chart_of(CORPUS);
    let mut app = home_screen(&chart);
    press(&chart, &mut app, "/");
    // "b" is typed, its read not yet done; "o" follows.
    let asked = update(&mut app, Action::Key(Key::parse("b").unwrap()));
    let Some(Effect::LoadPatients(for_b)) = asked else {
        panic!("no read: {asked:?}")
    };
    let asked = update(&mut app, Action::Key(Key::parse("o").unwrap()));
    let stale = patient_list::read(&chart, for_b).unwrap();
    assert!(stale.rows.iter().any(|p| p.name == "Bo Chen"));
    update(&mut app, Action::PatientsRead(Ok(stale)));
    assert!(
        shown(&app).is_empty(),
        "nothing shown for a filter no longer typed"
    );
    perform(&chart, &mut app, asked);
    assert_eq!(shown(&app), ["Bo Chen"]);
    assert_eq!(
        home(&app).patients_needed(),
        None::<PageRead>,
        "nothing more to read"
    );
}

/// The search index is derived from the patients: filled from the patients already charted
/// when a chart takes it on, and `verify` says so when it no longer agrees with them.
#[test]
fn the_search_index_is_filled_from_the_patients_and_verified_against_them() {
    let (dir, chart) = chart_of(CORPUS);
    let path = dir.path().join("c.db");
    assert!(chart.verify().unwrap().is_ok());
    drop(chart);
    // A chart from before the index: its patients are found once it is opened.
    let conn = kapchart::store::Chart::open_raw_connection(&path, WHO, PASS).unwrap();
    let version: i64 = conn
        .query_row("SELECT user_version FROM pragma_user_version", [], |r| {
            r.get(0)
        })
        .unwrap();
    common::rewind_before(&conn, kapchart::store::schema::PATIENT_LIST_SEARCH);
    assert!(
        conn.prepare("SELECT 1 FROM patient_search").is_err(),
        "rewound to before the patient search index"
    );
    drop(conn);
    // The open takes the chart forward again (the signed chain's migration, which came after
    // the index's, too); the first admin's certificate goes back.
    common::reopen_after_rewind(&path, WHO, PASS);
    let chart = Chart::open_as(&path, WHO, PASS, 2000).unwrap();
    assert_eq!(chart.schema_version().unwrap(), version);
    let all = chart.patients().unwrap();
    assert_eq!(
        ids(&every_page(&chart, "zol")),
        ids(in_memory_filter(&all, "zol"))
    );
    assert!(chart.verify().unwrap().is_ok(), "{:?}", chart.verify());
    drop(chart);

    // Behind kapchart's back: a patient taken out of the index, a patient who is not there.
    let zola = all.iter().find(|p| p.name == "Émile Zola").unwrap();
    let conn = kapchart::store::Chart::open_raw_connection(&path, WHO, PASS).unwrap();
    conn.execute(
        "INSERT INTO patient_search (patient_search, rowid, name, mrn)
         VALUES ('delete', ?1, ?2, ?3)",
        rusqlite::params![zola.id, zola.name, zola.mrn],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO patient_search (rowid, name, mrn) VALUES (9999, 'Nobody Charted', NULL)",
        [],
    )
    .unwrap();
    drop(conn);
    let chart = Chart::open_as(&path, WHO, PASS, 2000).unwrap();
    assert!(
        every_page(&chart, "zol").is_empty(),
        "the index was changed"
    );
    let report = chart.verify().unwrap();
    let problems = report.problems().join("\n");
    assert!(
        problems.contains("the patient search index lists patients the chart does not hold: 9999"),
        "{problems}"
    );
    assert!(
        problems.contains(&format!(
            "the patient search index leaves out patients: {}",
            zola.id
        )),
        "{problems}"
    );
    assert!(!problems.contains("Zola"), "no patient's name: {problems}");
}

/// Through the command a clinician runs: `kapchart verify` fails when the search index
/// leaves a patient out, names the patient by id only, and passes while it agrees.
#[test]
fn kapchart_verify_names_a_patient_the_search_index_leaves_out() {
    let home = common::Home::new();
    home.ok(&["init", "--clinician", "Dr. Test"]);
    let id = home.ok(&[
        "patient",
        "add",
        "--name",
        "Émile Zola",
        "--dob",
        "1940-04-02",
    ]);
    let ok = home.ok(&["verify"]);
    assert!(
        ok.contains("the patient search index and the home screen's lists verified"),
        "{ok}"
    );
    let conn =
        kapchart::store::Chart::open_raw_connection(&home.chart(), "", common::PASSPHRASE).unwrap();
    conn.execute(
        "INSERT INTO patient_search (patient_search, rowid, name, mrn)
         SELECT 'delete', id, name, mrn FROM patients",
        [],
    )
    .unwrap();
    drop(conn);
    let err = home.fails(&["verify"], 1);
    assert!(
        err.contains(&format!(
            "the patient search index leaves out patients: {}",
            id.trim()
        )),
        "{err}"
    );
    assert!(!err.contains("Zola"), "no patient's name: {err}");
}
