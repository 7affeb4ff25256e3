//! The clinic's team through kapchart's library: the keyring, signing in, adding and
//! removing clinicians, and the re-key a removal makes, interrupted between its steps.

use chrono::{DateTime, FixedOffset};
use ed25519_dalek::{Signer, Verifier};
use kapchart::domain::team::Role;
use kapchart::store::{Chart, RekeyStop, StoreError, team};
use std::path::{Path, PathBuf};

const ADMIN_PASS: &str = "admin passphrase one";
const NURSE_PASS: &str = "nurse passphrase two";
const THERAPIST_PASS: &str = "therapist passphrase three";

fn now() -> DateTime<FixedOffset> {
    kapchart::clock::now()
}

fn keyring(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".keyring");
    PathBuf::from(s)
}

fn keyring_new(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".keyring.new");
    PathBuf::from(s)
}

/// A chart with an admin (1), a nurse (2) and a therapist (3).
fn team_chart() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chart.db");
    let mut chart = Chart::create(&path, ADMIN_PASS, "Dr. Ada Admin", 2000, now()).unwrap();
    let nurse = chart
        .add_team_member("Nia Nurse", Role::Nurse, Some("RN"), NURSE_PASS, now())
        .unwrap();
    let therapist = chart
        .add_team_member(
            "Theo Therapist",
            Role::Therapist,
            None,
            THERAPIST_PASS,
            now(),
        )
        .unwrap();
    assert_eq!((nurse, therapist), (2, 3));
    (dir, path)
}

#[test]
fn each_clinician_opens_the_chart_with_their_own_passphrase_and_is_signed_in() {
    let (_dir, path) = team_chart();
    let listed = team(&path).unwrap();
    let names: Vec<(i64, &str, Role)> = listed
        .iter()
        .map(|m| (m.id, m.name.as_str(), m.role))
        .collect();
    assert_eq!(
        names,
        [
            (1, "Dr. Ada Admin", Role::Admin),
            (2, "Nia Nurse", Role::Nurse),
            (3, "Theo Therapist", Role::Therapist)
        ]
    );
    let nurse = Chart::open_as(&path, "nia nurse", NURSE_PASS, 2000).unwrap();
    assert_eq!(nurse.clinician().id, 2);
    drop(nurse);
    let therapist = Chart::open_as(&path, "3", THERAPIST_PASS, 2000).unwrap();
    assert_eq!(therapist.clinician().name, "Theo Therapist");
    // Chart::open is for a team of one only.
    let err = Chart::open(&path, ADMIN_PASS, 2000).err().expect("refused");
    assert!(err.to_string().contains("3 clinicians"), "{err}");
}

#[test]
fn a_wrong_clinician_and_passphrase_pair_is_refused_with_chart_and_keyring_unchanged() {
    let (_dir, path) = team_chart();
    let chart_before = std::fs::read(&path).unwrap();
    let ring_before = std::fs::read(keyring(&path)).unwrap();
    for (who, pass) in [
        ("Nia Nurse", ADMIN_PASS),
        ("1", NURSE_PASS),
        ("Theo Therapist", "guess"),
    ] {
        let err = Chart::open_as(&path, who, pass, 2000)
            .err()
            .expect("refused");
        assert!(matches!(err, StoreError::WrongSignIn), "{err}");
        let words = err.to_string();
        assert!(words.contains("clinician and passphrase"), "{words}");
    }
    assert_eq!(std::fs::read(&path).unwrap(), chart_before);
    assert_eq!(std::fs::read(keyring(&path)).unwrap(), ring_before);
    let unknown = Chart::open_as(&path, "Nobody", NURSE_PASS, 2000)
        .err()
        .unwrap();
    assert!(
        unknown.to_string().contains("no clinician 'Nobody'"),
        "{unknown}"
    );
}

#[test]
fn sign_in_switches_the_clinician_only_with_their_passphrase() {
    let (_dir, path) = team_chart();
    let mut chart = Chart::open_as(&path, "Dr. Ada Admin", ADMIN_PASS, 2000).unwrap();
    assert!(chart.sign_in("Nia Nurse", THERAPIST_PASS).is_err());
    assert_eq!(chart.clinician().id, 1, "unchanged after a failed sign-in");
    let nurse = chart.sign_in("Nia Nurse", NURSE_PASS).unwrap();
    assert_eq!(nurse.id, 2);
    assert_eq!(chart.clinician().id, 2);
    // The signing key is the nurse's, and the chart records its public half.
    let signature = chart.signing_key().unwrap().sign(b"note text");
    let recorded = chart.public_keys_of(2).unwrap();
    assert!(recorded.verify(b"note text", &signature).is_ok());
    assert!(
        chart
            .public_keys_of(1)
            .unwrap()
            .verify(b"note text", &signature)
            .is_err()
    );
    // A name already on the team (any case) is refused: sign-in by name must stay unique.
    chart.sign_in("1", ADMIN_PASS).unwrap();
    let err = chart
        .add_team_member(
            "NIA NURSE",
            Role::Nurse,
            None,
            "another nurse passphrase",
            now(),
        )
        .expect_err("refused");
    assert!(err.to_string().contains("already on the team"), "{err}");
    chart.sign_in("Nia Nurse", NURSE_PASS).unwrap();
    // Only an admin adds clinicians.
    let err = chart
        .add_team_member(
            "Mo Monitor",
            Role::Monitor,
            None,
            "monitor passphrase",
            now(),
        )
        .expect_err("refused");
    assert!(err.to_string().contains("only an admin"), "{err}");
}

