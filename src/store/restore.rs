//! Restores: never over a chart unless told to, never while another kapchart has the chart
//! open, and never touching the backup itself. The backup's bytes are copied beside the
//! chart and only the copy is opened, checked and (if it is from an older kapchart)
//! updated; the chart it replaces keeps a name of its own that no earlier file had.

use super::backup::{CopyReport, RowCounts, verify_copy};
use super::lock::ChartLock;
use super::{ChartSecret, Result, StoreError, copy_secret, files, key, keyring};
use rusqlite::Connection;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// Restores `backup` as the chart at `chart_path`: the backup is verified first; an
/// existing chart is only replaced with `replace`, and then kept beside it as
/// `NAME.replaced-STAMP` (or `-2`, `-3`, ... when that name is taken; never deleted, never
/// overwritten). Returns the report and where the replaced chart went.
///
/// A backup with a keyring (`BACKUP.keyring`) opens with `who`'s passphrase as the team was
/// when it was made; its keyring is put in place as `NAME.keyring.new` before the chart is,
/// and takes the keyring's name after, so that a kill between the two leaves a chart that
/// opens (see `Chart::open_as`). A backup from before keyrings opens with its passphrase;
/// the replaced chart's keyring then goes aside with it.
pub fn restore(
    backup: &Path,
    chart_path: &Path,
    who: &str,
    passphrase: &str,
    replace: bool,
    stamp: &str,
) -> Result<(CopyReport, Option<PathBuf>)> {
    if !backup.is_file() {
        return Err(StoreError::NoBackup(backup.to_path_buf()));
    }
    if chart_path.exists() && !replace {
        return Err(StoreError::Invalid(format!(
            "a chart already exists at {}; kapchart will not overwrite it (use --replace to keep it aside as a .replaced copy and restore over it)",
            chart_path.display()
        )));
    }
    let dir = chart_path.parent().unwrap_or(Path::new("."));
    files::create_private_dirs(dir).map_err(|source| StoreError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    // No other kapchart may have the chart open from here to the end: one that did would
    // go on writing into the replaced file.
    let _lock = ChartLock::exclusive(chart_path)?;
    super::pause::pause_point("restore");
    files::remove_stale_restores(chart_path);
    let backup_ring = keyring::read(&keyring::path_of(backup))?;
    let secret = copy_secret(backup, who, passphrase).map_err(|e| match e {
        StoreError::WrongSignIn => StoreError::Invalid(format!(
            "this clinician and passphrase do not open the backup {} (a backup opens with the passphrases of the team as it was when it was made); the chart was not touched",
            backup.display()
        )),
        StoreError::SignIn(why) => StoreError::SignIn(format!(
            "the backup {}: {why}; the chart was not touched",
            backup.display()
        )),
        other => other,
    })?;
    let incoming = files::reserve_beside(chart_path, ".restoring")?;
    let prepared = copy_backup(backup, &incoming)
        .and_then(|()| verify_copy(&incoming, &secret, RowCounts::default()));
    if let Err(e) = prepared {
        files::remove_new_chart(&incoming);
        return Err(about_the_backup(e, backup, &incoming));
    }
    let mut kept = None;
    if chart_path.exists() {
        match set_aside(chart_path, who, passphrase, stamp) {
            Ok(aside) => kept = Some(aside),
            Err(e) => {
                files::remove_new_chart(&incoming);
                return Err(e);
            }
        }
    }
    // The keyring journal: the backup's keyring, or an empty one that says "no keyring".
    let ring_path = keyring::path_of(chart_path);
    let new_path = keyring::new_path_of(chart_path);
    let journal = backup_ring.clone().unwrap_or_default();
    if let Err(e) = keyring::write(&new_path, &journal) {
        files::remove_new_chart(&incoming);
        return Err(e);
    }
    std::fs::rename(&incoming, chart_path).map_err(|source| StoreError::Io {
        path: chart_path.to_path_buf(),
        source,
    })?;
    files::sync_dir(dir);
    if backup_ring.is_some() {
        keyring::promote(&new_path, &ring_path)?;
    } else {
        let _ = std::fs::remove_file(&ring_path);
        let _ = std::fs::remove_file(&new_path);
        files::sync_dir(dir);
    }
    let report = verify_copy(chart_path, &secret, RowCounts::default())?;
    Ok((report, kept))
}

/// Copies the backup's bytes (and a `-wal` beside it, if it has one) into `to`, which is
/// new and private (0600): the backup's own mode bits are not copied.
fn copy_backup(backup: &Path, to: &Path) -> Result<()> {
    for suffix in ["", "-wal"] {
        let from = files::sibling(backup, suffix);
        let into = files::sibling(to, suffix);
        if suffix == "-wal" && !from.exists() {
            continue;
        }
        if suffix == "-wal" {
            files::create_private_file(&into)?;
        }
        let mut source = File::open(&from).map_err(|source| StoreError::Io {
            path: from.clone(),
            source,
        })?;
        let io = |source| StoreError::Io {
            path: into.clone(),
            source,
        };
        let mut target = OpenOptions::new().write(true).open(&into).map_err(io)?;
        std::io::copy(&mut source, &mut target).map_err(io)?;
        target.sync_all().map_err(io)?;
    }
    Ok(())
}

/// Gives the chart being replaced its `.replaced-STAMP` name, with its WAL. A WAL left by a
/// killed kapchart is first folded into the chart (it holds committed entries); one that
/// cannot be (another passphrase, damage) goes with it, so the restored chart never reads a
/// WAL that was not written for it.
fn set_aside(chart: &Path, who: &str, passphrase: &str, stamp: &str) -> Result<PathBuf> {
    fold_wal(chart, who, passphrase);
    let aside = files::keep_aside(chart, &format!(".replaced-{stamp}"))?;
    // Its keyring goes with it (a copy: the chart's own stays until the restored one's
    // keyring takes its place).
    let ring = keyring::path_of(chart);
    if ring.exists() {
        let kept_ring = keyring::path_of(&aside);
        std::fs::copy(&ring, &kept_ring).map_err(|source| StoreError::Io {
            path: kept_ring.clone(),
            source,
        })?;
    }
    let wal = files::sibling(chart, "-wal");
    if wal.exists() {
        let kept_wal = files::sibling(&aside, "-wal");
        std::fs::hard_link(&wal, &kept_wal)
            .or_else(|_| std::fs::copy(&wal, &kept_wal).map(|_| ()))
            .map_err(|source| StoreError::Io {
                path: kept_wal.clone(),
                source,
            })?;
    }
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(files::sibling(chart, suffix));
    }
    Ok(aside)
}

