//! What can go wrong with the chart, in words a clinician can act on.

use super::files;
use rusqlite::{ErrorCode, ffi};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("wrong passphrase, or not a kapchart chart")]
    WrongPassphrase,
    /// No keyring beside the chart, and the passphrase does not open it as a chart from
    /// before keyrings: a wrong passphrase, or a keyring gone missing.
    #[error(
        "wrong passphrase, or not a kapchart chart; if this chart has a team, its keyring {} is missing: put it back beside the chart (a backup has it beside the backup's file); nothing was changed",
        files::sibling(.0, ".keyring").display()
    )]
    WrongPassphraseOrNoKeyring(PathBuf),
    /// A clinician and passphrase that do not open the chart together. Which of the two was
    /// wrong is not said.
    #[error("this clinician and passphrase do not open the chart; nothing was changed")]
    WrongSignIn,
    /// Who is signing in is unclear: unknown, ambiguous, not given, or removed.
    #[error("{0}")]
    SignIn(String),
    #[error(
        "this chart was written by a newer kapchart (chart schema v{found}; this kapchart reads up to v{supported}); it was not changed: update kapchart to open it"
    )]
    NewerSchema { found: i64, supported: i64 },
    #[error("no chart at {}; create one with `kapchart init` or pass --db PATH", .0.display())]
    NoChart(PathBuf),
    #[error("a file already exists at {}; kapchart will not overwrite it", .0.display())]
    AlreadyExists(PathBuf),
    #[error("{}; it can be read but not changed: nothing was written", files::why_read_only(.0))]
    ReadOnly(PathBuf),
    #[error("no backup at {}; nothing was changed", .0.display())]
    NoBackup(PathBuf),
    #[error(
        "the chart {} is open in another kapchart ({}); close it there first: nothing was changed",
        path.display(),
        if holders.is_empty() { "another process".to_string() } else { holders.join(", ") }
    )]
    InUse { path: PathBuf, holders: Vec<String> },
    #[error(
        "a restore is replacing the chart {} right now; nothing was written: try again in a moment",
        .0.display()
    )]
    Restoring(PathBuf),
    #[error("the disk holding {} is full; nothing was written", .0.display())]
    DiskFull(PathBuf),
    #[error(
        "the chart {} is busy: another kapchart process is writing to it; nothing was written, try again",
        .0.display()
    )]
    Busy(PathBuf),
    #[error(
        "the chart file {} is damaged ({detail}); it was left as it is: restore it from a backup",
        path.display()
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "the chart {} failed verification ({problem}); kapchart writes nothing to it until it is restored from a backup (`kapchart restore BACKUP --replace`)",
        path.display()
    )]
    Damaged { path: PathBuf, problem: String },
    #[error(
        "cannot open the chart file {}: kapchart needs to read and write it and to create its -wal and -shm files beside it; nothing was written",
        .0.display()
    )]
    CannotOpen(PathBuf),
    #[error("{what} {id} does not exist in this chart")]
    NotFound { what: &'static str, id: i64 },
    #[error("{0}")]
    Invalid(String),
    /// A stock write the stock refuses (a draw above a container's balance, an unknown
    /// container, ...); nothing was written.
    #[error("{0}; nothing was written")]
    Stock(crate::domain::stock::StockRefusal),
    /// The write would duplicate or silently replace what exists; nothing was written.
    #[error("{0}; nothing was written")]
    Exists(super::Existing),
    #[error("cannot use {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("chart error at {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
}

impl StoreError {
    /// Turns SQLite's error into one that says what happened to this chart. Only for a chart
    /// whose passphrase was already checked: `Chart::open` reads "not a database" while it
    /// checks the key as a wrong passphrase; after that, it means a page that no longer
    /// decrypts to what was written (SQLCipher reports a failed page HMAC that way).
    pub fn from_sqlite(e: rusqlite::Error, path: &Path) -> StoreError {
        let path = path.to_path_buf();
        let extended = match &e {
            rusqlite::Error::SqliteFailure(f, _) => f.extended_code,
            _ => 0,
        };
        match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => StoreError::Corrupt {
                path,
                detail: "part of it no longer matches its checksum".into(),
            },
            // SQLCipher marks the connection read-only once a page failed to decrypt. The file
            // itself was opened for writing (a chart opened read-only refuses every write
            // before SQLite sees it), so a plain "read-only" means that damage, not the disk.
            Some(ErrorCode::ReadOnly) if extended == ffi::SQLITE_READONLY => StoreError::Corrupt {
                path,
                detail:
                    "part of it no longer matches its checksum, so kapchart stopped writing to it"
                        .into(),
            },
            Some(ErrorCode::ReadOnly) => StoreError::ReadOnly(path),
            Some(ErrorCode::DiskFull) => StoreError::DiskFull(path),
            // SQLite could not grow the shared-memory file beside the chart: no space left.
            _ if extended == ffi::SQLITE_IOERR_SHMSIZE => StoreError::DiskFull(path),
            Some(ErrorCode::CannotOpen) => StoreError::CannotOpen(path),
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
                StoreError::Busy(path)
            }
            Some(ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
                path,
                detail: e.to_string(),
            },
            _ => StoreError::Sqlite { path, source: e },
        }
    }
}
