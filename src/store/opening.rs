//! Opening a chart: the key, and what a failure to open means for this file (a wrong
//! passphrase or damage, media kapchart may not write, a migration that did not go through).

use super::{
    Chart, ChartSecret, Result, StoreError, audit, clean_name, files, keyring, lock, schema,
    search_index,
};
use crate::domain::Clinician;
use chrono::{DateTime, FixedOffset};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

/// A migration that failed: what happened to which file, in one line (SQLite's own error
/// would quote the whole migration's SQL). The transaction is rolled back, so the chart
/// stays at the version it had.
pub(super) fn migration_failed(path: &Path, from: i64, e: rusqlite::Error) -> StoreError {
    let reason = match e {
        rusqlite::Error::SqlInputError { msg, .. } => msg,
        // A full disk, a lock, damage: said as such.
        other => match StoreError::from_sqlite(other, path) {
            StoreError::Sqlite {
                source: rusqlite::Error::SqliteFailure(f, msg),
                ..
            } => msg.unwrap_or_else(|| f.to_string()),
            StoreError::Sqlite { source, .. } => source.to_string(),
            specific => return specific,
        },
    };
    let reason: String = reason
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(160)
        .collect();
    StoreError::Invalid(format!(
        "updating the chart {} from schema v{from} to v{} failed ({reason}); it was left unchanged at v{from}: restore it from a backup or report this",
        path.display(),
        from + 1
    ))
}

/// The configured wait (from the very first read: a reader too may wait while another
/// process recovers the WAL after a crash), then the key.
pub(super) fn unlock(
    conn: &Connection,
    passphrase: &ChartSecret,
    busy_timeout_ms: u32,
) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_millis(u64::from(busy_timeout_ms)))?;
    key(conn, passphrase)
}

/// The first page does not decrypt with this key: a wrong passphrase, a file that is no
/// chart, or damage to that very page. Later, the same code means damage (see
/// `StoreError::from_sqlite`).
pub(super) fn key_error(conn: &Connection, e: rusqlite::Error, path: &Path) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) if only_some_pages_fail(conn, path) => {
            StoreError::Corrupt {
                path: path.to_path_buf(),
                detail:
                    "its first page no longer matches its checksum; the passphrase fits the rest"
                        .into(),
            }
        }
        Some(rusqlite::ErrorCode::NotADatabase) => StoreError::WrongPassphrase,
        _ => StoreError::from_sqlite(e, path),
    }
}

/// SQLCipher's `cipher_integrity_check` checks every page's HMAC with the key (derived from
/// the passphrase and the salt, which is stored in the clear). With a wrong passphrase, or a
/// file that is no chart, every page fails; when the passphrase is right and the first page
/// was damaged, the others pass. Only reads.
fn only_some_pages_fail(conn: &Connection, path: &Path) -> bool {
    let mut failed = 0usize;
    let checked = conn.pragma_query(None, "cipher_integrity_check", |r| {
        let line: String = r.get(0)?;
        if line.contains("HMAC") {
            failed += 1;
        }
        Ok(())
    });
    // SQLCipher 4's page size; the first page cannot be read to ask.
    let pages = std::fs::metadata(path).map_or(0, |m| m.len() / 4096) as usize;
    checked.is_ok() && failed > 0 && pages > 1 && failed < pages
}

/// `file:PATH?immutable=1`, the path percent-encoded where a URI needs it.
pub(super) fn immutable_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for b in path.as_os_str().as_encoded_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'.' | b'-' | b'_' | b'~' => {
                uri.push(char::from(*b));
            }
            _ => uri.push_str(&format!("%{b:02X}")),
        }
    }
    uri.push_str("?immutable=1");
    uri
}

