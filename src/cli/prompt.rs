//! Passphrase prompts at the terminal that give up after `[lock] after_idle`, as the chart
//! screen locks after it (HIPAA 45 CFR 164.312(a)(2)(iii), automatic logoff): a prompt left
//! waiting on an unattended terminal ends with a message, and the command writes nothing.
//! rpassword cannot time out, so this reads the terminal itself: echo off, `poll` with the
//! time left, the line read once Enter is pressed, the terminal's settings put back.

use super::Failure;
use std::sync::OnceLock;
use std::time::Duration;
use zeroize::Zeroizing;

/// The configured wait, set once the configuration is read (`run`).
static WAIT: OnceLock<Duration> = OnceLock::new();

pub(crate) fn set_wait(wait: Duration) {
    let _ = WAIT.set(wait);
}

fn wait() -> Duration {
    WAIT.get().copied().unwrap_or(crate::config::LONGEST_IDLE)
}

/// Asks for a secret without echo; gives up after the configured wait.
pub(crate) fn hidden(prompt: &str) -> Result<Zeroizing<String>, Failure> {
    let wait = wait();
    match read_hidden(prompt, wait)? {
        Some(answer) => Ok(answer),
        None => Err(Failure::runtime(format!(
            "no answer within {} ([lock] after_idle in config.toml); nothing was done",
            said(wait)
        ))),
    }
}

/// "2 s", "5 min", "90 s".
fn said(wait: Duration) -> String {
    let s = wait.as_secs();
    if s >= 60 && s % 60 == 0 {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}

#[cfg(unix)]
fn read_hidden(prompt: &str, wait: Duration) -> Result<Option<Zeroizing<String>>, Failure> {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    use std::io::{Read, Write};

    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")?;
    let saved = tcgetattr(&tty).map_err(std::io::Error::from)?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    quiet.local_modes.insert(LocalModes::ECHONL);
    tcsetattr(&tty, OptionalActions::Flush, &quiet).map_err(std::io::Error::from)?;
    // Whatever happens below, the terminal echoes again afterwards.
    struct Restore<'a>(&'a std::fs::File, rustix::termios::Termios);
    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            let _ = tcsetattr(self.0, OptionalActions::Flush, &self.1);
        }
    }
    let restore = Restore(&tty, saved);
    let mut io: &std::fs::File = &tty;
    write!(io, "{prompt}")?;
    io.flush()?;
    let deadline = std::time::Instant::now() + wait;
    let mut line = Zeroizing::new(Vec::new());
    let mut buf = Zeroizing::new([0u8; 256]);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            drop(restore);
            writeln!(io)?;
            return Ok(None);
        }
        let timeout = Timespec {
            tv_sec: left.as_secs().try_into().unwrap_or(i64::MAX),
            tv_nsec: left.subsec_nanos().into(),
        };
        let mut fds = [PollFd::new(&tty, PollFlags::IN)];
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(std::io::Error::from(e).into()),
        }
        let n = io.read(&mut buf[..])?;
        if n == 0 {
            // The terminal closed: no answer.
            return Ok(None);
        }
        line.extend_from_slice(&buf[..n]);
        if let Some(end) = line.iter().position(|b| *b == b'\n') {
            line.truncate(end);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let text = String::from_utf8(std::mem::take(&mut *line)).map_err(|e| {
                let mut bytes = e.into_bytes();
                zeroize::Zeroize::zeroize(&mut bytes);
                Failure::runtime("the passphrase is not valid UTF-8 text")
            })?;
            return Ok(Some(Zeroizing::new(text)));
        }
    }
}

#[cfg(not(unix))]
fn read_hidden(prompt: &str, _wait: Duration) -> Result<Option<Zeroizing<String>>, Failure> {
    Ok(Some(Zeroizing::new(rpassword::prompt_password(prompt)?)))
}
