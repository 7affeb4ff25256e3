//! Searching the chart by words: the index finds exactly what the words mean
//! (`domain::search::Words::matches`) for entries, notes and addenda, whatever is typed; the
//! command line and the search screen show where, when, who and the words found, struck and
//! amended entries marked; every search is audited; `verify` names where the index disagrees
//! with the record without finding the record damaged, and the rebuild mends it; a chart from
//! before the index is filled when it opens.

mod common;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone};
use common::Home;
use kapchart::app::Chart;
use kapchart::app::{charting, search};
use kapchart::config::Config;
use kapchart::domain::search::{Found, Words, line_text};
use kapchart::domain::{EntryStatus, SessionKind};
use kapchart::store::{NewPatient, NewSession, Second};
use serde_json::Value;
use std::collections::BTreeSet;

const PASS: &str = "search passphrase";
const WHO: &str = "Dr. Search";

fn now() -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 26, 10, 0, 0)
        .unwrap()
}

/// What a clinic charts, and what a search's syntax could take for its own: accents in both
/// cases, Greek with its final sigma, Cyrillic, CJK, hyphens, apostrophes, quotes, `*`, `%`,
/// `_`, AND, OR, NOT, NEAR, column filters, parentheses, digits inside words.
const LINES: &[&str] = &[
    "obs patient reports nausea, \"like a wave\" #somatic",
    "obs Nausea settled after ondansetron",
    "obs nauseous; asked for the bucket",
    "obs Émile says the room is far away #dissociation",
    "obs émilie visited, calm",
    "obs ÉLODIE's playlist: Ångström, Søren, Łódź",
    "obs Σοφίας ΣΟΦΊΑΣ σοφια",
    "obs Ян Новак: всё хорошо",
    "obs 患者 安静",
    "obs AND OR NOT NEAR(a b) text:nausea {text}: x",
    "obs 100% sure_thing a_b*c \"quoted\" (paren) -minus ^caret",
    "obs O'Brien and O’Neill, d'Arcy, anne-marie",
    "obs tearful, holding hands on chest #distress",
    "obs eye mask on, playlist started #setting",
    "bp 164/98 hr 96 spo2 91 rr 12",
    "dose ketamine 0.75mg/kg IM",
    "moaas 2",
];

const NOTE: &str = "## Data\nNausea at T+40, settled. \"It felt like falling\" said Émile.\nPlan: continue; revisit the ondansetron dose.";
const ADDENDUM: &str = "Called the next day: no nausea overnight, slept ten hours.";

struct Corpus {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    chart: Chart,
    /// Everything searchable, as (what, text).
    texts: Vec<(Found, String)>,
}

