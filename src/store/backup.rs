//! Backups: a consistent, encrypted copy taken while the chart may be in use, verified
//! before success is reported and only then given its name. Restores are in `restore`.

use super::{Chart, ChartSecret, Result, StoreError, VerifyReport, key, keyring};
use super::{files, lock};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Rows in the chart's tables, for comparing a copy with its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RowCounts {
    pub patients: i64,
    pub sessions: i64,
    pub entries: i64,
    pub notes: i64,
    pub audit: i64,
}

/// What a verified backup or restore holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    pub path: PathBuf,
    pub counts: RowCounts,
    pub verify: VerifyReport,
}

impl Chart {
    pub fn row_counts(&self) -> Result<RowCounts> {
        let count = |table: &str| -> Result<i64> {
            self.conn
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .map_err(|e| self.err(e))
        };
        Ok(RowCounts {
            patients: count("patients")?,
            sessions: count("sessions")?,
            entries: count("entries")?,
            notes: count("notes")?,
            audit: count("audit")?,
        })
    }

    /// Copies the chart to `dest` (which must not exist) with SQLite's online backup, a
    /// few pages at a time so that other writers are not held up; the copy is encrypted with
    /// the same key. A chart with a keyring gets its keyring beside the copy, `DEST.keyring`
    /// (written atomically, and checked to open the copy with the signed-in clinician's
    /// keys before the copy gets its name): a backup opens with the passphrases of the team
    /// as it was when the backup was made. The copy is written under a temporary name beside `dest`, opened
    /// and verified (integrity, audit chain, signatures, and row counts no lower than the
    /// source had when the copy began), and only then given its name: `dest` is either
    /// absent or a whole, verified backup, even if kapchart is killed on the way.
    pub fn backup_to(&self, dest: &Path, progress: &mut dyn FnMut(u64, u64)) -> Result<CopyReport> {
        if dest.exists() {
            return Err(StoreError::AlreadyExists(dest.to_path_buf()));
        }
        let before = self.row_counts()?;
        let partial = Partial::start(dest)?;
        let copied = (|| {
            let wrap = |e| StoreError::from_sqlite(e, dest);
            let mut target =
                Connection::open_with_flags(&partial.path, OpenFlags::SQLITE_OPEN_READ_WRITE)
                    .map_err(wrap)?;
            key(&target, &self.secret).map_err(wrap)?;
            {
                let backup = Backup::new(&self.conn, &mut target).map_err(wrap)?;
                loop {
                    let step = backup.step(64).map_err(wrap)?;
                    let p = backup.progress();
                    let total = u64::try_from(p.pagecount).unwrap_or(0);
                    let left = u64::try_from(p.remaining).unwrap_or(0);
                    progress(total.saturating_sub(left), total);
                    match step {
                        StepResult::Done => break,
                        StepResult::More => {}
                        // Another connection holds a lock: wait a moment and go on.
                        _ => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            }
            drop(target);
            let report = verify_copy(&partial.path, &self.secret, before)?;
            self.keyring_for_backup(dest)?;
            Ok(report)
        })();
        match copied {
            Ok(report) => {
                if let Err(e) = partial.finish(dest) {
                    // The keyring written for this copy: never one of an existing backup,
                    // whose name `finish` refuses to take.
                    if !dest.exists() {
                        let _ = std::fs::remove_file(keyring::path_of(dest));
                    }
                    return Err(e);
                }
                Ok(CopyReport {
                    path: dest.to_path_buf(),
                    ..report
                })
            }
            Err(e) => {
                // Only the unfinished copy this call created goes; the chart is never touched.
                partial.discard();
                let _ = std::fs::remove_file(keyring::path_of(dest));
                Err(e)
            }
        }
    }
}

impl Chart {
    /// Writes the chart's keyring beside a backup, after checking that it seals this chart's
    /// key to the signed-in clinician. Nothing for a chart from before keyrings.
    fn keyring_for_backup(&self, dest: &Path) -> Result<()> {
        let ChartSecret::Raw(chart_key) = &self.secret else {
            return Ok(());
        };
        let ring = keyring::read(&keyring::path_of(&self.path))?.ok_or_else(|| {
            StoreError::Invalid("the chart's keyring is missing; nothing was backed up".into())
        })?;
        let fits = match (
            &self.keys,
            ring.entries.iter().find(|e| e.id == self.clinician.id),
        ) {
            (Some(keys), Some(entry)) => keyring::crypto::unseal(&entry.chart_key, entry.id, keys)
                .is_some_and(|k| k.as_ref() == chart_key.as_ref()),
            _ => false,
        };
        if !fits {
            return Err(StoreError::Invalid(
                "the chart's keyring does not hold this chart's key for the signed-in clinician; nothing was backed up".into(),
            ));
        }
        let dest_ring = keyring::path_of(dest);
        keyring::write(&dest_ring, &ring)?;
        let back = keyring::read(&dest_ring)?;
        if back.as_ref() != Some(&ring) {
            return Err(StoreError::Invalid(format!(
                "the backup's keyring {} did not read back as written; nothing was backed up",
                dest_ring.display()
            )));
        }
        Ok(())
    }
}

/// The temporary file a backup is written to before it gets its name: `DEST.kapchart-partial`,
/// locked (flock) for as long as this backup runs, so that the next backup can tell a copy
/// left by a killed one (unlocked: removed) from one still being written.
struct Partial {
    path: PathBuf,
    lock: File,
}

const PARTIAL: &str = ".kapchart-partial";

impl Partial {
    fn start(dest: &Path) -> Result<Partial> {
        clear_stale_partials(dest);
        let path = files::sibling(dest, PARTIAL);
        let busy = || {
            StoreError::Invalid(format!(
                "another backup to {} is under way (its unfinished copy {} is in use); nothing was written",
                dest.display(),
                path.display()
            ))
        };
        match files::create_private_file(&path) {
            Ok(()) => {}
            Err(StoreError::AlreadyExists(_)) => return Err(busy()),
            Err(e) => return Err(e),
        }
        let lock = File::open(&path).map_err(|source| StoreError::Io {
            path: path.clone(),
            source,
        })?;
        if !lock::try_lock(&lock, true).unwrap_or(false) {
            return Err(busy());
        }
        Ok(Partial { path, lock })
    }

    /// Gives the verified copy its name, never over an existing file, durably.
    fn finish(self, dest: &Path) -> Result<()> {
        let io = |source| StoreError::Io {
            path: dest.to_path_buf(),
            source,
        };
        if let Err(e) = self.lock.sync_all().map_err(io) {
            self.discard();
            return Err(e);
        }
        match std::fs::hard_link(&self.path, dest) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                self.discard();
                return Err(StoreError::AlreadyExists(dest.to_path_buf()));
            }
            // No hard links on this file system (FAT): a rename, after checking the name.
            Err(_) if dest.exists() => {
                self.discard();
                return Err(StoreError::AlreadyExists(dest.to_path_buf()));
            }
            Err(_) => {
                if let Err(e) = std::fs::rename(&self.path, dest).map_err(io) {
                    self.discard();
                    return Err(e);
                }
            }
        }
        let _ = std::fs::remove_file(&self.path);
        files::sync_dir(dest.parent().unwrap_or(Path::new(".")));
        Ok(())
    }

