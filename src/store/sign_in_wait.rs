//! Wrong sign-ins at the command line, counted beside the chart (`NAME.sign-in`, 0600) so
//! that they add up across processes: each `kapchart` command is a new process, and a
//! guesser running one command per guess must wait as long as one typing at the chart
//! screen (`domain::passphrase::wrong_passphrase_wait`: nothing after the first wrong try, then 1 s
//! doubling to 30 s). The count says nothing about which of the clinician and the passphrase
//! was wrong, and goes when a sign-in succeeds or an hour after the last wrong one.

use super::files;
use std::fs::OpenOptions;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// After this long without a wrong sign-in the count starts again.
const FORGET_AFTER_MS: i64 = 60 * 60 * 1000;

fn path_of(chart: &Path) -> PathBuf {
    files::sibling(chart, ".sign-in")
}

/// The wrong sign-ins in a row so far, and when the last one was (UTC milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WrongSignIns {
    pub count: u32,
    pub last_ms: i64,
}

impl WrongSignIns {
    /// How long the next try must still wait at `now_ms`.
    pub fn wait_at(&self, now_ms: i64) -> Duration {
        let wait = crate::domain::passphrase::wrong_passphrase_wait(self.count);
        let until = self
            .last_ms
            .saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
        Duration::from_millis(u64::try_from(until.saturating_sub(now_ms)).unwrap_or(0))
    }
}

fn parse(text: &str, now_ms: i64) -> WrongSignIns {
    let mut words = text.split_whitespace();
    let count = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
    let last_ms = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
    if now_ms.saturating_sub(last_ms) > FORGET_AFTER_MS {
        return WrongSignIns::default();
    }
    WrongSignIns { count, last_ms }
}

/// The wrong sign-ins counted beside `chart` (none when the file is missing or unreadable).
pub fn wrong_sign_ins(chart: &Path, now_ms: i64) -> WrongSignIns {
    std::fs::read_to_string(path_of(chart))
        .map(|t| parse(&t, now_ms))
        .unwrap_or_default()
}

/// Counts one more wrong sign-in at `now_ms`; the new count. Best effort: a chart on
/// read-only media keeps no count (nothing can be written there, the chart included).
pub fn count_wrong_sign_in(chart: &Path, now_ms: i64) -> u32 {
    let path = path_of(chart);
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let Ok(mut file) = options.open(&path) else {
        return 0;
    };
    // One process at a time reads and writes the count.
    let _ = rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive);
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    let before = parse(&text, now_ms);
    let count = before.count.saturating_add(1);
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = writeln!(file, "{count} {now_ms}");
    let _ = file.sync_all();
    count
}

/// A sign-in succeeded: the count goes.
pub fn clear_wrong_sign_ins(chart: &Path) {
    let _ = std::fs::remove_file(path_of(chart));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_adds_up_across_calls_and_each_try_waits_longer() {
        let dir = tempfile::tempdir().unwrap();
        let chart = dir.path().join("chart.db");
        assert_eq!(wrong_sign_ins(&chart, 1_000), WrongSignIns::default());
        for n in 1..=4 {
            assert_eq!(count_wrong_sign_in(&chart, 1_000), n);
        }
        let seen = wrong_sign_ins(&chart, 1_000);
        assert_eq!(seen.count, 4);
        assert_eq!(seen.wait_at(1_000), Duration::from_secs(4));
        assert_eq!(seen.wait_at(3_000), Duration::from_secs(2));
        assert_eq!(seen.wait_at(9_000), Duration::ZERO);
        // Forgotten an hour after the last wrong try.
        assert_eq!(wrong_sign_ins(&chart, 1_000 + FORGET_AFTER_MS + 1).count, 0);
        clear_wrong_sign_ins(&chart);
        assert_eq!(wrong_sign_ins(&chart, 1_000).count, 0);
    }
}
