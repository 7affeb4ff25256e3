//! Who has the chart open. Every kapchart process that opens a chart holds a shared lock on
//! `NAME.lock` beside it for as long as it is open; `restore` takes the lock exclusively, so
//! that it never swaps the file under a process that is still charting (whose entries would
//! otherwise go into the replaced file while their ids are printed as charted).
//!
//! The locks are `flock(2)` locks: the kernel drops them when a process ends, also when it
//! is killed, so a crash never leaves the chart locked. SQLite's own locks are POSIX locks
//! on the chart file itself and are not touched by these.

use super::{Result, StoreError};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt;

/// A held lock on a chart; released when dropped (or when the process ends).
#[derive(Debug)]
pub(crate) struct ChartLock {
    /// None on a medium kapchart cannot write to that has no lock file: nothing can change
    /// the chart there, so there is nothing to keep out.
    _file: Option<File>,
}

pub(crate) fn lock_path(chart: &Path) -> PathBuf {
    let mut s = chart.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

impl ChartLock {
    /// The lock of a process that reads and writes the chart. Waits up to `wait` while a
    /// restore holds it; then the chart it opens is the restored one.
    pub(crate) fn shared(chart: &Path, wait: Duration) -> Result<ChartLock> {
        let Some(file) = open_lock_file(chart)? else {
            return Ok(ChartLock { _file: None });
        };
        let started = Instant::now();
        loop {
            match try_lock(&file, false) {
                Ok(true) => return Ok(ChartLock { _file: Some(file) }),
                Ok(false) if started.elapsed() < wait => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(false) => {
                    return Err(StoreError::Restoring(chart.to_path_buf()));
                }
                Err(source) => {
                    return Err(StoreError::Io {
                        path: lock_path(chart),
                        source,
                    });
                }
            }
        }
    }

    /// An exclusive lock becomes a shared one, so that other kapcharts may open the chart
    /// again (after a removal this process finished alone).
    pub(crate) fn share(&self) {
        #[cfg(unix)]
        if let Some(file) = &self._file {
            let _ = rustix::fs::flock(file, rustix::fs::FlockOperation::LockShared);
        }
    }

    /// The lock of a restore: refused at once, naming the processes, while any other
    /// kapchart has the chart open.
    pub(crate) fn exclusive(chart: &Path) -> Result<ChartLock> {
        let Some(file) = open_lock_file(chart)? else {
            return Err(StoreError::ReadOnly(chart.to_path_buf()));
        };
        match try_lock(&file, true) {
            Ok(true) => Ok(ChartLock { _file: Some(file) }),
            Ok(false) => Err(StoreError::InUse {
                path: chart.to_path_buf(),
                holders: holders(&file),
            }),
            Err(source) => Err(StoreError::Io {
                path: lock_path(chart),
                source,
            }),
        }
    }
}

/// The lock of a process that rewrites the keyring (`NAME.keyring.lock`), so that two
/// changes to the team (from two kapcharts with the chart open) never overwrite each other.
/// Waits up to `wait`.
pub(crate) fn keyring_writer(chart: &Path, wait: Duration) -> Result<File> {
    let mut s = chart.as_os_str().to_owned();
    s.push(".keyring.lock");
    let path = PathBuf::from(s);
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    options.mode(0o600);
    let file = options.open(&path).map_err(|source| StoreError::Io {
        path: path.clone(),
        source,
    })?;
    let started = Instant::now();
    loop {
        match try_lock(&file, true) {
            Ok(true) => return Ok(file),
            Ok(false) if started.elapsed() < wait => std::thread::sleep(Duration::from_millis(20)),
            Ok(false) => {
                return Err(StoreError::Invalid(format!(
                    "another kapchart is changing the team of {} right now; nothing was changed: try again",
                    chart.display()
                )));
            }
            Err(source) => return Err(StoreError::Io { path, source }),
        }
    }
}

/// Takes `flock(2)` on `file` without waiting: Ok(false) when another open file holds it
/// in a way that excludes this one. (std's `File::try_lock` needs Rust 1.89; kapchart
/// builds with 1.85.)
#[cfg(unix)]
pub(crate) fn try_lock(file: &File, exclusive: bool) -> std::io::Result<bool> {
    use rustix::fs::{FlockOperation, flock};
    let operation = if exclusive {
        FlockOperation::NonBlockingLockExclusive
    } else {
        FlockOperation::NonBlockingLockShared
    };
    match flock(file, operation) {
        Ok(()) => Ok(true),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Elsewhere kapchart takes no lock of its own (SQLite's still apply).
#[cfg(not(unix))]
pub(crate) fn try_lock(_file: &File, _exclusive: bool) -> std::io::Result<bool> {
    Ok(true)
}

/// Opens (creating, 0600) the lock file; on a medium kapchart may not write to, an existing
/// lock file is opened for reading (a lock needs no write access) and a missing one is None.
fn open_lock_file(chart: &Path) -> Result<Option<File>> {
    let path = lock_path(chart);
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    options.mode(0o600);
    match options.open(&path) {
        Ok(f) => Ok(Some(f)),
        Err(e) if cannot_write(&e) => match File::open(&path) {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StoreError::Io { path, source }),
        },
        Err(source) => Err(StoreError::Io { path, source }),
    }
}

pub(crate) fn cannot_write(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied
    )
}

/// The other processes holding `file`'s lock, as "pid N: kapchart log", read from
/// `/proc/locks` on Linux; empty where that cannot be read.
fn holders(file: &File) -> Vec<String> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        let Ok(meta) = file.metadata() else {
            return Vec::new();
        };
        let Ok(locks) = std::fs::read_to_string("/proc/locks") else {
            return Vec::new();
        };
        let me = std::process::id();
        let mut pids: Vec<u32> = locks
            .lines()
            .filter_map(|line| flock_holder(line, meta.ino()))
            .filter(|pid| *pid != me)
            .collect();
        pids.sort_unstable();
        pids.dedup();
        pids.into_iter().map(describe_process).collect()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = file;
        Vec::new()
    }
}