impl Chart {
    /// Creates a new chart at `path` for `clinician`. Refuses to touch an existing file.
    pub fn create(
        path: &Path,
        passphrase: &str,
        clinician: &str,
        busy_timeout_ms: u32,
        now: DateTime<FixedOffset>,
    ) -> Result<Chart> {
        if passphrase.is_empty() {
            return Err(StoreError::Invalid(
                "the passphrase must not be empty".into(),
            ));
        }
        if clinician.trim().is_empty() {
            return Err(StoreError::Invalid(
                "the clinician name must not be empty".into(),
            ));
        }
        let clinician = &clean_name(clinician)?;
        let ring_path = keyring::path_of(path);
        if ring_path.exists() && !path.exists() {
            return Err(StoreError::Invalid(format!(
                "a keyring is already at {} without its chart; move it away first (it may belong to a chart that was moved): nothing was created",
                ring_path.display()
            )));
        }
        files::create_private_file(path)?;
        let made = (|| {
            let chart_key = keyring::crypto::new_chart_key().map_err(StoreError::Invalid)?;
            let secret = ChartSecret::Raw(chart_key);
            let lock =
                lock::ChartLock::shared(path, Duration::from_millis(busy_timeout_ms.into()))?;
            let wrap = |e| StoreError::from_sqlite(e, path);
            let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)
                .map_err(wrap)?;
            key(&conn, &secret).map_err(wrap)?;
            conn.pragma_update(None, "application_id", schema::APPLICATION_ID)
                .map_err(wrap)?;
            let mut chart = Chart::finish_open(conn, path, busy_timeout_ms, false, secret)?;
            chart._lock = Some(lock);
            chart.found_new_team(clinician, passphrase, now)?;
            chart.record_new_uuid(now)?;
            chart.keep_checked_head()?;
            Ok(chart)
        })();
        if made.is_err() {
            // The file is ours, new and unfinished: nothing of value is lost by removing it.
            files::remove_new_chart(path);
            let _ = std::fs::remove_file(&ring_path);
        }
        made
    }

    /// Opens an existing chart. Wrong passphrase, foreign files and charts from a newer
    /// kapchart are refused before anything is written. While it is open, `restore` refuses
    /// to replace it (and it waits up to the busy timeout for a restore under way).
    ///
    /// Signs in the team's only clinician: a chart whose team has more than one is refused,
    /// naming the team (use `open_as`).
    pub fn open(path: &Path, passphrase: &str, busy_timeout_ms: u32) -> Result<Chart> {
        Chart::open_as(path, "", passphrase, busy_timeout_ms)
    }

    /// Opens a chart without taking its lock: for copies that only this process knows
    /// about (a backup being verified, a restore being prepared).
    pub(crate) fn open_unlocked(
        path: &Path,
        passphrase: &ChartSecret,
        busy_timeout_ms: u32,
    ) -> Result<Chart> {
        if !path.exists() {
            return Err(StoreError::NoChart(path.to_path_buf()));
        }
        let wrap = |e| StoreError::from_sqlite(e, path);
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(wrap)?;
        // SQLite opens a file it may not write (a read-only mount, a read-only file) read-only
        // instead of failing. Such a chart is read as usual; every write is refused up front.
        let mut read_only = conn.is_readonly(rusqlite::MAIN_DB).map_err(wrap)?;
        let unlocked = unlock(&conn, passphrase, busy_timeout_ms);
        let wal_empty =
            std::fs::metadata(files::sibling(path, "-wal")).map_or(true, |m| m.len() == 0);
        // On read-only media, or in a folder kapchart may not create files in, SQLite cannot
        // create the `-shm` file a WAL reader needs.
        let no_shm = |e: &rusqlite::Error| {
            let extended = match e {
                rusqlite::Error::SqliteFailure(f, _) => f.extended_code,
                _ => 0,
            };
            (read_only && e.sqlite_error_code() == Some(rusqlite::ErrorCode::CannotOpen))
                || extended == rusqlite::ffi::SQLITE_READONLY_DIRECTORY
        };
        match unlocked {
            // With no WAL to read (every kapchart that closed the chart folded it in), the
            // file alone is the whole chart: it is read as immutable, and not written.
            Err(e) if wal_empty && no_shm(&e) => {
                read_only = true;
                drop(conn);
                conn = Connection::open_with_flags(
                    immutable_uri(path),
                    OpenFlags::SQLITE_OPEN_READ_ONLY
                        | OpenFlags::SQLITE_OPEN_URI
                        | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(wrap)?;
                unlock(&conn, passphrase, busy_timeout_ms)
                    .map_err(|e| key_error(&conn, e, path))?;
            }
            Err(e) if no_shm(&e) => {
                return Err(StoreError::Invalid(format!(
                    "{}, and its last changes are still in {} (kapchart was stopped before it could fold them in); to read them, copy the chart with its -wal file to writable storage: nothing was written",
                    files::why_read_only(path),
                    files::sibling(path, "-wal").display()
                )));
            }
            other => other.map_err(|e| key_error(&conn, e, path))?,
        }
        let app_id: i32 = conn
            .query_row(
                "SELECT application_id FROM pragma_application_id",
                [],
                |r| r.get(0),
            )
            .map_err(wrap)?;
        if app_id != schema::APPLICATION_ID {
            return Err(StoreError::WrongPassphrase);
        }
        let version = user_version(&conn).map_err(wrap)?;
        if version > schema::LATEST {
            return Err(StoreError::NewerSchema {
                found: version,
                supported: schema::LATEST,
            });
        }
        Chart::finish_open(conn, path, busy_timeout_ms, read_only, passphrase.clone())
    }

    /// Pragmas, migrations and the clinician, common to create and open.
    pub(super) fn finish_open(
        conn: Connection,
        path: &Path,
        busy_timeout_ms: u32,
        read_only: bool,
        secret: ChartSecret,
    ) -> Result<Chart> {
        let wrap = |e| StoreError::from_sqlite(e, path);
        conn.busy_timeout(Duration::from_millis(u64::from(busy_timeout_ms)))
            .map_err(wrap)?;
        let mode: String = if read_only {
            // Every chart is in WAL mode from its creation; a read-only one cannot be changed.
            "wal".into()
        } else {
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
                .map_err(wrap)?
        };
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Invalid(format!(
                "the chart could not be put in WAL mode (got {mode})"
            )));
        }
        conn.pragma_update(None, "synchronous", synchronous())
            .map_err(wrap)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(wrap)?;
        // Room for every statement the write path and the screens reuse (rusqlite keeps 16).
        conn.set_prepared_statement_cache_capacity(64);
        // A cached statement keeps its plan: without this SQLite re-prepares some statements
        // whenever a bound value changes (about three per charted line, a third of a line's
        // CPU; BENCHMARKS.md section 1). kapchart's SQL names its constants, so no plan
        // depends on a bound value.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )
        .map_err(wrap)?;
        let mut chart = Chart::nobody_signed_in(conn, path, secret, read_only, None);
        // A chart that is up to date is not locked for writing just to be opened, so reading
        // goes on while another process holds the write lock. (`migrate` checks the version
        // again under the lock.)
        let version = user_version(&chart.conn).map_err(wrap)?;
        if version < schema::LATEST && read_only {
            return Err(StoreError::Invalid(format!(
                "{}, and this kapchart must first update it (chart schema v{version} to v{}); copy it to writable storage to open it: nothing was written",
                files::why_read_only(path),
                schema::LATEST
            )));
        }
        if version < schema::LATEST {
            chart.migrate(schema::LATEST)?;
        }
        if let Some(c) = chart.first_clinician()? {
            chart.clinician = c;
        }
        Ok(chart)
    }

    /// Takes the chart forward to schema version `to`, in one transaction.
    pub(crate) fn migrate(&mut self, to: i64) -> Result<()> {
        let path = self.path.clone();
        let wrap = |e| StoreError::from_sqlite(e, &path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(wrap)?;
        let mut version = user_version(&tx).map_err(wrap)?;
        while version < to.min(schema::LATEST) {
            let index = usize::try_from(version).unwrap_or(usize::MAX);
            let Some(sql) = schema::MIGRATIONS.get(index) else {
                break;
            };
            tx.execute_batch(sql)
                .map_err(|e| migration_failed(&path, version, e))?;
            version += 1;
            if version == schema::CHAIN_KEY_VERSION {
                audit::install_chain_key(&tx, crate::clock::now().timestamp_millis())
                    .map_err(wrap)?;
            }
            if *sql == schema::CHART_SEARCH {
                search_index::fill(&tx).map_err(wrap)?;
            }
            tx.pragma_update(None, "user_version", version)
                .map_err(wrap)?;
        }
        tx.commit().map_err(wrap)?;
        Ok(())
    }
}