/// Two patients, each with a dosing session holding the lines, one struck and one amended;
/// the first patient's session has a signed note with an addendum, the second a draft.
fn corpus() -> Corpus {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let mut chart = Chart::create(&path, PASS, WHO, 2000, now() - Duration::days(30)).unwrap();
    let config = Config::default();
    let mut sessions = Vec::new();
    for (i, name) in ["Alex Rivera", "Sam Okafor"].iter().enumerate() {
        let patient = chart
            .behind_the_door()
            .add_patient_record(
                &NewPatient {
                    name: (*name).into(),
                    dob: NaiveDate::from_ymd_opt(1980, 5, 17).unwrap(),
                    mrn: None,
                    weight_kg: Some(70.0),
                },
                Second::Meant,
                now() - Duration::days(20),
            )
            .unwrap();
        let started = now() - Duration::days(10 - i as i64);
        let session = chart
            .behind_the_door()
            .start_session(
                &NewSession {
                    patient_id: patient,
                    kind: SessionKind::Dosing,
                    started,
                    intention: None,
                    dosing_session_id: None,
                },
                started,
            )
            .unwrap();
        for (m, line) in LINES.iter().enumerate() {
            let at = started + Duration::minutes(m as i64 + 1);
            charting::record_line(&mut chart, &config, session, line, &at).unwrap();
        }
        let lines = charting::session_chart(&chart, &config, session).unwrap();
        let nauseous = lines.lines()[2].entry.id;
        let tearful = lines.lines()[12].entry.id;
        let at = started + Duration::minutes(40);
        charting::strike_entry(&mut chart, nauseous, "wrong patient's chart", &at).unwrap();
        charting::amend_entry(
            &mut chart,
            &config,
            tearful,
            "misheard",
            "obs tearful, then laughing #distress",
            &at,
        )
        .unwrap();
        sessions.push(session);
    }
    // The first session's note, signed, with an addendum; the second's a draft.
    let (note, _) = chart
        .behind_the_door()
        .note_for_dosing(sessions[0], "dap", now() - Duration::days(9))
        .unwrap();
    chart
        .behind_the_door()
        .save_draft(
            note.id,
            "a first draft about dizziness",
            now() - Duration::days(9),
        )
        .unwrap();
    chart
        .behind_the_door()
        .save_draft(note.id, NOTE, now() - Duration::days(9))
        .unwrap();
    chart
        .behind_the_door()
        .sign_note(note.id, None, now() - Duration::days(9))
        .unwrap();
    chart
        .behind_the_door()
        .add_addendum(note.id, ADDENDUM, now() - Duration::days(8))
        .unwrap();
    let (draft, _) = chart
        .behind_the_door()
        .note_for_dosing(sessions[1], "dap", now() - Duration::days(8))
        .unwrap();
    chart
        .behind_the_door()
        .save_draft(
            draft.id,
            "Draft: nausea again; Σοφίας visited",
            now() - Duration::days(8),
        )
        .unwrap();

    let mut texts = Vec::new();
    for s in &sessions {
        let lines = charting::session_chart(&chart, &config, *s).unwrap();
        for l in lines.lines() {
            texts.push((
                Found::Entry {
                    id: l.entry.id,
                    status: l.status,
                },
                line_text(&l.entry),
            ));
        }
    }
    let signed = chart.note(note.id).unwrap();
    texts.push((
        Found::Note {
            id: note.id,
            signed: true,
        },
        signed.signature.unwrap().text,
    ));
    for a in signed.addenda {
        texts.push((
            Found::Addendum {
                id: a.id,
                note: note.id,
            },
            a.text,
        ));
    }
    texts.push((
        Found::Note {
            id: draft.id,
            signed: false,
        },
        chart.note(draft.id).unwrap().draft.unwrap().text,
    ));
    Corpus {
        _dir: dir,
        path,
        chart,
        texts,
    }
}

/// What the chart finds for `typed`, by (what, text).
fn found(chart: &Chart, typed: &str) -> BTreeSet<(String, String)> {
    let results = search::search(chart, typed, None, 10_000).unwrap();
    assert!(!results.more);
    results
        .hits
        .iter()
        .map(|h| (format!("{:?}", h.found), h.text.clone()))
        .collect()
}

/// What the words mean, over the corpus.
fn meant(c: &Corpus, typed: &str) -> BTreeSet<(String, String)> {
    let words = Words::typed(typed);
    c.texts
        .iter()
        .filter(|(_, t)| words.matches(t))
        .map(|(f, t)| (format!("{f:?}"), t.clone()))
        .collect()
}

