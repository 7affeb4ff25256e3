//! A realistic dosing session charted through the library at fixed times, for state and
//! snapshot tests of the terminal UI.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone};
use kapchart::app::Chart;
use kapchart::app::charting;
use kapchart::config::Config;
use kapchart::domain::SessionKind;
use kapchart::domain::entry::{Acknowledgement, AldreteScore, RideHome};
use kapchart::domain::{FlagCode, Payload};
use kapchart::store::{NewPatient, NewSession};
use kapchart::tui::live::LiveData;

pub struct Fixture {
    pub _dir: tempfile::TempDir,
    pub chart: Chart,
    pub config: Config,
    pub session: i64,
    pub start: DateTime<FixedOffset>,
}

/// 10:00 on 26 Nov 2026 at UTC+01:00, plus `minutes`.
pub fn at(minutes: i64) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 26, 10, 0, 0)
        .unwrap()
        + Duration::minutes(minutes)
}

/// A dosing session for a 70 kg patient: baseline at 10:00 (a pre-dose BP caution), dose at
/// 10:10, checks at T+15 and T+30, a BP alert and a correction, charted up to `upto` minutes.
pub fn dosing_session(upto: i64) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut chart = Chart::create(
        &dir.path().join("c.db"),
        "pw",
        "Dr. Mara Quinn",
        2000,
        at(-600),
    )
    .unwrap();
    let config = Config::default();
    let patient = chart
        .behind_the_door()
        .add_patient(
            &NewPatient {
                name: "Alex Rivera".into(),
                dob: NaiveDate::from_ymd_opt(1986, 4, 12).unwrap(),
                mrn: Some("DEMO-1001".into()),
                weight_kg: Some(70.0),
            },
            at(-600),
        )
        .unwrap();
    let session = chart
        .behind_the_door()
        .start_session(
            &NewSession {
                patient_id: patient,
                kind: SessionKind::Dosing,
                started: at(-5),
                intention: Some("To meet my grief with less fear".into()),
                dosing_session_id: None,
            },
            at(-5),
        )
        .unwrap();
    let mut f = Fixture {
        _dir: dir,
        chart,
        config,
        session,
        start: at(-5),
    };
    let script: &[(i64, &str)] = &[
        (0, "bp 146/92 hr 80 spo2 98 rr 14 temp 36.7"),
        (2, "moaas 5"),
        (8, "obs eye mask on, playlist started #setting"),
        (10, "dose ketamine 0.75mg/kg IM"),
        (25, "bp 138/88 hr 86 spo2 97 rr 14"),
        (26, "moaas 4"),
        (
            33,
            "obs \"it's like warm water over my chest\" #somatic #insight",
        ),
        (40, "bp 164/98 hr 96 spo2 91 rr 12"),
        (41, "moaas 2"),
        (44, "obs tearful, holding hands on chest #distress"),
    ];
    for (minute, line) in script.iter().filter(|(m, _)| *m <= upto) {
        f.log_at(*minute, line);
        if *minute == 0 {
            let caution = f.lines_now().last().unwrap().entry.id;
            f.record_at(
                3,
                vec![Payload::Acknowledgement(Acknowledgement {
                    entry: caution,
                    flag: FlagCode::BpPredose,
                    note: "rechecked after rest; proceeding".into(),
                })],
            );
        }
    }
    if upto >= 46 {
        // The T+30 SpO2 was misread: amended.
        let target = f
            .lines_now()
            .iter()
            .find(|l| l.entry.event_time == at(40))
            .unwrap()
            .entry
            .id;
        charting::amend_entry(
            &mut f.chart,
            &f.config,
            target,
            "probe slipped; re-read",
            "bp 164/98 hr 96 spo2 95 rr 12",
            &at(46),
        )
        .unwrap();
    }
    f
}

impl Fixture {
    pub fn log_at(&mut self, minute: i64, line: &str) {
        let typed = at(minute) + Duration::seconds(30);
        let line = format!("{} {line}", at(minute).format("@%H:%M"));
        charting::record_line(&mut self.chart, &self.config, self.session, &line, &typed).unwrap();
    }