#[test]
fn a_removed_clinicians_passphrase_is_refused_while_the_others_still_open() {
    let (_dir, path) = team_chart();
    let mut admin = Chart::open_alone_as(&path, "Dr. Ada Admin", ADMIN_PASS, 2000).unwrap();
    admin
        .remove_team_member(2, "left the clinic", now())
        .unwrap();
    drop(admin);
    assert!(Chart::open_as(&path, "2", NURSE_PASS, 2000).is_err());
    assert!(!keyring_new(&path).exists());
    assert_eq!(team(&path).unwrap().len(), 2);
    let therapist = Chart::open_as(&path, "Theo Therapist", THERAPIST_PASS, 2000).unwrap();
    let members = therapist.team_members().unwrap();
    let nurse = members.iter().find(|m| m.id == 2).unwrap();
    assert!(
        nurse
            .removed
            .as_deref()
            .unwrap()
            .contains("left the clinic")
    );
    drop(therapist);
    Chart::open_as(&path, "1", ADMIN_PASS, 2000).unwrap();
}

#[test]
fn the_last_admin_cannot_be_removed_and_removal_needs_the_chart_alone() {
    let (_dir, path) = team_chart();
    let mut admin = Chart::open_as(&path, "1", ADMIN_PASS, 2000).unwrap();
    let err = admin.remove_team_member(3, "left", now()).err().unwrap();
    assert!(err.to_string().contains("alone"), "{err}");
    drop(admin);
    let _other = Chart::open_as(&path, "3", THERAPIST_PASS, 2000).unwrap();
    let busy = Chart::open_alone_as(&path, "1", ADMIN_PASS, 2000)
        .err()
        .unwrap();
    assert!(matches!(busy, StoreError::InUse { .. }), "{busy}");
    drop(_other);
    let mut admin = Chart::open_alone_as(&path, "1", ADMIN_PASS, 2000).unwrap();
    let err = admin.remove_team_member(1, "leaving", now()).err().unwrap();
    assert!(err.to_string().contains("only admin"), "{err}");
}

#[test]
fn a_removal_interrupted_between_its_steps_still_opens_for_everyone_remaining() {
    for stop in [RekeyStop::AfterJournal, RekeyStop::AfterRekey] {
        let (_dir, path) = team_chart();
        let mut admin = Chart::open_alone_as(&path, "1", ADMIN_PASS, 2000).unwrap();
        admin
            .remove_team_member_until(2, "left the clinic", now(), stop)
            .unwrap();
        // As if killed here: the process goes, the files stay as they are.
        drop(admin);
        assert!(keyring_new(&path).exists(), "{stop:?}");
        for (who, pass) in [("1", ADMIN_PASS), ("3", THERAPIST_PASS)] {
            let chart = Chart::open_as(&path, who, pass, 2000)
                .unwrap_or_else(|e| panic!("{stop:?}: {who} cannot open: {e}"));
            assert!(chart.verify().unwrap().is_ok());
        }
        assert!(
            Chart::open_as(&path, "2", NURSE_PASS, 2000).is_err(),
            "{stop:?}"
        );
        assert!(
            !keyring_new(&path).exists(),
            "{stop:?}: the journal was settled"
        );
        // Whichever step the removal stopped at, the first open with nobody else using the
        // chart finished it: the keyring holds the remaining two, and the chart's key is one
        // the removed clinician's passphrase does not unseal.
        assert_eq!(team(&path).unwrap().len(), 2, "{stop:?}");
        assert!(
            Chart::unwrap_chart_key_only(&path, "2", NURSE_PASS).is_err(),
            "{stop:?}"
        );
        Chart::open_as(&path, "3", THERAPIST_PASS, 2000).unwrap();
    }
}

#[test]
fn a_chart_from_before_keyrings_is_upgraded_and_opens_with_the_same_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    Chart::create_without_keyring(&path, ADMIN_PASS, "Dr. Early", 2000, now()).unwrap();
    assert!(team(&path).unwrap().is_empty());
    // The first open, with nobody else holding the chart, upgrades it.
    {
        let first = Chart::open(&path, ADMIN_PASS, 2000).unwrap();
        assert!(
            keyring(&path).exists(),
            "the first open, alone, upgraded it"
        );
        drop(first);
    }
    let chart = Chart::open_as(&path, "Dr. Early", ADMIN_PASS, 2000).unwrap();
    assert_eq!(chart.role().unwrap(), Some(Role::Admin));
    assert!(chart.signing_key().is_ok());
    assert!(chart.verify().unwrap().is_ok());
    drop(chart);
    let listed = team(&path).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].role, Role::Admin);
}

