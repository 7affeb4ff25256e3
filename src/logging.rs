//! kapchart's log: what the program did, never what was charted. The only way to log takes
//! a fixed event name and numbers, so patient data cannot reach the log by accident.

use std::io::Write;
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt;

/// Appends one line, `UTC-time event key=value ...`, to the log file. Failing to log never
/// stops charting.
pub fn event(log: &Path, name: &'static str, fields: &[(&'static str, i64)]) {
    let mut line = format!(
        "{} {name}",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ")
    );
    for (key, value) in fields {
        line.push_str(&format!(" {key}={value}"));
    }
    line.push('\n');
    if let Some(dir) = log.parent() {
        let _ = crate::store::create_private_dirs(dir);
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    options.mode(0o600);
    if let Ok(mut f) = options.open(log) {
        let _ = f.write_all(line.as_bytes());
    }
}