/// For every beginning of every word of the corpus (one to five letters, as typed, in upper
/// and lower case), every word and pairs of them, the chart finds exactly what the words
/// mean: entries (the struck, amended and correcting ones too), notes and addenda.
#[test]
fn the_index_finds_what_the_words_mean() {
    let c = corpus();
    let mut needles = BTreeSet::new();
    let words: Vec<String> = c
        .texts
        .iter()
        .flat_map(|(_, t)| {
            kapchart::domain::search::tokens(t)
                .map(|(_, w)| w.to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    for w in &words {
        let chars: Vec<char> = w.chars().collect();
        for len in 1..=chars.len().min(5) {
            let piece: String = chars[..len].iter().collect();
            needles.insert(piece.to_uppercase());
            needles.insert(piece.to_lowercase());
            needles.insert(piece);
        }
        needles.insert(w.clone());
    }
    for pair in words.windows(2) {
        needles.insert(pair.join(" "));
    }
    for extra in [
        "naus ondan",
        "ondan naus",
        "nausea zzz",
        "emile",
        "σοφιασ",
        "a b c",
    ] {
        needles.insert(extra.to_string());
    }
    let mut some = 0;
    for needle in &needles {
        let expected = meant(&c, needle);
        some += usize::from(!expected.is_empty());
        assert_eq!(found(&c.chart, needle), expected, "{needle:?}");
    }
    assert!(
        some > 200,
        "{some} of {} needles find something",
        needles.len()
    );
    // Spot checks of the meaning itself.
    assert_eq!(meant(&c, "naus").len(), 11, "{:#?}", meant(&c, "naus"));
    assert!(meant(&c, "sea").is_empty(), "inside a word finds nothing");
    assert!(!meant(&c, "ΣΟΦΙΑΣ").is_empty() || meant(&c, "σοφίας").len() > 1);
    assert!(meant(&c, "emile").is_empty(), "accents count");
    assert_eq!(
        meant(&c, "dizziness").len(),
        0,
        "a note is found by its text as it stands, not an earlier draft"
    );
}

/// Quotes, FTS5's operators and syntax, `*`, `%`, NUL, escape sequences, bidirectional
/// controls and megabytes are only text: no error, and exactly what the words mean (text
/// with a control character finds nothing, as no charted text holds one).
#[test]
fn hostile_words_neither_fail_nor_match_wrongly() {
    let c = corpus();
    let megabyte = "an\"d OR *%_".repeat(100_000);
    // Distinct words, fewer letters than a note holds: searched, and found in nothing.
    let many: String = (0..8_000).map(|i| format!("w{i} ")).collect();
    let too_many: String = (0..60_000).map(|i| format!("w{i} ")).collect();
    let hostile = [
        "\"",
        "\"\"",
        "\"nausea\"",
        "nau\"sea",
        "*",
        "naus*",
        "*naus",
        "%",
        "100%",
        "_",
        "a_b*",
        "sure_thing",
        "AND",
        "OR",
        "NOT",
        "nausea AND",
        "OR nausea",
        "NOT nausea",
        "nausea NOT ondansetron",
        "NEAR(nausea ondansetron)",
        "NEAR",
        "text:nausea",
        "{text}: nausea",
        "-nausea",
        "^nausea",
        "nausea^",
        "(",
        ")",
        "(nausea)",
        "'",
        "''",
        "O'Brien",
        "O’Neill",
        "\\",
        "\\\"",
        "\u{1b}[31m",
        "\u{1b}",
        "nausea\u{1b}[2J",
        "\0",
        "a\0b",
        "\n",
        "nausea\nondan",
        "\u{202e}nausea",
        "\u{2066}",
        "\u{7f}",
        "ं",
        "हिंदी",
        "\u{e000}",
        "患",
        "患者",
        "ЯН",
        "всё",
        &megabyte,
        &many,
        &too_many,
    ];
    for typed in hostile {
        let expected = meant(&c, typed);
        let results = search::search(&c.chart, typed, None, 10_000).unwrap();
        let got: BTreeSet<(String, String)> = results
            .hits
            .iter()
            .map(|h| (format!("{:?}", h.found), h.text.clone()))
            .collect();
        assert_eq!(got, expected, "{:?}", typed.get(..40).unwrap_or(typed));
        if typed.chars().any(|ch| ch.is_control()) {
            assert!(got.is_empty(), "{typed:?}");
            assert!(results.why_nothing().is_some());
        }
    }
    for (typed, text) in [
        (
            "\"nausea\"",
            "patient reports nausea, \"like a wave\" #somatic",
        ),
        (
            "a_b*",
            "100% sure_thing a_b*c \"quoted\" (paren) -minus ^caret",
        ),
        ("NEAR(a b)", "AND OR NOT NEAR(a b) text:nausea {text}: x"),
        ("患者", "患者 安静"),
    ] {
        let texts: Vec<String> = found(&c.chart, typed).into_iter().map(|(_, t)| t).collect();
        assert!(texts.iter().any(|t| t == text), "{typed:?}: {texts:?}");
    }
    assert!(Words::typed(&too_many) != Words::typed(&many));
}

/// Through the command a clinician runs: where, when and who for each find, the words marked
/// in the text, struck and amended entries said to be so, notes and addenda found, one
/// patient's record alone with --patient, and JSON with the same.
#[test]
fn kapchart_search_shows_where_when_who_and_the_words_marked() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let other = home.ok(&[
        "patient",
        "add",
        "--name",
        "Sam Okafor",
        "--dob",
        "1979-09-30",
    ]);
    let other_session = home.ok(&["session", "start", "--patient", &other, "--kind", "intake"]);
    home.ok(&[
        "log",
        "--session",
        &other_session,
        "obs nausea on the drive in",
    ]);
    let first = home.ok(&["log", "--session", &session, "obs nausea at T+20 #somatic"]);
    let struck = home.ok(&["log", "--session", &session, "obs Nauseous, vomited once"]);
    home.ok(&[
        "strike",
        &struck,
        "--reason",
        "charted for the wrong patient",
    ]);
    let amended = home.ok(&["log", "--session", &session, "obs mild nausea"]);
    let amendment = home.ok(&[
        "amend",
        &amended,
        "--reason",
        "misheard",
        "obs moderate nausea",
    ]);
    home.ok(&["log", "--session", &session, "dose ketamine 35mg IM"]);
    let note: Value =
        serde_json::from_str(&home.ok(&["note", "draft", "--session", &session, "--json"]))
            .unwrap();
    let note = note["id"].to_string();
    home.complete_note(&note);
    home.ok(&["note", "sign", &note, "--reason", "session still open"]);
    home.ok(&[
        "note",
        "addend",
        &note,
        "Called next day: no nausea overnight.",
    ]);

    let out = home.ok(&["search", "naus"]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("7 found for \"naus\", newest first"),
        "{out}"
    );
    let heading = |what: &str| {
        lines
            .iter()
            .position(|l| l.ends_with(what))
            .unwrap_or_else(|| panic!("no {what:?} in\n{out}"))
    };
    let today = common::child_now().format("%Y-%m-%d").to_string();
    let h = heading(&format!("· entry {}", first.trim()));
    assert!(
        lines[h].contains("Test Patient (patient 1) · dosing session 1 · Dr. Test")
            && lines[h].contains(&today[..4]),
        "{out}"
    );
    assert_eq!(lines[h + 1], "    [[nausea]] at T+20 #somatic");
    let h = heading(&format!(
        "entry {struck}, STRUCK by entry {} (withdrawn)",
        struck.parse::<i64>().unwrap() + 1
    ));
    assert_eq!(lines[h + 1], "    ✗ [[Nauseous]], vomited once");
    let h = heading(&format!(
        "entry {amended}, AMENDED by entry {amendment} (not current)"
    ));
    assert_eq!(lines[h + 1], "    ✗ mild [[nausea]]");
    let h = heading(&format!("· entry {amendment}"));
    assert_eq!(
        lines[h + 1],
        format!("    moderate [[nausea]] (amends #{amended}: misheard)")
    );
    // The note drafted from the session holds its observations.
    let h = heading(&format!("note {note}, signed"));
    assert!(lines[h + 1].contains("[[nausea]] at T+20"), "{out}");
    let h = heading(&format!("addendum 1 to note {note}"));
    assert_eq!(
        lines[h + 1],
        "    Called next day: no [[nausea]] overnight."
    );
    assert!(
        lines[heading("(patient 2) · intake session 2 · Dr. Test · entry 1")]
            .contains("Sam Okafor")
    );

    // The note is found by its own words.
    let out = home.ok(&["search", "assessment", "settled"]);
    assert!(out.contains(&format!("· note {note}, signed")), "{out}");
    assert!(
        out.contains("[[Assessment]]: steady, [[settled]]."),
        "{out}"
    );

    // One patient's record.
    let out = home.ok(&["search", "nausea", "--patient", &other]);
    assert!(
        out.starts_with("1 found for \"nausea\" in patient 2's record"),
        "{out}"
    );
    let err = home.fails(&["search", "nausea", "--patient", "99"], 1);
    assert!(err.contains("patient 99"), "{err}");

    // JSON: the same finds, with status, the whole text and where the words are in it.
    let v: Value =
        serde_json::from_str(&home.ok(&["search", "nausea", "--json", "--limit", "3"])).unwrap();
    assert_eq!(v["found"].as_array().unwrap().len(), 3, "{v}");
    assert_eq!(v["more"], true);
    assert_eq!(v["words"], serde_json::json!(["nausea"]));
    let all: Value = serde_json::from_str(&home.ok(&["search", "nausea", "--json"])).unwrap();
    let by_id = |kind: &str, id: &str| {
        all["found"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["kind"] == kind && f["id"] == id.parse::<i64>().unwrap())
            .cloned()
            .unwrap_or_else(|| panic!("{kind} {id} in {all}"))
    };
    let e = by_id("entry", &amended);
    assert_eq!(e["status"], "amended");
    assert_eq!(e["corrected_by"].to_string(), amendment);
    assert_eq!(e["text"], "mild nausea");
    assert_eq!(e["marks"], serde_json::json!([[5, 11]]));
    assert_eq!(e["patient"]["name"], "Test Patient");
    assert_eq!(e["session"]["kind"], "dosing");
    assert_eq!(e["author"], "Dr. Test");
    assert!(e["at"].as_str().unwrap().starts_with(&today[..4]));
    assert_eq!(by_id("addendum", "1")["note"].to_string(), note);
    assert!(
        all["found"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["id"] != struck.parse::<i64>().unwrap()),
        "Nauseous begins with naus, not with nausea"
    );

    // Words that find nothing, and words that cannot.
    let out = home.ok(&["search", "zebra"]);
    assert_eq!(out, "nothing found for \"zebra\"");
    let out = home.ok(&["search", "***", "\"\""]);
    assert!(out.contains("no words to look for"), "{out}");
    let out = home.ok(&["search", "nausea\u{1b}]0;owned\u{7}"]);
    assert!(out.contains("control character"), "{out}");
    assert!(!out.contains('\u{1b}'), "{out:?}");
}

/// A search is a read: one audit row per patient whose record it showed (none of anyone
/// else), one for the chart when it found nothing; the words are in neither the audit trail
/// nor the log.
#[test]
fn a_search_is_audited_as_a_read_and_its_words_stay_on_the_screen() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let other = home.ok(&[
        "patient",
        "add",
        "--name",
        "Sam Okafor",
        "--dob",
        "1979-09-30",
    ]);
    home.ok(&["session", "start", "--patient", &other, "--kind", "intake"]);
    home.ok(&["log", "--session", &session, "obs quietly xylophonic"]);
    home.ok(&["search", "xylophonic"]);
    home.ok(&["search", "zanzibarian"]);
    let trail: Value =
        serde_json::from_str(&home.ok(&["audit", "--json", "--limit", "2"])).unwrap();
    let rows = trail.as_array().unwrap();
    assert_eq!(rows[0]["action"], "chart.search", "{trail}");
    assert_eq!(rows[0]["object_kind"], "chart");
    assert_eq!(rows[1]["action"], "patient.search", "{trail}");
    assert_eq!(rows[1]["object_kind"], "patient");
    assert_eq!(rows[1]["object_id"], 1);
    assert_eq!(rows[1]["clinician"], "Dr. Test");
    // The other patient's trail has no search: nothing of theirs was shown.
    let theirs = home.ok(&["audit", "--patient", &other]);
    assert!(!theirs.contains("search"), "{theirs}");
    let mine = home.ok(&["audit", "--patient", "1"]);
    assert!(mine.contains("patient.search"), "{mine}");
    // Searching one patient who has nothing is a read of their record too.
    home.ok(&["search", "xylophonic", "--patient", &other]);
    let theirs = home.ok(&["audit", "--patient", &other]);
    assert!(theirs.contains("patient.search"), "{theirs}");
    let log = std::fs::read_to_string(
        home.path()
            .join("xdg-state")
            .join("kapchart")
            .join("kapchart.log"),
    )
    .unwrap_or_default();
    assert!(log.contains(" search found=1"), "{log}");
    for text in [&trail.to_string(), &log, &mine] {
        assert!(
            !text.contains("xylophonic") && !text.contains("zanzibarian"),
            "{text}"
        );
    }
    assert!(home.ok(&["verify"]).starts_with("ok"));
}

fn raw(home: &Home) -> rusqlite::Connection {
    kapchart::store::Chart::open_raw_connection(&home.chart(), "", common::PASSPHRASE).unwrap()
}

/// Behind kapchart's back (a raw connection), the index loses an entry, lists one the chart
/// does not hold, holds other text for a third, has its word lists broken, loses a table:
/// `verify` names each by id (no text), fails, does not find the record damaged (writes go
/// on), and says how to rebuild; the rebuild mends it, and the search finds again.
#[test]
fn verify_names_where_the_index_disagrees_and_the_rebuild_mends_it() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let a = home.ok(&["log", "--session", &session, "obs calm, eyes closed"]);
    let b = home.ok(&["log", "--session", &session, "obs tearful then smiling"]);
    let c = home.ok(&["log", "--session", &session, "obs asks for water"]);
    assert!(
        home.ok(&["verify"])
            .contains("search index: agrees with the record")
    );
    {
        let conn = raw(&home);
        conn.execute("DELETE FROM entry_search WHERE rowid = ?1", [&a])
            .unwrap();
        conn.execute(
            "INSERT INTO entry_search (rowid, text) VALUES (9999, 'secret words')",
            [],
        )
        .unwrap();
        conn.execute(
            "UPDATE entry_search SET text = 'nothing to see' WHERE rowid = ?1",
            [&b],
        )
        .unwrap();
    }
    assert!(home.ok(&["search", "tearful"]).starts_with("nothing found"));
    let err = home.fails(&["verify"], 1);
    for said in [
        format!("the search index leaves out entries: {a}"),
        "the search index lists entries the chart does not hold: 9999".to_string(),
        format!("the search index holds other text than the record for entries: {b}"),
        "rebuild it with `kapchart search --rebuild-index`".to_string(),
        "the record verified".to_string(),
    ] {
        assert!(err.contains(&said), "{said:?} not in {err}");
    }
    for text in ["calm", "tearful", "secret", "nothing to see"] {
        assert!(!err.contains(text), "{text} in {err}");
    }
    let (ok, v) = {
        let out = home.run(&["verify", "--json"]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.success(), v)
    };
    assert!(!ok);
    assert_eq!(v["ok"], false);
    assert_eq!(v["search_index"].as_array().unwrap().len(), 3, "{v}");
    // Not damage: no mark, and writes go on.
    assert!(!kapchart::store::damage_mark(&home.chart()).exists());
    home.ok(&["log", "--session", &session, "obs sipping water"]);
    // The rebuild mends it, as an audited write.
    let out = home.ok(&["search", "--rebuild-index"]);
    assert!(
        out.starts_with("search index rebuilt from the record"),
        "{out}"
    );
    assert!(home.ok(&["verify"]).starts_with("ok"));
    assert!(
        home.ok(&["search", "tearful"])
            .contains(&format!("entry {b}"))
    );
    assert!(
        home.ok(&["audit", "--limit", "3"])
            .contains("search.rebuild")
    );

    // Word lists that no longer match their texts (SQLite's own check of FTS5), and a table
    // taken away: the index's problems, not the file's.
    raw(&home)
        .execute(
            "UPDATE entry_search_content SET c0 = 'drinks water' WHERE id = ?1",
            [&c],
        )
        .unwrap();
    let err = home.fails(&["verify"], 1);
    assert!(
        err.contains(
            "the search index is damaged: malformed inverted index for FTS5 table main.entry_search"
        ),
        "{err}"
    );
    assert!(!err.contains("the chart file is damaged"), "{err}");
    assert!(!kapchart::store::damage_mark(&home.chart()).exists());
    raw(&home).execute_batch("DROP TABLE note_search").unwrap();
    let err = home.fails(&["verify"], 1);
    assert!(
        err.contains(
            "the search index does not have kapchart's tables: table note_search is missing"
        ),
        "{err}"
    );
    assert!(!err.contains("schema:"), "{err}");
    home.ok(&["search", "--rebuild-index"]);
    assert!(home.ok(&["verify"]).starts_with("ok"));
    assert!(
        home.ok(&["search", "asks", "water"])
            .contains(&format!("entry {c}"))
    );
    // An FTS5 table whose own content table was dropped: named, not a failure of verify.
    raw(&home)
        .execute_batch("DROP TABLE entry_search_content")
        .unwrap();
    let err = home.fails(&["verify"], 1);
    assert!(
        err.contains("table entry_search_content is missing"),
        "{err}"
    );
    assert!(!kapchart::store::damage_mark(&home.chart()).exists());
    home.ok(&["search", "--rebuild-index"]);
    assert!(home.ok(&["verify"]).starts_with("ok"));
}