#[test]
fn a_chart_from_before_keyrings_in_use_elsewhere_opens_as_before_and_upgrades_next_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    Chart::create_without_keyring(&path, ADMIN_PASS, "Dr. Early", 2000, now()).unwrap();
    // A shared lock as another kapchart holds it.
    let lock = std::fs::File::open({
        let mut s = path.as_os_str().to_owned();
        s.push(".lock");
        PathBuf::from(s)
    })
    .unwrap();
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockShared).unwrap();
    let chart = Chart::open(&path, ADMIN_PASS, 2000).unwrap();
    assert!(!keyring(&path).exists());
    assert!(chart.signing_key().is_err());
    drop(chart);
    drop(lock);
    Chart::open(&path, ADMIN_PASS, 2000).unwrap();
    assert!(keyring(&path).exists());
}

#[test]
fn changing_ones_passphrase_keeps_the_chart_key_and_the_others() {
    let (_dir, path) = team_chart();
    let chart_before = std::fs::read(&path).unwrap();
    let mut nurse = Chart::open_as(&path, "2", NURSE_PASS, 2000).unwrap();
    nurse.change_passphrase("a new nurse passphrase").unwrap();
    drop(nurse);
    assert!(Chart::open_as(&path, "2", NURSE_PASS, 2000).is_err());
    Chart::open_as(&path, "2", "a new nurse passphrase", 2000).unwrap();
    Chart::open_as(&path, "1", ADMIN_PASS, 2000).unwrap();
    let _ = chart_before;
}

#[test]
fn an_upgrade_interrupted_between_its_steps_still_opens_with_the_passphrase() {
    for stop in [RekeyStop::AfterJournal, RekeyStop::AfterRekey] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        Chart::create_without_keyring(&path, ADMIN_PASS, "Dr. Early", 2000, now()).unwrap();
        Chart::upgrade_interrupted(&path, ADMIN_PASS, 2000, stop).unwrap();
        assert!(keyring_new(&path).exists(), "{stop:?}");
        assert!(!keyring(&path).exists(), "{stop:?}");
        let chart = Chart::open_as(&path, "Dr. Early", ADMIN_PASS, 2000)
            .unwrap_or_else(|e| panic!("{stop:?}: {e}"));
        assert_eq!(chart.role().unwrap(), Some(Role::Admin), "{stop:?}");
        assert!(chart.signing_key().is_ok(), "{stop:?}");
        assert!(chart.verify().unwrap().is_ok(), "{stop:?}");
        drop(chart);
        assert!(keyring(&path).exists(), "{stop:?}");
        assert!(!keyring_new(&path).exists(), "{stop:?}");
        assert!(Chart::open_as(&path, "1", "not the passphrase", 2000).is_err());
        Chart::open(&path, ADMIN_PASS, 2000).unwrap();
    }
}

/// A removal whose re-key was interrupted, while another kapchart has the chart open (so
/// this open cannot finish it): the removal is not called done (`unfinished_removals`, and
/// `clinician list` says so), and nothing is written until it is finished, which the next
/// open with nobody else using the chart does.
#[test]
fn an_unfinished_removal_holds_writes_until_an_open_alone_finishes_it() {
    let (_dir, path) = team_chart();
    let mut admin = Chart::open_alone_as(&path, "1", ADMIN_PASS, 2000).unwrap();
    admin
        .remove_team_member_until(2, "left the clinic", now(), RekeyStop::AfterJournal)
        .unwrap();
    drop(admin);
    let lock_path = {
        let mut s = path.as_os_str().to_owned();
        s.push(".lock");
        std::path::PathBuf::from(s)
    };
    let other = std::fs::File::open(&lock_path).unwrap();
    rustix::fs::flock(&other, rustix::fs::FlockOperation::LockShared).unwrap();
    let mut chart = Chart::open_as(&path, "3", THERAPIST_PASS, 2000).unwrap();
    assert_eq!(chart.unfinished_removals().unwrap().len(), 1);
    let err = chart
        .add_patient(
            &kapchart::store::NewPatient {
                name: "Held Patient".into(),
                dob: chrono::NaiveDate::from_ymd_opt(1980, 1, 1).unwrap(),
                mrn: None,
                weight_kg: None,
            },
            now(),
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not finished") && err.contains("nothing was written"),
        "{err}"
    );
    drop(chart);
    drop(other);
    let chart = Chart::open_as(&path, "3", THERAPIST_PASS, 2000).unwrap();
    assert!(chart.unfinished_removals().unwrap().is_empty());
    assert!(Chart::unwrap_chart_key_only(&path, "2", NURSE_PASS).is_err());
}
