//! The chart on disk: one SQLCipher-encrypted SQLite file. The only code in kapchart that
//! knows SQL. Every write is one transaction that also appends its audit rows.

pub mod audit;
pub mod backup;
pub(crate) mod chain;
mod course;
mod error;
mod existing;
mod files;
mod integrity;
pub(crate) mod keyring;
mod lock;
mod opening;
mod patient_list;
mod pause;
mod queries;
#[cfg(test)]
pub(crate) mod reads;
mod rems;
mod restore;
pub mod schema;
mod search_index;
mod secret;
mod sign_in_wait;
mod signatures;
mod signin;
mod team;
mod witness;

pub use error::StoreError;
pub use existing::{Existing, Second};
pub use files::create_private_dirs;
pub use integrity::{damage_mark, head_of_copy};
pub use queries::{HomeScan, NewEntry, NewPatient, NewSession};
pub use rems::{RemsOutstanding, RemsScan};
pub use search_index::Hits;
pub(crate) use secret::{ChartSecret, copy_secret};
pub use sign_in_wait::{WrongSignIns, clear_wrong_sign_ins, count_wrong_sign_in, wrong_sign_ins};
pub use signatures::SignatureCheck;
pub use signin::RekeyStop;
pub use team::{MemberRecord, TeamCheck, team};

use crate::domain::{Clinician, text};
use audit::ObjectKind;
use chrono::{DateTime, FixedOffset, Offset, TimeZone, Utc};
use opening::{immutable_uri, key_error, migration_failed, unlock};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub type Result<T> = std::result::Result<T, StoreError>;

/// An open, unlocked chart.
pub struct Chart {
    conn: Connection,
    path: PathBuf,
    clinician: Clinician,
    /// What opened the chart: the chart key (a chart with a keyring), or the passphrase (a
    /// chart from before keyrings, until it is upgraded).
    secret: ChartSecret,
    /// The signed-in clinician's private keys, when the chart was opened from its keyring.
    keys: Option<keyring::crypto::PrivateKeys>,
    /// Whether this process holds the chart's lock exclusively (no other kapchart has it
    /// open): only then may it re-key the chart.
    alone: bool,
    /// On read-only media (or a file kapchart may not write): everything reads, every write
    /// is refused before it starts.
    read_only: bool,
    /// Held while the chart is open, so that `restore` never swaps the file under it.
    /// Declared after `conn`: the connection closes first.
    _lock: Option<lock::ChartLock>,
    /// Whether this open chart was checked for a damage mark (see `integrity`).
    damage_cleared: bool,
    /// Why writes are held back although the chart opened: a removal not finished, which
    /// the next kapchart that opens the chart alone finishes.
    held_back: Option<String>,
    /// The first problem of the damage this chart is marked with (writes refused).
    damaged: Option<String>,
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// `PRAGMA integrity_check` output: `["ok"]` for a sound file.
    pub integrity: Vec<String>,
    /// Audit rows that verified, in order, before any break.
    pub audit_rows: i64,
    pub first_break: Option<audit::Break>,
    /// The first audit row whose author's signature does not hold.
    pub first_bad_signature: Option<audit::Break>,
    /// Audit rows whose author's signature verified, and rows from before the chart signed.
    pub signed_rows: u64,
    pub rows_before_signing: u64,
    /// The team's certificates, back to the root.
    pub team: team::TeamCheck,
    /// Keyring entries the team does not certify, and removals not finished.
    pub keyring: Vec<String>,
    /// Signed notes and addenda whose text no longer matches their SHA-256.
    pub broken_signatures: Vec<String>,
    /// The Ed25519 signatures: who signed what, how many carry none (signed before), and
    /// each one that does not verify.
    pub signatures: SignatureCheck,
    /// Triggers, tables or indexes that differ from what kapchart's migrations build.
    pub schema_problems: Vec<String>,
    /// Stored rows whose content no longer decodes.
    pub undecodable: Vec<String>,
    /// Sessions where the home screen's kept lists (open sessions, integrations awaited)
    /// disagree with the record.
    pub kept_lists: Vec<String>,
    /// Where the patient search index, derived from the patients, disagrees with them.
    pub patient_search: Vec<String>,
    /// Where the search index of entries, notes and addenda disagrees with the record. Not
    /// damage to the record: it is rebuilt from the record (`Chart::rebuild_search_index`).
    pub search_index: Vec<String>,
    /// The newest audit row, to anchor outside the file.
    pub head: Option<audit::Head>,
}

impl VerifyReport {
    /// Nothing found: neither damage nor a search index that disagrees with the record.
    pub fn is_ok(&self) -> bool {
        self.problems().is_empty() && self.search_index.is_empty()
    }