/// SQLCipher's key must be the first statement on the connection. The first read then tells
/// whether the key fits: it reads the first page only (the header), so that "not a database"
/// here means the key, and damage further in is reported as damage once the key is known to
/// fit.
pub(crate) fn key(conn: &Connection, secret: &ChartSecret) -> rusqlite::Result<()> {
    // One connection keys at a time in a process. Charts keyed on several threads at once
    // (the test suite opens many in parallel) now and then failed in SQLCipher's key setup
    // with "An error occurred with PRAGMA key or rekey"; kapchart itself keys one chart per
    // process, so serialising costs it nothing.
    static KEYING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = KEYING.lock().unwrap_or_else(|p| p.into_inner());
    // SQLCipher would otherwise print its own diagnostics on stderr.
    conn.pragma_update(None, "cipher_log_level", "NONE")?;
    let value = secret.pragma_value();
    // Even one at a time, the key's setup now and then fails the same way while other
    // connections of the process encrypt and decrypt pages (seen only in the test suite,
    // which runs dozens of charts on many threads). It is SQLCipher's setup that failed, not
    // the key: the key has not been tried yet. So it is set up again, a few times, before
    // the failure is reported.
    let mut tries = 0u64;
    loop {
        match conn.pragma_update(None, "key", value.as_str()) {
            Err(e) if tries < 5 && is_key_setup_failure(&e) => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(5 * tries));
            }
            other => break other?,
        }
    }
    conn.pragma_query_value(None, "application_id", |r| r.get::<_, i64>(0))?;
    Ok(())
}

