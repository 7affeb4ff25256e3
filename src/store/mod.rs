//! The chart on disk: one SQLCipher-encrypted SQLite file. The only code in kapchart that
//! knows SQL. Every write is one transaction that also appends its audit rows.

pub mod audit;
pub mod backup;
pub(crate) mod chain;
mod course;
mod error;
mod existing;
mod files;
mod identity;
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
mod stock;
mod sync_log;
mod team;
mod verify;
mod witness;
mod write;

pub use error::StoreError;
pub use existing::{Existing, Second};
pub use files::create_private_dirs;
pub use integrity::{damage_mark, head_of_copy};
pub(crate) use opening::key;
use opening::user_version;
pub use queries::{HomeScan, NewEntry, NewPatient, NewSession};
pub use rems::{RemsOutstanding, RemsScan};
pub use search_index::Hits;
pub(crate) use secret::{ChartSecret, copy_secret};
pub use sign_in_wait::{WrongSignIns, clear_wrong_sign_ins, count_wrong_sign_in, wrong_sign_ins};
pub use signatures::SignatureCheck;
pub use signin::RekeyStop;
pub use stock::NewMovement;
pub use team::{MemberRecord, TeamCheck, team};
pub use verify::VerifyReport;
pub(crate) use witness::WitnessSignIn;
pub(crate) use write::{Tx, WriteError};

use crate::domain::{Clinician, text};
use chrono::{DateTime, FixedOffset, Offset, TimeZone, Utc};
use rusqlite::{Connection, OptionalExtension};
use std::path::{Path, PathBuf};

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

impl Chart {
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

    /// The raw connection, past every rule of the chart (no transaction, no audit row, no
    /// signature). Who may use it: `restore` (which reads the live chart's team removals
    /// before the copy replaces it), the demo and scale generators' bulk writes (reached through the door's
    /// generator seam), the benchmarks, and tests that must act behind kapchart's back as an
    /// insider with raw SQL would. Never a use case's: everything a clinician does goes
    /// through `Chart`'s own writes and reads.
    #[doc(hidden)]
    pub fn raw_connection(&self) -> &Connection {
        &self.conn
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

/// A stored instant: UTC milliseconds and the local offset in seconds at that moment.
pub(crate) fn to_stored(t: DateTime<FixedOffset>) -> (i64, i32) {
    (t.timestamp_millis(), t.offset().local_minus_utc())
}

pub(crate) fn from_stored(ms: i64, offset_s: i32) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(offset_s).unwrap_or(Utc.fix());
    let utc = Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    utc.with_timezone(&offset)
}