    /// Every problem found with the record, one line each, most fundamental first (the
    /// search index, which is rebuilt rather than restored, is apart: `search_index`).
    pub fn problems(&self) -> Vec<String> {
        let mut out = self.damage();
        out.extend(self.keyring.iter().cloned());
        out
    }

    /// The problems of the record itself: what marks the chart damaged and stops writes.
    /// (The keyring's are not: the next change to the team seals the chart key only to the
    /// keys the team certifies, which is what mends them.)
    pub fn damage(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.integrity != ["ok"] {
            out.push(format!(
                "the chart file is damaged: {}",
                self.integrity.join("; ")
            ));
        }
        out.extend(self.schema_problems.iter().map(|p| format!("schema: {p}")));
        if let Some(b) = &self.first_break {
            out.push(format!(
                "audit trail broken at sequence number {}: {}",
                b.seq, b.why
            ));
        }
        if let Some(b) = &self.first_bad_signature {
            out.push(format!(
                "signature broken at sequence number {}: {}",
                b.seq, b.why
            ));
        }
        out.extend(self.team.problems.iter().cloned());
        out.extend(
            self.broken_signatures
                .iter()
                .map(|s| format!("{s}: its text no longer matches its signature (SHA-256)")),
        );
        out.extend(self.signatures.problems.iter().cloned());
        out.extend(self.undecodable.iter().cloned());
        out.extend(
            self.kept_lists
                .iter()
                .map(|p| format!("home screen lists: {p}")),
        );
        out.extend(self.patient_search.iter().cloned());
        out
    }
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
    fn finish_open(
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
        let mut chart = Chart {
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
            _lock: None,
            damage_cleared: false,
            held_back: None,
            damaged: None,
        };
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

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True for a chart kapchart may read but not write (read-only media or file).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The clinician who writes under this chart.
    pub fn clinician(&self) -> &Clinician {
        &self.clinician
    }

    /// A number that changes whenever another connection (another kapchart process)
    /// commits to the chart; this connection's own commits leave it as it is. A screen
    /// compares it between ticks to notice entries charted elsewhere.
    pub fn data_version(&self) -> Result<i64> {
        self.conn
            .pragma_query_value(None, "data_version", |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    pub fn schema_version(&self) -> Result<i64> {
        user_version(&self.conn).map_err(|e| self.err(e))
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        StoreError::from_sqlite(e, &self.path)
    }

    fn first_clinician(&self) -> Result<Option<Clinician>> {
        self.conn
            .query_row(
                "SELECT id, name FROM clinicians ORDER BY id LIMIT 1",
                [],
                |r| {
                    Ok(Clinician {
                        id: r.get(0)?,
                        name: r.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Runs `f` in one IMMEDIATE transaction and commits it durably, its audit rows signed
    /// by the signed-in clinician's key. Refused on a chart found damaged, on read-only
    /// media, and without a signed-in clinician's keys (a chart from before keyrings not yet
    /// upgraded: its rows could not be signed).
    fn write<T>(
        &mut self,
        f: impl FnOnce(&Tx<'_>) -> std::result::Result<T, WriteError>,
    ) -> Result<T> {
        self.check_not_damaged()?;
        let path = self.path.clone();
        if self.read_only {
            return Err(StoreError::ReadOnly(path));
        }
        let Some(keys) = &self.keys else {
            return Err(no_keys());
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| StoreError::from_sqlite(e, &path))?;
        let tx = Tx {
            tx,
            key: &keys.signing,
        };
        let value = f(&tx).map_err(|e| e.into_store(&path))?;
        tx.tx
            .commit()
            .map_err(|e| StoreError::from_sqlite(e, &path))?;
        Ok(value)
    }

    /// Like `write`, with the audit rows signed by `key` (a clinician signing in for one
    /// write: a witness, the first admin's record completed at sign-in).
    fn write_signed_by<T>(
        &mut self,
        key: &ed25519_dalek::SigningKey,
        f: impl FnOnce(&Tx<'_>) -> std::result::Result<T, WriteError>,
    ) -> Result<T> {
        self.check_not_damaged()?;
        let path = self.path.clone();
        if self.read_only {
            return Err(StoreError::ReadOnly(path));
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| StoreError::from_sqlite(e, &path))?;
        let tx = Tx { tx, key };
        let value = f(&tx).map_err(|e| e.into_store(&path))?;
        tx.tx
            .commit()
            .map_err(|e| StoreError::from_sqlite(e, &path))?;
        Ok(value)
    }

    /// Runs `PRAGMA integrity_check`, compares the schema with kapchart's, walks the audit
    /// chain, recomputes every signature, decodes every stored payload and recomputes the
    /// home screen's kept lists from the record.
    pub fn verify(&self) -> Result<VerifyReport> {
        self.verify_checking(audit::RowSignatures::Check)
    }

    /// `verify` without checking any Ed25519 signature (the audit rows' and the notes'):
    /// what the chain walk and the other checks cost alone, which the benchmarks time beside
    /// the whole `verify` on the same chart. Never a user's check.
    #[doc(hidden)]
    pub fn verify_without_signatures(&self) -> Result<VerifyReport> {
        self.verify_checking(audit::RowSignatures::Skip)
    }

    fn verify_checking(&self, signatures: audit::RowSignatures) -> Result<VerifyReport> {
        // One read transaction: every check, and the head printed, see the same chart while
        // other processes go on writing.
        let snapshot = self.conn.is_autocommit();
        if snapshot {
            self.conn
                .execute_batch("BEGIN DEFERRED")
                .map_err(|e| self.err(e))?;
        }
        let report = self.verify_now(signatures);
        if snapshot {
            let _ = self.conn.execute_batch("COMMIT");
        }
        report
    }

    fn verify_now(&self, signatures: audit::RowSignatures) -> Result<VerifyReport> {
        let integrity = match self.integrity_lines(None) {
            Ok(lines) => lines,
            // An FTS5 table of the search index that lost a table of its own stops SQLite's
            // check of the whole file: the rest is checked table by table (the index's
            // problems are named by `search_index_problems`).
            Err(_) if self.search_index_tables_differ()? => {
                let mut lines = Vec::new();
                for table in self.tables_beside_the_search_index()? {
                    lines.extend(
                        self.integrity_lines(Some(&table))
                            .map_err(|e| self.err(e))?
                            .into_iter()
                            .filter(|l| l != "ok"),
                    );
                }
                if lines.is_empty() {
                    lines.push("ok".into());
                }
                lines
            }
            Err(e) => return Err(self.err(e)),
        };
        let team = self.check_team()?;
        let walk = audit::walk(&self.conn, &team.keys, signatures).map_err(|e| self.err(e))?;
        let keyring = self.keyring_problems(&team)?;
        // SQLite checks the FTS5 tables' word lists too: those of the search index are the
        // index's problems, not the file's.
        let (search_integrity, mut integrity): (Vec<String>, Vec<String>) = integrity
            .into_iter()
            .partition(|line| search_index::names_index_table(line));
        if integrity.is_empty() {
            integrity.push("ok".into());
        }
        Ok(VerifyReport {
            integrity,
            audit_rows: walk.rows,
            first_break: walk.first_break,
            first_bad_signature: walk.first_bad_signature,
            signed_rows: walk.signed,
            rows_before_signing: walk.before_signing,
            team,
            keyring,
            broken_signatures: self.broken_signatures()?,
            signatures: match signatures {
                audit::RowSignatures::Check => self.check_ed25519_signatures()?,
                audit::RowSignatures::Skip => Default::default(),
            },
            schema_problems: self.schema_problems()?,
            undecodable: self.undecodable_rows()?,
            kept_lists: self.kept_lists_disagreeing()?,
            patient_search: self.patient_search_problems()?,
            search_index: self.search_index_problems(&search_integrity)?,
            head: self.head()?,
        })
    }

    /// `PRAGMA integrity_check`, of the whole file or of one table.
    fn integrity_lines(&self, table: Option<&str>) -> rusqlite::Result<Vec<String>> {
        let mut lines = Vec::new();
        let sql = match table {
            Some(t) => format!("PRAGMA integrity_check(\"{}\")", t.replace('"', "\"\"")),
            None => "PRAGMA integrity_check".to_string(),
        };
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            lines.push(r.get::<_, String>(0)?);
        }
        Ok(lines)
    }

    /// The newest audit row.
    pub fn head(&self) -> Result<Option<audit::Head>> {
        audit::head(&self.conn).map_err(|e| self.err(e))
    }

    /// Whether the chart still holds `head`: the audit row at its sequence number has its
    /// hash. (Whether the chain up to it holds is `verify`'s to say.)
    pub fn holds_head(&self, head: &audit::Head) -> Result<bool> {
        let found = audit::hash_at(&self.conn, head.seq).map_err(|e| self.err(e))?;
        Ok(found.as_deref() == Some(head.hash.as_str()))
    }

    /// Re-encrypts the chart in place with a new key (SQLCipher's `PRAGMA rekey`). Only while no
    /// other connection has the chart open: leaving WAL mode first needs exactly that, and
    /// fails (nothing changed) otherwise. The chain key is chart data, so the audit trail
    /// verifies as before.
    pub(crate) fn rekey_to(&mut self, new: ChartSecret) -> Result<()> {
        self.check_not_damaged()?;
        let in_use = || {
            StoreError::Invalid(format!(
                "another kapchart has the chart {} open; close it (every chart screen and script using it), then change the passphrase; nothing was changed",
                self.path.display()
            ))
        };
        let mode: String = self
            .conn
            .pragma_update_and_check(None, "journal_mode", "DELETE", |r| r.get(0))
            .map_err(|e| match self.err(e) {
                StoreError::Busy(_) => in_use(),
                other => other,
            })?;
        if !mode.eq_ignore_ascii_case("delete") {
            return Err(in_use());
        }
        let rekeyed = self
            .conn
            .pragma_update(None, "rekey", new.pragma_value().as_str());
        if rekeyed.is_ok() {
            self.secret = new;
        }
        // Back to WAL whatever happened: every other command expects it.
        let wal: rusqlite::Result<String> =
            self.conn
                .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0));
        rekeyed.map_err(|e| self.err(e))?;
        wal.map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Walks what was written since the last head checked, as every open does, and keeps the
    /// new head: for a process that wrote much (the clinic-size demo), so that the next
    /// open has little to walk.
    pub fn check_written(&mut self) -> Result<()> {
        self.damage_cleared = false;
        self.check_since_last_head()
    }

    /// The raw connection, for tests that must act behind kapchart's back.
    #[doc(hidden)]
    pub fn raw_connection(&self) -> &Connection {
        &self.conn
    }
}

/// A write's transaction and the key its audit rows are signed with. Reads and statements
/// go to the transaction (`Deref`); `record` appends the signed audit row.
pub(crate) struct Tx<'c> {
    tx: rusqlite::Transaction<'c>,
    key: &'c ed25519_dalek::SigningKey,
}

impl<'c> std::ops::Deref for Tx<'c> {
    type Target = rusqlite::Transaction<'c>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl Tx<'_> {
    /// Appends the audit row of the row just written, by `clinician` (whose key this write
    /// holds), signed.
    pub(crate) fn record(
        &self,
        at_ms: i64,
        clinician: i64,
        action: &str,
        kind: ObjectKind,
        object_id: i64,
    ) -> rusqlite::Result<()> {
        audit::record_signed(
            &self.tx, self.key, at_ms, clinician, action, kind, object_id,
        )
    }

    /// The key this write signs with.
    pub(crate) fn key(&self) -> &ed25519_dalek::SigningKey {
        self.key
    }
}

/// A write refused because no clinician's keys are open to sign it.
fn no_keys() -> StoreError {
    StoreError::SignIn(
        "this chart has no team keys yet, so nothing written to it could be signed; it is upgraded the next time it is opened while no other kapchart has it open: nothing was written".into(),
    )
}

/// An error inside a write: either SQLite's, or a rule of the chart that the write broke.
pub(crate) enum WriteError {
    Sqlite(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for WriteError {
    fn from(e: rusqlite::Error) -> Self {
        WriteError::Sqlite(e)
    }
}

impl From<StoreError> for WriteError {
    fn from(e: StoreError) -> Self {
        WriteError::Store(e)
    }
}

impl WriteError {
    fn into_store(self, path: &Path) -> StoreError {
        match self {
            WriteError::Sqlite(e) => StoreError::from_sqlite(e, path),
            WriteError::Store(e) => e,
        }
    }
}

/// A person's name as the chart stores it (`domain::name`): trimmed, NFC, nothing hidden.
pub(crate) fn clean_name(raw: &str) -> Result<String> {
    crate::domain::name::clean(text::PERSON_NAME, raw)
        .map_err(|e| StoreError::Invalid(e.to_string()))
}

/// Refuses free text that does not fit its field (`domain::text`): the last gate before the
/// chart, whichever front end the text came from.
pub(crate) fn check_text(field: text::Field, value: &str) -> Result<()> {
    text::check(field, value).map_err(|e| StoreError::Invalid(e.to_string()))
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

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT user_version FROM pragma_user_version", [], |r| {
        r.get(0)
    })
}

/// A stored instant: UTC milliseconds and the local offset in seconds at that moment.
pub(crate) fn to_stored(t: DateTime<FixedOffset>) -> (i64, i32) {
    (t.timestamp_millis(), t.offset().local_minus_utc())
}

pub(crate) fn from_stored(ms: i64, offset_s: i32) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(offset_s).unwrap_or(Utc.fix());
    let utc = Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    utc.with_timezone(&offset)
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
