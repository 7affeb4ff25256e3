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