/// A chart from before the index (as an older kapchart left it) is filled from the record
/// when it opens: entries (struck and amended ones too), the note as signed, the addendum.
#[test]
fn a_chart_from_before_the_index_is_filled_when_it_opens() {
    let c = corpus();
    let before: Vec<(Found, String)> = c.texts.clone();
    let path = c.path.clone();
    drop(c.chart);
    let conn = kapchart::store::Chart::open_raw_connection(&path, WHO, PASS).unwrap();
    common::rewind_before(&conn, kapchart::store::schema::CHART_SEARCH);
    assert!(conn.prepare("SELECT 1 FROM entry_search").is_err());
    drop(conn);
    common::reopen_after_rewind(&path, WHO, PASS);
    let chart = Chart::open_as(&path, WHO, PASS, 2000).unwrap();
    assert_eq!(
        chart.schema_version().unwrap(),
        kapchart::store::schema::LATEST
    );
    let report = chart.verify().unwrap();
    assert!(
        report.is_ok(),
        "{:?} {:?}",
        report.problems(),
        report.search_index
    );
    let all = search::search(&chart, "naus", None, 10_000).unwrap();
    let expected = before
        .iter()
        .filter(|(_, t)| Words::typed("naus").matches(t))
        .count();
    assert_eq!(all.hits.len(), expected);
    assert!(
        all.hits
            .iter()
            .any(|h| matches!(h.found, Found::Addendum { .. }))
    );
    assert!(
        all.hits
            .iter()
            .any(|h| matches!(h.found, Found::Note { signed: true, .. }))
    );
    assert!(all.hits.iter().any(|h| matches!(
        h.found,
        Found::Entry {
            status: EntryStatus::Struck { .. },
            ..
        }
    )));
    drop(chart);
}

