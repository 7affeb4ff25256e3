//! Backups: a consistent, encrypted copy taken while the chart may be in use, verified
//! before success is reported; and restores that never overwrite a chart unless told to,
//! and then keep the replaced one beside it.

use super::files;
use super::{Chart, Result, StoreError, VerifyReport, key};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
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
    /// the same passphrase. Then opens the copy and verifies it: integrity, audit chain,
    /// signatures, and row counts no lower than the source had when the copy began.
    pub fn backup_to(
        &self,
        dest: &Path,
        passphrase: &str,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<CopyReport> {
        let before = self.row_counts()?;
        files::create_private_file(dest)?;
        let copied = (|| {
            let wrap = |e| StoreError::from_sqlite(e, dest);
            let mut target = Connection::open_with_flags(dest, OpenFlags::SQLITE_OPEN_READ_WRITE)
                .map_err(wrap)?;
            key(&target, passphrase).map_err(wrap)?;
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
            verify_copy(dest, passphrase, before)
        })();
        if copied.is_err() {
            // Only the unfinished copy this call created goes; the chart is never touched.
            files::remove_new_chart(dest);
        }
        copied
    }
}

/// Opens a copy and checks it, comparing its rows with what the source had.
fn verify_copy(path: &Path, passphrase: &str, at_least: RowCounts) -> Result<CopyReport> {
    let chart = Chart::open(path, passphrase, 5000)?;
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

/// Restores `backup` as the chart at `chart_path`: the backup is verified first; an
/// existing chart is only replaced with `replace`, and then kept beside it as
/// `NAME.replaced-TIMESTAMP` (never deleted). Returns the report and where the replaced
/// chart went.
pub fn restore(
    backup: &Path,
    chart_path: &Path,
    passphrase: &str,
    replace: bool,
    stamp: &str,
) -> Result<(CopyReport, Option<PathBuf>)> {
    if !backup.exists() {
        return Err(StoreError::NoChart(backup.to_path_buf()));
    }
    // Check the backup before anything else happens.
    verify_copy(backup, passphrase, RowCounts::default())?;
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
    // Copy to a new file beside the chart first, so the swap is a rename.
    let incoming = sibling(chart_path, &format!(".restoring-{stamp}"));
    files::create_private_file(&incoming)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| StoreError::Io { path, source }
    };
    let copy = (|| {
        std::fs::copy(backup, &incoming).map_err(io(&incoming))?;
        std::fs::File::open(&incoming)
            .and_then(|f| f.sync_all())
            .map_err(io(&incoming))?;
        verify_copy(&incoming, passphrase, RowCounts::default())
    })();
    if let Err(e) = copy {
        files::remove_new_chart(&incoming);
        return Err(e);
    }
    let mut kept = None;
    if chart_path.exists() {
        let aside = sibling(chart_path, &format!(".replaced-{stamp}"));
        for suffix in ["-wal", "-shm", ""] {
            let from = sibling(chart_path, suffix);
            if from.exists() {
                std::fs::rename(&from, sibling(&aside, suffix)).map_err(io(&from))?;
            }
        }
        kept = Some(aside);
    }
    std::fs::rename(&incoming, chart_path).map_err(io(chart_path))?;
    let report = verify_copy(chart_path, passphrase, RowCounts::default())?;
    Ok((report, kept))
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
