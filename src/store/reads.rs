//! Test builds only: how many times this thread read a whole session's entries
//! ([`Chart::entries`](super::Chart::entries)) or a patient's
//! ([`Chart::entries_of_patient`](super::Chart::entries_of_patient)), so that a test can
//! hold a screen to the reads it needs (src/tui/appended_tests.rs).

use std::cell::Cell;

thread_local! {
    static SESSION_READS: Cell<u32> = const { Cell::new(0) };
    static PATIENT_READS: Cell<u32> = const { Cell::new(0) };
}

pub(super) fn count_session_read() {
    SESSION_READS.with(|n| n.set(n.get() + 1));
}

pub(super) fn count_patient_read() {
    PATIENT_READS.with(|n| n.set(n.get() + 1));
}

/// The reads counted on this thread so far: (whole sessions, patients).
pub(crate) fn so_far() -> (u32, u32) {
    (SESSION_READS.with(Cell::get), PATIENT_READS.with(Cell::get))
}