/// SQLCipher's own "An error occurred with PRAGMA key or rekey": its cipher context could
/// not be set up (a wrong key is found only by the first read after it).
fn is_key_setup_failure(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(_, Some(msg)) if msg.contains("PRAGMA key or rekey"))
}

pub(super) fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT user_version FROM pragma_user_version", [], |r| {
        r.get(0)
    })
}

/// `synchronous = FULL`: a commit is on the disk when it returns, so an id printed after it
/// survives a power cut. Test builds only: `KAPCHART_TEST_SYNCHRONOUS=OFF` turns that off so
/// that the power-cut test can show it would notice (tests/power_cut.rs); release builds
/// always use FULL.
fn synchronous() -> &'static str {
    #[cfg(debug_assertions)]
    if std::env::var("KAPCHART_TEST_SYNCHRONOUS").is_ok_and(|v| v.eq_ignore_ascii_case("off")) {
        return "OFF";
    }
    "FULL"
}

impl Chart {
    /// A handle on an open, keyed connection with nobody signed in yet: what opening a chart
    /// and building one as an older kapchart did both start from.
    pub(super) fn nobody_signed_in(
        conn: rusqlite::Connection,
        path: &Path,
        secret: ChartSecret,
        read_only: bool,
        lock: Option<super::lock::ChartLock>,
    ) -> Chart {
        Chart {
            conn,
            path: path.to_path_buf(),
            clinician: Clinician {
                id: 0,
                name: String::new(),
            },
            secret,
            keys: None,
            alone: false,
            read_only,
            _lock: lock,
            damage_cleared: false,
            held_back: None,
            damaged: None,
        }
    }
}
