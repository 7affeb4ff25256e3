//! Opening a chart: the key, and what a failure to open means for this file (a wrong
//! passphrase or damage, media kapchart may not write, a migration that did not go through).

use super::{ChartSecret, StoreError, key};
use rusqlite::Connection;
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
