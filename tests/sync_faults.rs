//! `kapchart sync` under the faults `tests/sync.rs` does not cover, through the binary against
//! the local FHIR test server: `--json` on a failure, a server that allows neither update
//! as create nor conditional create, a disk that fills while the sync log is written, and a chart on read-only media.
//! The disk and read-only faults are real (a small tmpfs, mounted as root, as in
//! `tests/faults.rs`).

mod common;

use common::Home;
use common::fhir_server::FhirServer;
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A laptop's chart: the clinic's config and one patient by MRN with a dosing session of a
/// few readings and a dose: (patient, session).
fn laptop(home: &Home, server: &FhirServer, mrn: &str) -> (String, String) {
    let lines = [
        "@-30m bp 128/82 hr 74 spo2 98",
        "@-20m dose ketamine 35mg IM",
        "@-10m bp 132/84 hr 80 moaas 4",
        "@-5m obs eyes closed, resting",
    ];
    home.laptop(server.base(), mrn, 5, &lines)
}

fn sync_json(home: &Home) -> Value {
    serde_json::from_str(&home.ok(&["sync", "--json"])).unwrap()
}

/// What the server holds of each type kapchart sends.
fn held(server: &FhirServer) -> Vec<(&'static str, usize)> {
    [
        "Patient",
        "Practitioner",
        "Encounter",
        "Observation",
        "MedicationAdministration",
        "Provenance",
    ]
    .into_iter()
    .map(|t| (t, server.count(t)))
    .collect()
}

/// What one clean sync of a laptop like `laptop` leaves on the server; the server is emptied
/// again after.
fn one_clean_sync(server: &FhirServer) -> Vec<(&'static str, usize)> {
    let clean = Home::new();
    laptop(&clean, server, "MRN-0000");
    sync_json(&clean);
    let counts = held(server);
    server.reset();
    counts
}

// --- a tmpfs, as tests/faults.rs mounts one ---------------------------------------------

struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).expect("mount point");
        mount(
            &[
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ],
            dir,
        );
        Tmpfs {
            dir: dir.to_path_buf(),
        }
    }

    fn remount(&self, mode: &str) {
        mount(&["-o", &format!("remount,{mode}")], &self.dir);
    }

    /// Fills the file system to the last page; returns the filler file.
    fn fill(&self) -> PathBuf {
        let path = self.dir.join("filler");
        let mut f = std::fs::File::create(&path).expect("create filler");
        let chunk = vec![0xA5u8; 4096];
        loop {
            match f.write(&chunk) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
                Err(e) => panic!("filling {}: {e}", path.display()),
            }
        }
        path
    }
}

