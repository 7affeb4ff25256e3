//! For the runtime's tests: a new chart with one patient and a dosing session, the runtime
//! over it and the app on the sign-in screen, as `kapchart chart` starts.

use super::Runtime;
use super::keymap::Keymap;
use super::sign_in::{Purpose, SignIn};
use super::state::{App, Screen};
use crate::app::Chart;
use crate::config::Config;
use crate::domain::SessionKind;
use crate::store::{NewPatient, NewSession};
use chrono::{DateTime, FixedOffset, NaiveDate};
use std::sync::Arc;

pub(super) struct Bedside {
    pub _dir: tempfile::TempDir,
    pub path: std::path::PathBuf,
    pub rt: Runtime,
    pub app: App,
    pub patient: i64,
    pub session: i64,
}

/// The chart made at `now`, its dosing session started at `started`.
pub(super) fn bedside(now: DateTime<FixedOffset>, started: DateTime<FixedOffset>) -> Bedside {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let mut chart = Chart::create(&path, "pw", "Dr. Mara Quinn", 2000, now).unwrap();
    let patient = chart
        .behind_the_door()
        .add_patient(
            &NewPatient {
                name: "Alex Rivera".into(),
                dob: NaiveDate::from_ymd_opt(1986, 4, 12).unwrap(),
                mrn: None,
                weight_kg: Some(70.0),
            },
            now,
        )
        .unwrap();
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
            now,
        )
        .unwrap();
    let config = Arc::new(Config::default());
    let rt = Runtime {
        chart: Some(chart),
        path: path.clone(),
        config: config.clone(),
        start: None,
        seen_version: None,
    };
    let screen = Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None)));
    let app = App::new(screen, now, Keymap::default(), config);
    Bedside {
        _dir: dir,
        path,
        rt,
        app,
        patient,
        session,
    }
}
