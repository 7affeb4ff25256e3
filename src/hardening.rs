//! Process hardening at start: a crash must not write the process's memory (the passphrase,
//! decrypted pages, patient text) to a core file (security.md: `setrlimit(RLIMIT_CORE, 0)` and
//! `prctl(PR_SET_DUMPABLE, 0)` on Linux).

/// Turns core dumps off for this process. On other systems it does nothing.
pub fn disable_core_dumps() -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{
            DumpableBehavior, Resource, Rlimit, set_dumpable_behavior, setrlimit,
        };
        setrlimit(
            Resource::Core,
            Rlimit {
                current: Some(0),
                maximum: Some(0),
            },
        )?;
        // Also keeps other processes of the same user from attaching a debugger or reading
        // /proc/PID/mem.
        set_dumpable_behavior(DumpableBehavior::NotDumpable)?;
    }
    Ok(())
}

/// How long a wrong passphrase at the chart screen's prompt waits before it may be tried
/// again: nothing the first time, then 1 s doubling up to 30 s, so that guessing at an
/// unattended laptop is slow while a typo costs little.
pub fn wrong_passphrase_wait(wrong_so_far: u32) -> std::time::Duration {
    let secs = match wrong_so_far {
        0 | 1 => 0,
        n => 1u64 << (n - 2).min(5),
    };
    std::time::Duration::from_secs(secs.min(30))
}

#[cfg(test)]
mod tests {
    use super::wrong_passphrase_wait;

    #[test]
    fn each_wrong_passphrase_waits_longer_up_to_half_a_minute() {
        let waits: Vec<u64> = (1..=9)
            .map(|n| wrong_passphrase_wait(n).as_secs())
            .collect();
        assert_eq!(waits, [0, 1, 2, 4, 8, 16, 30, 30, 30]);
    }
}