/// The pid in a `/proc/locks` line of a granted flock on inode `ino`, e.g.
/// `3: FLOCK  ADVISORY  READ 4242 00:2d:1837 0 EOF`.
#[cfg(target_os = "linux")]
fn flock_holder(line: &str, ino: u64) -> Option<u32> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    // A waiting request reads "N: -> FLOCK ..." and holds nothing.
    if fields.get(1) != Some(&"FLOCK") {
        return None;
    }
    let pid = fields.get(4)?.parse().ok()?;
    let file_ino = fields.get(5)?.rsplit(':').next()?.parse::<u64>().ok()?;
    (file_ino == ino).then_some(pid)
}

#[cfg(target_os = "linux")]
fn describe_process(pid: u32) -> String {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let words: Vec<String> = cmdline
        .split(|b| *b == 0)
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    match words.split_first() {
        Some((program, args)) => {
            let name = Path::new(program)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| program.clone());
            // Only the program and its command (`kapchart log`): the rest of the command
            // line may be a quick-entry line with patient words in it.
            let mut rest = args.iter();
            let mut command = None;
            while let Some(a) = rest.next() {
                if a == "--db" {
                    rest.next();
                } else if !a.starts_with('-') {
                    command = Some(a);
                    break;
                }
            }
            match command {
                Some(command) if name == "kapchart" => format!("pid {pid}: {name} {command}"),
                _ => format!("pid {pid}: {name}"),
            }
        }
        None => format!("pid {pid}"),
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::flock_holder;

    #[test]
    fn reads_the_holder_of_a_granted_flock_only() {
        let granted = "3: FLOCK  ADVISORY  READ 4242 00:2d:1837 0 EOF";
        assert_eq!(flock_holder(granted, 1837), Some(4242));
        assert_eq!(flock_holder(granted, 1838), None);
        let waiting = "3: -> FLOCK  ADVISORY  WRITE 4343 00:2d:1837 0 EOF";
        assert_eq!(flock_holder(waiting, 1837), None);
        let posix = "1: POSIX  ADVISORY  WRITE 4444 00:2d:1837 0 EOF";
        assert_eq!(flock_holder(posix, 1837), None);
    }
}
