//! Passphrase prompts at the terminal that give up after `[lock] after_idle`, as the chart
//! screen locks after it (HIPAA 45 CFR 164.312(a)(2)(iii), automatic logoff): a prompt left
//! waiting on an unattended terminal ends with a message, and the command writes nothing.
//! rpassword cannot time out, so this reads the terminal itself: echo off, `poll` with the
//! time left, the line read once Enter is pressed, the terminal's settings put back.
//! Every passphrase the command line asks for is asked through `passphrase`, so every one
//! of those prompts gives up after the same wait.

use super::Failure;
use crate::domain::passphrase::{check_new, guessable_words};
use std::io::IsTerminal;
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

/// What a passphrase prompt says: where scripts give the passphrase, what is asked at the
/// terminal, and its refusals in the words of what was left as it was.
pub(crate) struct Ask<'a> {
    /// The environment variable that gives it to scripts (an empty value counts as none).
    pub(crate) env: &'static str,
    /// Said when the variable is not set and there is no terminal to ask at.
    pub(crate) no_terminal: &'a str,
    /// The prompt.
    pub(crate) prompt: &'a str,
    /// The refusal of an empty answer; `None` leaves it to the passphrase's strength check.
    pub(crate) empty: Option<&'a str>,
    /// Asked a second time to confirm: the prompt, and the refusal when the two differ.
    pub(crate) again: Option<(&'a str, &'a str)>,
}

/// A passphrase: from `ask.env`, or asked without echo at the terminal (twice when
/// `ask.again` says so), each prompt giving up after `[lock] after_idle`. Wiped from memory
/// when dropped (the copy in the environment is the caller's to keep away).
pub(crate) fn passphrase(ask: &Ask) -> Result<Zeroizing<String>, Failure> {
    if let Some(p) = std::env::var(ask.env)
        .ok()
        .map(Zeroizing::new)
        .filter(|p| !p.is_empty())
    {
        return Ok(p);
    }
    if !std::io::stderr().is_terminal() {
        return Err(Failure::runtime(ask.no_terminal));
    }
    let first = hidden(ask.prompt)?;
    if let Some(refusal) = ask.empty
        && first.is_empty()
    {
        return Err(Failure::runtime(refusal));
    }
    if let Some((prompt, differ)) = ask.again {
        let second = hidden(prompt)?;
        if second != first {
            return Err(Failure::runtime(differ));
        }
    }
    Ok(first)
}

/// The signed-in clinician's passphrase: `KAPCHART_PASSPHRASE`, or asked (twice when a new
/// chart is created with it).
pub(crate) fn chart_passphrase(confirm: bool) -> Result<Zeroizing<String>, Failure> {
    passphrase(&Ask {
        env: "KAPCHART_PASSPHRASE",
        no_terminal: "no passphrase: set KAPCHART_PASSPHRASE, or run kapchart in a terminal to be asked",
        prompt: "Chart passphrase: ",
        empty: Some("the passphrase must not be empty"),
        again: confirm.then_some((
            "Same passphrase again: ",
            "the two passphrases differ; nothing was created",
        )),
    })
}

/// Refuses a weak new passphrase with the reason (the clinic's `min_passphrase_score`).
/// `outcome` says what was left as it was ("nothing was changed").
pub(crate) fn check_strength(
    config: &crate::config::Config,
    new: &str,
    clinician: &str,
    outcome: &str,
) -> Result<(), Failure> {
    let words = guessable_words(clinician, &config.chart.clinic);
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    check_new(new, config.chart.min_passphrase_score, &words)
        .map_err(|why| Failure::runtime(format!("{why}; {outcome}")))
}
