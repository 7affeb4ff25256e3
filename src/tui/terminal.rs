//! The terminal, set up and restored in one place: raw mode and the alternate screen on the
//! way in; restored on the way out, on panic, and around Ctrl-Z. SIGTERM and SIGHUP become a
//! clean quit.

use ratatui::Terminal;
use ratatui::crossterm::cursor::Show;
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::prelude::CrosstermBackend;
use std::io::{self, Stdout};
use std::sync::Arc;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

pub type Tui = Terminal<CrosstermBackend<Stdout>>;

static PANIC_HOOK: Once = Once::new();

/// Enters raw mode and the alternate screen. The panic hook that restores the terminal is
/// installed once per process.
pub fn enter() -> io::Result<Tui> {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
    enable_raw_mode()?;
    if let Err(e) = execute!(io::stdout(), EnterAlternateScreen) {
        restore();
        return Err(e);
    }
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    terminal.clear()?;
    Ok(terminal)
}

/// Leaves the alternate screen and raw mode, and shows the cursor. Safe to call twice.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(io::stdout(), LeaveAlternateScreen, Show);
}

/// Hands the terminal back to the shell (Ctrl-Z) and takes it again on `fg`.
pub fn suspend(terminal: &mut Tui) -> io::Result<()> {
    restore();
    #[cfg(unix)]
    signal_hook::low_level::raise(signal_hook::consts::SIGTSTP)?;
    // Execution continues here after SIGCONT.
    *terminal = enter()?;
    Ok(())
}

/// How long the event loop has to quit after SIGTERM or SIGHUP before the process leaves
/// on its own. When the terminal itself went away, reading it can spin without returning,
/// so the loop may never see the flag; a note draft is saved within 2 s anyway.
const GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Set when SIGTERM or SIGHUP arrives, or the terminal goes away; the event loop then quits
/// cleanly. A watchdog restores the terminal and ends the process if the loop has not quit
/// within `GRACE`.
pub fn termination_flag() -> io::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    #[cfg(unix)]
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
        signal_hook::flag::register(signal, flag.clone())?;
    }
    let watched = flag.clone();
    std::thread::Builder::new()
        .name("kapchart-signals".into())
        .spawn(move || {
            // A terminal whose window closed without a signal to kapchart still answers
            // reads with end-of-file, forever: watch for it going away.
            let mut gone = false;
            while !watched.load(Ordering::Relaxed) && !gone {
                std::thread::sleep(std::time::Duration::from_millis(100));
                gone = terminal_gone();
            }
            watched.store(true, Ordering::Relaxed);
            std::thread::sleep(GRACE);
            // With its terminal gone there is nothing to restore (and writing to it could
            // wait on a lock the stuck reader holds).
            if !terminal_gone() {
                restore();
            }
            std::process::exit(0);
        })?;
    Ok(flag)
}

pub fn terminated(flag: &AtomicBool) -> bool {
    flag.load(Ordering::Relaxed)
}

/// Whether the terminal kapchart runs in has gone: stdout no longer a terminal, or (Linux)
/// the pseudo-terminal behind stdin deleted because its window closed.
fn terminal_gone() -> bool {
    use std::io::IsTerminal;
    if !io::stdout().is_terminal() {
        return true;
    }
    std::fs::read_link("/proc/self/fd/0")
        .map(|target| target.to_string_lossy().ends_with(" (deleted)"))
        .unwrap_or(false)
}
