//! Files and folders kapchart creates are private to the user: 0600 and 0700.

use super::StoreError;
use std::fs::{self, OpenOptions};
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

/// Creates the parent folders (0700) of `path`.
pub fn create_private_dirs(dir: &Path) -> std::io::Result<()> {
    if dir.as_os_str().is_empty() || dir.exists() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(dir)
}

/// Creates a new, empty file at `path` readable only by its owner. Fails if anything is
/// already there.
pub fn create_private_file(path: &Path) -> Result<(), StoreError> {
    let io = |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    if path.exists() {
        return Err(StoreError::AlreadyExists(path.to_path_buf()));
    }
    if let Some(dir) = path.parent() {
        create_private_dirs(dir).map_err(io)?;
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path).map_err(io)?;
    Ok(())
}

/// Removes a chart that `create` made and could not finish.
pub fn remove_new_chart(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = fs::remove_file(Path::new(&p));
    }
}

/// Why the chart at `path` cannot be written, in words that name what to fix: the medium,
/// the file's permissions, or the folder (SQLite needs to create `-wal` and `-shm` beside
/// the chart). Only probes; changes nothing.
pub fn why_read_only(path: &Path) -> String {
    use std::io::ErrorKind;
    let shown = path.display();
    match OpenOptions::new().write(true).open(path) {
        Err(e) if e.kind() == ErrorKind::ReadOnlyFilesystem => {
            return format!(
                "the chart {shown} is on a read-only file system (a write-protected stick, a read-only mount)"
            );
        }
        Err(e) if e.kind() == ErrorKind::PermissionDenied => {
            return format!("the chart file {shown} is read-only (its permissions)");
        }
        _ => {}
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let probe = dir.join(format!(".kapchart-probe-{}", std::process::id()));
    match OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(_) => {
            let _ = fs::remove_file(&probe);
            format!("the chart {shown} cannot be written at the moment")
        }
        Err(_) => format!(
            "kapchart cannot create files in the folder {} (it needs {shown}-wal and -shm beside the chart)",
            dir.display()
        ),
    }
}

/// `path` with `suffix` appended to its file name.
pub fn sibling(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    std::path::PathBuf::from(s)
}

/// The names tried for a new file beside `path`: `NAME{label}`, then `NAME{label}-2`, ...
fn candidates(path: &Path, label: &str) -> impl Iterator<Item = std::path::PathBuf> {
    let first = sibling(path, label);
    std::iter::once(first).chain((2..10_000).map(move |n| sibling(path, &format!("{label}-{n}"))))
}

/// Creates a new, empty, private file beside `path` under a name no file had: `NAME{label}`,
/// else the first free `NAME{label}-N`. Create-new semantics: nothing is ever overwritten,
/// and two processes never get the same name.
pub fn reserve_beside(path: &Path, label: &str) -> Result<std::path::PathBuf, StoreError> {
    for candidate in candidates(path, label) {
        match create_private_file(&candidate) {
            Ok(()) => return Ok(candidate),
            Err(StoreError::AlreadyExists(_)) => continue,
            Err(StoreError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::AlreadyExists =>
            {
                continue;
            }
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::AlreadyExists(sibling(path, label)))
}

/// Gives the file at `path` a second, new name `NAME{label}[-N]` (a hard link: the file is
/// neither moved nor copied, and `path` still names it). A name that exists is never
/// reused. Where the file system has no hard links (FAT), the file is moved to a reserved
/// name instead, and `path` is then free.
pub fn keep_aside(path: &Path, label: &str) -> Result<std::path::PathBuf, StoreError> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| StoreError::Io { path: p, source }
    };
    for candidate in candidates(path, label) {
        match fs::hard_link(path, &candidate) {
            Ok(()) => return Ok(candidate),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(_) => {
                let reserved = reserve_beside(path, label)?;
                fs::rename(path, &reserved).map_err(io(path))?;
                return Ok(reserved);
            }
        }
    }
    Err(StoreError::AlreadyExists(sibling(path, label)))
}

/// Removes what killed restores left beside the chart (`NAME.restoring*`, with their
/// `-wal`, `-shm` and `-journal`). Only call while holding the chart's lock: then no
/// restore is under way.
pub fn remove_stale_restores(chart: &Path) {
    let Some(name) = chart.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let prefix = format!("{name}.restoring");
    remove_matching(chart, |f| f.starts_with(&prefix));
}

fn remove_matching(path: &Path, matches: impl Fn(&str) -> bool) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(listing) = fs::read_dir(dir) else {
        return;
    };
    for entry in listing.flatten() {
        if matches(&entry.file_name().to_string_lossy()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Flushes a folder's entries (a rename or link in it) to disk.
pub fn sync_dir(dir: &Path) {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}