/// Checkpoints a WAL left beside the chart into it; best effort (see `set_aside`).
fn fold_wal(chart: &Path, who: &str, passphrase: &str) {
    let wal = files::sibling(chart, "-wal");
    if std::fs::metadata(&wal).map_or(true, |m| m.len() == 0) {
        return;
    }
    let Ok(conn) = Connection::open(chart) else {
        return;
    };
    let secret = match copy_secret(chart, who, passphrase) {
        Ok(s) => s,
        Err(_) => ChartSecret::passphrase(passphrase),
    };
    if key(&conn, &secret).is_ok() {
        let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    }
}

/// An error met while checking the copy, said about the backup the user named.
fn about_the_backup(e: StoreError, backup: &Path, copy: &Path) -> StoreError {
    let shown = backup.display();
    let message = match e {
        StoreError::WrongPassphrase => format!(
            "the backup {shown} does not open with this passphrase, or is not a kapchart backup"
        ),
        StoreError::Corrupt { detail, .. } => {
            format!("the backup {shown} is damaged ({detail})")
        }
        StoreError::NewerSchema { .. } | StoreError::DiskFull(_) | StoreError::ReadOnly(_) => {
            return e;
        }
        other => format!(
            "the backup {shown} cannot be restored: {}",
            other
                .to_string()
                .replace(&copy.display().to_string(), &shown.to_string())
        ),
    };
    StoreError::Invalid(format!("{message}; the chart was not touched"))
}