/// Runs `mount ARGS DIR`; the reason when it fails (these tests need root, and never skip).
fn mount(args: &[&str], dir: &Path) {
    let out = Command::new("mount")
        .args(args)
        .arg(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `mount` (these tests need root): {e}"));
    assert!(
        out.status.success(),
        "mount {args:?} {} failed (these tests need root and permission to mount): {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

/// A home whose chart folder is a fresh tmpfs of `size`; the tmpfs goes before the home.
fn home_on_tmpfs(size: &str) -> (Home, Tmpfs) {
    let home = Home::new();
    let fs = Tmpfs::mount(home.chart().parent().unwrap(), size);
    (home, fs)
}

fn said(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

// --- the tests ---------------------------------------------------------------------------

#[test]
fn sync_json_on_a_failure_prints_an_object_naming_the_bundle_and_what_the_server_said() {
    let server = FhirServer::start_local();
    let home = Home::new();
    laptop(&home, &server, "MRN-1101");

    // Refused at the second bundle (the patient's own went through), with an
    // OperationOutcome.
    server.fault(json!({ "next": 1, "after": 2, "status": 422 }));
    let out = home.run(&["sync", "--json"]);
    let (stdout, stderr) = said(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert_eq!(stderr, "", "the failure is on stdout, as JSON");
    let v: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["bundle"], 2, "{v}");
    assert!(v["of"].as_u64().unwrap() >= 3, "{v}");
    assert_eq!(v["status"], 422, "{v}");
    assert_eq!(
        v["outcome"], "error: fault injected by the test server: 422",
        "{v}"
    );
    let error = v["error"].as_str().unwrap();
    assert!(
        error.contains("refused it (422)")
            && error.contains(&format!("bundle 2 of {}", v["of"]))
            && error.contains("next sync sends it again"),
        "{error}"
    );
    // The text output words the same error.
    server.fault(json!({ "next": 1, "after": 1, "status": 422 }));
    let text = home.fails(&["sync"], 1);
    assert!(text.contains("refused it (422)"), "{text}");

    // Down when asked what it can do: no bundle was being sent.
    server.fault(json!({ "next": 1, "status": 503 }));
    let out = home.run(&["sync", "--json"]);
    let (stdout, _) = said(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["bundle"], Value::Null, "{v}");
    assert_eq!(v["status"], 503, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("nothing was sent"),
        "{v}"
    );

    // A failure before any server is asked (no server configured) is JSON too.
    let out = home.run(&["sync", "--json", "--server", "ftp://x"]);
    let (stdout, _) = said(&out);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["ok"], false);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("not an http:// or https:// URL"),
        "{v}"
    );
    assert_eq!(v["status"], Value::Null);

    // Then it goes through, and says ok.
    let done = sync_json(&home);
    assert_eq!(done["ok"], true, "{done}");
    assert!(done["sent"].as_u64().unwrap() > 0, "{done}");
}

#[test]
fn a_server_that_allows_neither_update_as_create_nor_conditional_create_is_refused_worded() {
    // (One that allows conditional create is sent to: tests/sync_create.rs.)
    let server = FhirServer::start_with(&[
        ("KAPCHART_FHIR_NO_UPDATE_CREATE", "1"),
        ("KAPCHART_FHIR_NO_CONDITIONAL_CREATE", "1"),
    ]);
    let home = Home::new();
    laptop(&home, &server, "MRN-1201");
    let e = home.fails(&["sync"], 1);
    assert!(
        e.contains("allows neither update as create nor conditional create of")
            && e.contains("Encounter")
            && e.contains("Observation")
            && e.contains("nothing was sent"),
        "{e}"
    );
    assert_eq!(
        server.received().unwrap(),
        Vec::<Value>::new(),
        "no bundle posted"
    );
    for (rtype, n) in held(&server) {
        assert_eq!(n, 0, "{rtype}");
    }
    let out = home.run(&["sync", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("allows neither update as create nor conditional create"),
        "{v}"
    );
    // Nothing was recorded as sent: the dry run would still send everything.
    let dry: Value = serde_json::from_str(&home.ok(&["sync", "--dry-run", "--json"])).unwrap();
    assert_eq!(dry["unchanged"], 0, "{dry}");
}

/// The disk fills while the server's answer to the first bundle is on its way: the server
/// holds that bundle, the chart cannot record it. The sync stops, worded; the chart is sound;
/// once there is room the next sync sends the rest and the bundle again, and the server ends
/// with one copy of each resource.
#[test]
fn a_disk_that_fills_while_the_sync_log_is_written_leaves_a_sound_chart_and_one_copy_after() {
    let server = FhirServer::start_local();
    let whole = one_clean_sync(&server);
    let (home, fs) = home_on_tmpfs("4m");
    laptop(&home, &server, "MRN-1301");

    // The first bundle (after the CapabilityStatement) is applied, then answered late.
    server.fault(json!({ "next": 1, "after": 1, "delay_ms": 2500 }));
    let child = home
        .cmd(&["sync"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while server.received().unwrap().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the sync never sent its first bundle"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let filler = fs.fill();
    let out = child.wait_with_output().unwrap();
    let (_, stderr) = said(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("acknowledged bundle 1 of")
            && stderr.contains("could not record it")
            && stderr.contains("is full")
            && stderr.contains("next sync sends it again"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert_eq!(server.count("Patient"), 1, "the server holds the bundle");

    std::fs::remove_file(filler).unwrap();
    assert!(home.ok(&["verify"]).starts_with("ok"));
    let dry: Value = serde_json::from_str(&home.ok(&["sync", "--dry-run", "--json"])).unwrap();
    assert_eq!(dry["unchanged"], 0, "nothing recorded as sent: {dry}");
    let done = sync_json(&home);
    assert_eq!(done["ok"], true, "{done}");
    assert_eq!(held(&server), whole);
    assert_eq!(sync_json(&home)["sent"], 0);
    assert_eq!(held(&server), whole);
    assert!(home.ok(&["verify"]).starts_with("ok"));
}

/// A chart on read-only media is refused before anything is sent: the sync log and the
/// audit row of the disclosure could not be written, so the record would go out unaudited
/// and go out again in full at each sync. A dry run still says what would go; writable
/// again, the sync goes through.
#[test]
fn a_chart_on_read_only_media_is_refused_before_anything_is_sent() {
    let server = FhirServer::start_local();
    let whole = one_clean_sync(&server);
    let (home, fs) = home_on_tmpfs("4m");
    laptop(&home, &server, "MRN-1401");
    let before = common::file_bytes(&home.chart());

    fs.remount("ro");
    let e = home.fails(&["sync"], 1);
    assert!(
        e.contains("read-only") && e.contains("nothing was sent") && e.contains("writable"),
        "{e}"
    );
    assert_eq!(e.trim().lines().count(), 1, "one line: {e}");
    assert_eq!(
        server.received().unwrap(),
        Vec::<Value>::new(),
        "no bundle posted"
    );
    let out = home.run(&["sync", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (out.status.code(), &v["ok"]),
        (Some(1), &json!(false)),
        "{v}"
    );
    let dry: Value = serde_json::from_str(&home.ok(&["sync", "--dry-run", "--json"])).unwrap();
    assert!(dry["would_send"].as_u64().unwrap() > 5, "{dry}");
    assert_eq!(common::file_bytes(&home.chart()), before, "chart unchanged");

    fs.remount("rw");
    assert_eq!(sync_json(&home)["ok"], true);
    assert_eq!(held(&server), whole);
    assert!(home.ok(&["verify"]).starts_with("ok"));
}
