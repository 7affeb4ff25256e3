//! The command line's side of audited reads: a read of the record is written to the trail,
//! and when its row could not be written, a warning says so.

use crate::app::Chart;
use crate::app::access::{self, Access};

/// Records a read of the record (see `app::access`); when its row could not be written,
/// says so on stderr and goes on: the record is shown all the same.
pub(crate) fn record_access(chart: &mut Chart, access: Access) {
    if let Some(why) = access::record(chart, &access, crate::clock::now()).warning() {
        eprintln!("kapchart: warning: {why}");
    }
}