    fn discard(self) {
        for suffix in ["", "-journal", "-wal", "-shm"] {
            let _ = std::fs::remove_file(files::sibling(&self.path, suffix));
        }
    }
}

/// Removes what killed backups left in `dest`'s folder: unfinished copies no running
/// kapchart holds, and their journals.
fn clear_stale_partials(dest: &Path) {
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(listing) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in listing.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if name.ends_with(PARTIAL) {
            let stale = File::open(&path).is_ok_and(|f| lock::try_lock(&f, true).unwrap_or(false));
            if stale {
                for suffix in ["-journal", "-wal", "-shm", ""] {
                    let _ = std::fs::remove_file(files::sibling(&path, suffix));
                }
            }
        } else if let Some(main) = ["-journal", "-wal", "-shm"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|m| m.ends_with(PARTIAL)))
        {
            if !dir.join(main).exists() {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

/// Opens a copy and checks it, comparing its rows with what the source had.
pub(crate) fn verify_copy(
    path: &Path,
    secret: &ChartSecret,
    at_least: RowCounts,
) -> Result<CopyReport> {
    let chart = Chart::open_unlocked(path, secret, 5000)?;
    let verify = chart.verify()?;
    if !verify.is_ok() {
        return Err(StoreError::Invalid(format!(
            "the copy at {} does not verify: {}",
            path.display(),
            describe(&verify)
        )));
    }
    let counts = chart.row_counts()?;
    let short = counts.entries < at_least.entries
        || counts.audit < at_least.audit
        || counts.patients < at_least.patients
        || counts.sessions < at_least.sessions
        || counts.notes < at_least.notes;
    if short {
        return Err(StoreError::Invalid(format!(
            "the copy at {} holds fewer rows than the chart ({} entries, {} audit rows; the chart had {} and {})",
            path.display(),
            counts.entries,
            counts.audit,
            at_least.entries,
            at_least.audit
        )));
    }
    Ok(CopyReport {
        path: path.to_path_buf(),
        counts,
        verify,
    })
}

fn describe(v: &VerifyReport) -> String {
    v.problems().join("; ")
}

pub use super::restore::{RestoreRequest, Restored, restore};