    pub fn record_at(&mut self, minute: i64, payloads: Vec<Payload>) {
        charting::record_payloads(
            &mut self.chart,
            &self.config,
            self.session,
            payloads,
            &at(minute),
        )
        .unwrap();
    }

    pub fn lines_now(&self) -> Vec<kapchart::domain::ChartLine> {
        charting::session_chart(&self.chart, &self.config, self.session)
            .unwrap()
            .lines()
            .to_vec()
    }

    pub fn live_data(&self) -> LiveData {
        kapchart::app::views::live_data(&self.chart, &self.config, self.session).unwrap()
    }

    /// Discharge entries: Aldrete 10 and a ride home, at `minute`.
    pub fn discharge_at(&mut self, minute: i64) {
        self.record_at(
            minute,
            vec![
                Payload::Aldrete(AldreteScore {
                    activity: 2,
                    respiration: 2,
                    circulation: 2,
                    consciousness: 2,
                    spo2: 2,
                }),
                Payload::RideHome(RideHome {
                    who: "partner (Chris)".into(),
                }),
            ],
        );
    }

    /// The rest of the monitoring a clinician would chart by `minute`: vitals at each
    /// protocol check still open after T+30 (the dose is at minute 10) and an
    /// acknowledgement of every alert still open, two minutes after it.
    #[allow(dead_code)]
    pub fn complete_monitoring(&mut self, minute: i64) {
        for check in [50, 55, 70, 100, 130].into_iter().filter(|m| *m <= minute) {
            self.log_at(check, "bp 128/80 hr 72 spo2 98 rr 14");
        }
        let open: Vec<(i64, FlagCode, DateTime<FixedOffset>)> =
            charting::session_chart(&self.chart, &self.config, self.session)
                .unwrap()
                .open_alerts()
                .iter()
                .map(|a| (a.line.entry.id, a.flag.code, a.line.entry.event_time))
                .collect();
        for (entry, flag, when) in open {
            let after = (when - at(0)).num_minutes() + 2;
            self.record_at(
                after.min(minute),
                vec![Payload::Acknowledgement(Acknowledgement {
                    entry,
                    flag,
                    note: "seen; prescriber informed".into(),
                })],
            );
        }
    }
}

/// `text` with every Ed25519 signature and public key of the chart's notes and addenda (as
/// exports write them, base64) replaced by a placeholder. Each chart makes its own keys, so
/// these differ from run to run: golden files hold the placeholders, and
/// tests/signatures.rs checks real signatures, inside and outside kapchart.
pub fn mask_ed25519(chart: &Chart, text: &str) -> String {
    use kapchart::domain::signature::base64;
    let ids: Vec<i64> = {
        let conn = chart.behind_the_door_ref().raw_connection();
        let mut stmt = conn.prepare("SELECT id FROM notes ORDER BY id").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let mut out = text.to_string();
    for id in ids {
        let note = chart.note(id).unwrap();
        let seals = note
            .signature
            .iter()
            .filter_map(|s| s.ed25519.as_ref())
            .chain(note.addenda.iter().filter_map(|a| a.ed25519.as_ref()));
        for seal in seals {
            out = out
                .replace(&base64(&seal.signature), "MASKED-ED25519-SIGNATURE")
                .replace(&base64(&seal.public_key), "MASKED-ED25519-PUBLIC-KEY");
        }
    }
    out
}

/// A drafted note with the clinician's sections written (the account, the assessment, the
/// plan), as a clinician completes it before signing.
pub fn completed_note(text: &str) -> String {
    text.lines()
        .map(|l| match l.trim_end() {
            "Assessment:" => "Assessment: settled, oriented.".to_string(),
            "Plan:" => "Plan: continue the course.".to_string(),
            t if t.starts_with("Patient's account") => format!("{t} slept well since."),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
