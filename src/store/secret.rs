//! What opens a chart: its key from the keyring, or the passphrase of a chart from before
//! keyrings; and the key of a copy (a backup) from the keyring beside it.

use super::{Result, StoreError, keyring};
use std::path::Path;

/// What SQLCipher is keyed with.
#[derive(Clone)]
pub(crate) enum ChartSecret {
    /// A chart from before keyrings: its passphrase (SQLCipher derives the key with PBKDF2).
    Passphrase(zeroize::Zeroizing<String>),
    /// The chart key from the keyring, given to SQLCipher as raw key data (no derivation).
    Raw(keyring::crypto::Secret32),
}

impl ChartSecret {
    /// The value of `PRAGMA key`: the passphrase, or `x'<64 hex digits>'` (SQLCipher's raw
    /// key data, which skips its key derivation).
    pub(super) fn pragma_value(&self) -> zeroize::Zeroizing<String> {
        match self {
            ChartSecret::Passphrase(p) => p.clone(),
            ChartSecret::Raw(k) => {
                zeroize::Zeroizing::new(format!("x'{}'", keyring::crypto::to_hex(k.as_ref())))
            }
        }
    }

    pub(crate) fn passphrase(p: &str) -> ChartSecret {
        ChartSecret::Passphrase(zeroize::Zeroizing::new(p.to_string()))
    }
}

/// The key of a copy of a chart (a backup): from the keyring beside it with `who`'s
/// passphrase, or the passphrase itself for a copy from before keyrings.
pub(crate) fn copy_secret(copy: &Path, who: &str, passphrase: &str) -> Result<ChartSecret> {
    match keyring::read(&keyring::path_of(copy))? {
        Some(ring) => {
            let entry = ring.find(who)?;
            let unlocked = entry.unlock(passphrase)?.ok_or(StoreError::WrongSignIn)?;
            Ok(ChartSecret::Raw(unlocked.chart_key))
        }
        None => Ok(ChartSecret::passphrase(passphrase)),
    }
}
