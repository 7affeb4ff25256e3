//! How every write reaches the chart: one IMMEDIATE transaction, committed durably, whose
//! audit rows are signed by the key of the clinician who wrote.

use super::audit::{self, ObjectKind};
use super::{Chart, Result, StoreError};
use rusqlite::TransactionBehavior;
use std::path::Path;

impl Chart {
    /// Runs `f` in one IMMEDIATE transaction and commits it durably, its audit rows signed
    /// by the signed-in clinician's key. Refused on a chart found damaged, on read-only
    /// media, and without a signed-in clinician's keys (a chart from before keyrings not yet
    /// upgraded: its rows could not be signed).
    pub(super) fn write<T>(
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
    pub(super) fn write_signed_by<T>(
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