/// What is written from here on is found at once: a note's later draft replaces its words,
/// and each search reads by the index (the entries' read walks the index newest first).
#[test]
fn what_is_written_is_found_and_a_draft_replaces_its_words() {
    let mut c = corpus();
    let config = Config::default();
    let session = c.chart.sessions(None).unwrap()[0].id;
    let (note, _) = c
        .chart
        .behind_the_door()
        .note_for_dosing(session, "dap", now())
        .unwrap();
    let draft_words = |chart: &Chart, w: &str| -> usize {
        search::search(chart, w, None, 100)
            .unwrap()
            .hits
            .iter()
            .filter(|h| matches!(h.found, Found::Note { id, .. } if id == note.id))
            .count()
    };
    if !note.is_signed() {
        c.chart
            .behind_the_door()
            .save_draft(note.id, "zygomatic one", now())
            .unwrap();
        assert_eq!(draft_words(&c.chart, "zygomatic"), 1);
        c.chart
            .behind_the_door()
            .save_draft(note.id, "quixotic two", now())
            .unwrap();
        assert_eq!(draft_words(&c.chart, "zygomatic"), 0);
        assert_eq!(draft_words(&c.chart, "quixotic"), 1);
    }
    charting::record_line(
        &mut c.chart,
        &config,
        session,
        "obs hiccups #somatic",
        &now(),
    )
    .unwrap();
    let hits = search::search(&c.chart, "hiccup", None, 10).unwrap().hits;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].text, "hiccups #somatic");
    assert!(c.chart.verify().unwrap().is_ok());
    // The whole chart: the index walked newest first, stopped at the limit (no sort).
    let plan = c.chart.behind_the_door_ref().search_plan(None).unwrap();
    assert!(
        plan.iter()
            .any(|l| l.starts_with("SCAN f VIRTUAL TABLE INDEX")),
        "{plan:#?}"
    );
    assert!(!plan.iter().any(|l| l.contains("TEMP B-TREE")), "{plan:#?}");
    // One patient: the same walk, each rowid found held to the patient's entries (listed
    // once from their sessions by index) before any entry is read.
    let plan = c.chart.behind_the_door_ref().search_plan(Some(1)).unwrap();
    for step in [
        "SCAN f VIRTUAL TABLE INDEX",
        "LIST SUBQUERY",
        "SEARCH s2 USING COVERING INDEX sessions_patient (patient_id=?)",
        "SEARCH e2 USING COVERING INDEX entries_session_event (session_id=?)",
    ] {
        assert!(
            plan.iter().any(|l| l.starts_with(step)),
            "{step}: {plan:#?}"
        );
    }
    assert!(!plan.iter().any(|l| l.contains("TEMP B-TREE")), "{plan:#?}");
}
