//! Pause points, in test builds only: a test that must act while this process is inside a
//! step (a restore holding the chart's lock) stops it there instead of guessing how long the
//! step takes. `KAPCHART_TEST_PAUSE=NAME:DIR` makes the point called NAME create
//! `DIR/NAME.paused` and wait for `DIR/NAME.go` (a minute at most, then it goes on). Release
//! builds have no pause points.

/// Stops here while a test asks for it (see the module).
#[cfg(debug_assertions)]
pub(crate) fn pause_point(name: &str) {
    use std::time::{Duration, Instant};
    let Ok(asked) = std::env::var("KAPCHART_TEST_PAUSE") else {
        return;
    };
    let Some((point, dir)) = asked.split_once(':') else {
        return;
    };
    if point != name {
        return;
    }
    let dir = std::path::Path::new(dir);
    if std::fs::write(dir.join(format!("{name}.paused")), b"").is_err() {
        return;
    }
    let go = dir.join(format!("{name}.go"));
    let until = Instant::now() + Duration::from_secs(60);
    while !go.exists() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(not(debug_assertions))]
pub(crate) fn pause_point(_name: &str) {}
