//! Stand-in until the team branch lands; the lead deletes this file at merge.
//!
//! The two calls the lock screen makes, with the team branch's signatures: `team` (the
//! sign-in list, read without a passphrase) and `Chart::sign_in` (checks one clinician's
//! passphrase and signs them in). On this branch a chart has one clinician and one passphrase.

use super::{Chart, Result, StoreError, key, schema};
use crate::domain::Clinician;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// One clinician of the chart's team, as the sign-in list shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamMember {
    pub id: i64,
    pub name: String,
}

/// The chart's team, read without a passphrase. On this branch the one clinician's name is
/// inside the encrypted chart, so the list is empty: the lock screen offers the clinician
/// who is signed in.
pub fn team(path: &Path) -> Result<Vec<TeamMember>> {
    if !path.exists() {
        return Err(StoreError::NoChart(path.to_path_buf()));
    }
    Ok(Vec::new())
}

impl Chart {
    /// Signs in `who` (their id or name) with their passphrase. A clinician that is not on
    /// the chart and a passphrase that does not open it are refused alike, as a wrong
    /// passphrase, so a refusal never says which of the two was wrong; nothing changes.
    pub fn sign_in(&mut self, who: &str, passphrase: &str) -> Result<Clinician> {
        let who = who.trim();
        let known = who == self.clinician.name || who == self.clinician.id.to_string();
        // The passphrase is checked whoever was named, so a refusal takes as long either way.
        let opens = passphrase_opens(&self.path, passphrase);
        if !(known && opens?) {
            return Err(StoreError::WrongPassphrase);
        }
        Ok(self.clinician.clone())
    }
}

/// Whether `passphrase` opens the chart at `path`: a second, read-only connection is keyed
/// with it and reads the chart's application id.
fn passphrase_opens(path: &Path, passphrase: &str) -> Result<bool> {
    let wrap = |e| StoreError::from_sqlite(e, path);
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(wrap)?;
    if key(&conn, passphrase).is_err() {
        return Ok(false);
    }
    let id: i32 = conn
        .query_row(
            "SELECT application_id FROM pragma_application_id",
            [],
            |r| r.get(0),
        )
        .map_err(wrap)?;
    Ok(id == schema::APPLICATION_ID)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, TimeZone};

    fn chart(dir: &Path) -> Chart {
        let now = FixedOffset::east_opt(0)
            .unwrap()
            .with_ymd_and_hms(2026, 11, 26, 10, 0, 0)
            .unwrap();
        Chart::create(&dir.join("c.db"), "pw-right", "Dr. Mara Quinn", 2000, now).unwrap()
    }

    #[test]
    fn the_clinician_signs_in_by_name_or_id_with_the_charts_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = chart(dir.path());
        let id = c.clinician().id;
        assert_eq!(c.sign_in("Dr. Mara Quinn", "pw-right").unwrap().id, id);
        assert_eq!(
            c.sign_in(&id.to_string(), "pw-right").unwrap().name,
            "Dr. Mara Quinn"
        );
        assert!(team(&dir.path().join("c.db")).unwrap().is_empty());
        assert!(matches!(
            team(&dir.path().join("none.db")),
            Err(StoreError::NoChart(_))
        ));
    }

    #[test]
    fn a_wrong_passphrase_and_an_unknown_clinician_are_refused_alike() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = chart(dir.path());
        let before = std::fs::read(dir.path().join("c.db")).unwrap();
        for (who, pw) in [
            ("Dr. Mara Quinn", "pw-wrong"),
            ("Dr. Nobody", "pw-right"),
            ("", ""),
        ] {
            let err = c.sign_in(who, pw).unwrap_err();
            assert!(
                matches!(err, StoreError::WrongPassphrase),
                "{who}/{pw}: {err}"
            );
        }
        assert_eq!(c.clinician().name, "Dr. Mara Quinn");
        assert_eq!(std::fs::read(dir.path().join("c.db")).unwrap(), before);
    }
}
