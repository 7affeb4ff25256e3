//! Drives the real `kapchart` binary in a pseudo-terminal and reads its screen.
//!
//! A reader thread drains the PTY until EOF (so the child never blocks on a full buffer) and
//! feeds everything into a [`vt100::Parser`]; tests poll the parsed screen with
//! [`Tty::wait_for`] / [`Tty::wait_until`] instead of sleeping.
//!
//! The reader thread also answers cursor-position queries (`ESC [ 6 n`) from the parsed cursor,
//! as a real terminal would, so code that asks where the cursor is does not hang.

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system};

/// How often the screen and the child are polled.
const POLL: Duration = Duration::from_millis(20);
/// Lines of scrollback kept by the parser.
const SCROLLBACK: usize = 1000;

/// A key, sent as the bytes a typical xterm-like terminal sends for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Enter,
    Esc,
    Up,
    Down,
    Left,
    Right,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Home,
    End,
    PageUp,
    PageDown,
    CtrlC,
    CtrlZ,
    /// Ctrl plus an ASCII letter, e.g. `Ctrl('d')`.
    Ctrl(char),
    Char(char),
    /// F1 to F12.
    F(u8),
}

impl Key {
    /// The bytes the terminal sends for this key.
    pub fn bytes(self) -> Vec<u8> {
        let s: &str = match self {
            Key::Enter => "\r",
            Key::Esc => "\x1b",
            Key::Up => "\x1b[A",
            Key::Down => "\x1b[B",
            Key::Right => "\x1b[C",
            Key::Left => "\x1b[D",
            Key::Tab => "\t",
            Key::BackTab => "\x1b[Z",
            Key::Backspace => "\x7f",
            Key::Delete => "\x1b[3~",
            Key::Home => "\x1b[H",
            Key::End => "\x1b[F",
            Key::PageUp => "\x1b[5~",
            Key::PageDown => "\x1b[6~",
            Key::CtrlC => "\x03",
            Key::CtrlZ => "\x1a",
            Key::Ctrl(c) => {
                assert!(
                    c.is_ascii_alphabetic(),
                    "Key::Ctrl takes a letter, got {c:?}"
                );
                return vec![(c.to_ascii_lowercase() as u8) - b'a' + 1];
            }
            Key::Char(c) => return c.to_string().into_bytes(),
            Key::F(n) => match n {
                1 => "\x1bOP",
                2 => "\x1bOQ",
                3 => "\x1bOR",
                4 => "\x1bOS",
                5 => "\x1b[15~",
                6 => "\x1b[17~",
                7 => "\x1b[18~",
                8 => "\x1b[19~",
                9 => "\x1b[20~",
                10 => "\x1b[21~",
                11 => "\x1b[23~",
                12 => "\x1b[24~",
                _ => panic!("no function key F{n}"),
            },
        };
        s.as_bytes().to_vec()
    }
}

/// State shared with the reader thread.
struct Shared {
    parser: vt100::Parser,
    /// Everything the child wrote, for diagnosing failures.
    transcript: Vec<u8>,
    /// The reader saw EOF (or a read error): the child and every holder of the PTY are gone.
    eof: bool,
}

/// A child process in a pseudo-terminal, with its screen parsed by vt100.
pub struct Tty {
    shared: Arc<Mutex<Shared>>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    master: Box<dyn MasterPty + Send>,
    child: Box<dyn Child + Send + Sync>,
    reader: Option<JoinHandle<()>>,
    exit: Option<ExitStatus>,
    program: String,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn nz(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).expect("terminal size must be non-zero")
}

fn size(cols: u16, rows: u16) -> PtySize {
    PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

/// Cursor position report request (DSR 6).
const DSR_CPR: &[u8] = b"\x1b[6n";

impl Tty {
    /// Spawns `cmd`'s program with its args, current dir and environment in a `cols` x `rows`
    /// PTY. As with `Command::env_clear`, the child gets only the variables set on `cmd`
    /// (so add `TERM` to `cmd` if a test needs it).
    pub fn spawn(cmd: &std::process::Command, cols: u16, rows: u16) -> Tty {
        let program = cmd.get_program().to_string_lossy().into_owned();
        let mut builder = CommandBuilder::new(cmd.get_program());
        builder.args(cmd.get_args());
        builder.env_clear();
        for (key, value) in cmd.get_envs() {
            if let Some(value) = value {
                builder.env(key, value);
            }
        }
        if let Some(dir) = cmd.get_current_dir() {
            builder.cwd(dir);
        }

        let pair = native_pty_system()
            .openpty(size(cols, rows))
            .expect("open a pty");
        let child = pair
            .slave
            .spawn_command(builder)
            .unwrap_or_else(|e| panic!("spawn {program} in a pty: {e}"));
        // Only the child holds the slave now, so the reader sees EOF when it exits.
        drop(pair.slave);
        let master = pair.master;
        let mut reader = master.try_clone_reader().expect("pty reader");
        let writer: Arc<Mutex<Box<dyn Write + Send>>> =
            Arc::new(Mutex::new(master.take_writer().expect("pty writer")));

        let shared = Arc::new(Mutex::new(Shared {
            parser: vt100::Parser::new(nz(rows), nz(cols), SCROLLBACK),
            transcript: Vec::new(),
            eof: false,
        }));
        let thread_shared = Arc::clone(&shared);
        let thread_writer = Arc::clone(&writer);
        let reader = std::thread::Builder::new()
            .name("pty-reader".into())
            .spawn(move || {
                let mut buf = [0u8; 8192];
                // The tail of the previous chunk, to find queries split across reads.
                let mut carry: Vec<u8> = Vec::new();
                loop {
                    let n = match reader.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let chunk = &buf[..n];
                    let mut replies = Vec::new();
                    {
                        let mut s = lock(&thread_shared);
                        s.transcript.extend_from_slice(chunk);
                        carry.extend_from_slice(chunk);
                        let mut queries = 0;
                        let mut scanned = carry.len().saturating_sub(DSR_CPR.len() - 1);
                        let mut i = 0;
                        while i + DSR_CPR.len() <= carry.len() {
                            if &carry[i..i + DSR_CPR.len()] == DSR_CPR {
                                queries += 1;
                                i += DSR_CPR.len();
                                scanned = scanned.max(i);
                            } else {
                                i += 1;
                            }
                        }
                        // Keep only a tail that may begin a query split across reads.
                        carry.drain(..scanned);
                        s.parser.process(chunk);
                        let (row, col) = s.parser.screen().cursor_position();
                        for _ in 0..queries {
                            replies.extend(format!("\x1b[{};{}R", row + 1, col + 1).bytes());
                        }
                    }
                    if !replies.is_empty() {
                        let mut w = lock(&thread_writer);
                        let _ = w.write_all(&replies);
                        let _ = w.flush();
                    }
                }
                lock(&thread_shared).eof = true;
            })
            .expect("spawn pty reader thread");

        Tty {
            shared,
            writer,
            master,
            child,
            reader: Some(reader),
            exit: None,
            program,
        }
    }

    /// Writes raw bytes to the terminal, as if typed or pasted.
    pub fn send(&mut self, text: &str) {
        self.send_bytes(text.as_bytes());
    }

    /// Writes raw bytes to the terminal.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        let mut w = lock(&self.writer);
        w.write_all(bytes).expect("write to pty");
        w.flush().expect("flush pty");
    }

    /// Presses `key`. A lone [`Key::Esc`] followed at once by more input may be read as Alt+key:
    /// wait for the screen to change between them.
    pub fn key(&mut self, key: Key) {
        self.send_bytes(&key.bytes());
    }

    /// The current screen as text: rows joined by `\n`, trailing blanks trimmed.
    pub fn screen(&self) -> String {
        lock(&self.shared).parser.screen().contents()
    }

    /// Everything the child has written so far, escape sequences included.
    pub fn transcript(&self) -> Vec<u8> {
        lock(&self.shared).transcript.clone()
    }

    /// Polls until `needle` is on screen; returns that screen. Panics after `timeout`, printing
    /// the last screen.
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> String {
        self.wait_until_described(timeout, &format!("{needle:?} on screen"), |s| {
            s.contains(needle)
        })
    }

    /// Polls until every one of `needles` is on one screen; returns that screen. A frame
    /// reaches the terminal in pieces: a test that waits for one thing and then asserts
    /// another on the same screen can look at half a frame, so it waits for all of them.
    /// Panics after `timeout`, printing the last screen.
    pub fn wait_for_all(&self, needles: &[&str], timeout: Duration) -> String {
        self.wait_until_described(timeout, &format!("{needles:?} on one screen"), |s| {
            needles.iter().all(|n| s.contains(n))
        })
    }

    /// Polls until `pred` holds for the screen; returns that screen. Panics after `timeout`,
    /// printing the last screen.
    pub fn wait_until(&self, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        self.wait_until_described(timeout, "the condition", pred)
    }

    fn wait_until_described(
        &self,
        timeout: Duration,
        what: &str,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let (screen, eof) = {
                let s = lock(&self.shared);
                (s.parser.screen().contents(), s.eof)
            };
            if pred(&screen) {
                return screen;
            }
            // After EOF the screen can no longer change.
            if eof || Instant::now() >= deadline {
                panic!(
                    "{}: waited {timeout:?} for {what}{}; last screen:\n{}\n{}\n{}",
                    self.program,
                    if eof {
                        " but the child closed the terminal"
                    } else {
                        ""
                    },
                    "-".repeat(40),
                    screen,
                    "-".repeat(40),
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Resizes the PTY (the child gets SIGWINCH) and the parser.
    pub fn resize(&mut self, cols: u16, rows: u16) {
        // Parser first, so output drawn for the new size lands on a screen of that size.
        lock(&self.shared).parser.set_size(nz(rows), nz(cols));
        self.master.resize(size(cols, rows)).expect("resize pty");
    }

    /// Waits for the child to exit and for its output to be drained, so the screen is final.
    /// Panics after `timeout`, printing the last screen.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.try_status() {
                break status;
            }
            if Instant::now() >= deadline {
                panic!(
                    "{}: did not exit within {timeout:?}; last screen:\n{}",
                    self.program,
                    self.screen()
                );
            }
            std::thread::sleep(POLL);
        };
        while !lock(&self.shared).eof {
            if Instant::now() >= deadline {
                panic!(
                    "{}: exited ({status}) but its terminal output did not end within \
                     {timeout:?}; last screen:\n{}",
                    self.program,
                    self.screen()
                );
            }
            std::thread::sleep(POLL);
        }
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        status
    }

    /// The exit status, if the child has exited (reaping it).
    fn try_status(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().expect("poll child");
        }
        self.exit.clone()
    }

    /// Kills the child with SIGKILL and reaps it.
    pub fn kill(&mut self) {
        if self.try_status().is_some() {
            return;
        }
        self.signal(9);
        if self.try_status().is_none() {
            // The `kill` command may be missing; SIGHUP then SIGKILL from portable-pty.
            let _ = self.child.kill();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.try_status().is_none() && Instant::now() < deadline {
            std::thread::sleep(POLL);
        }
    }

    /// The child's process id, while known.
    pub fn pid(&self) -> Option<u32> {
        self.child.process_id()
    }

    /// Sends signal number `sig` (e.g. 15 for SIGTERM) with the `kill` command.
    pub fn signal(&self, sig: i32) {
        let pid = self.pid().expect("child pid");
        let status = std::process::Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(pid.to_string())
            .status();
        match status {
            Ok(s) if s.success() => {}
            // The child may have exited in the meantime; that is not the harness's concern.
            Ok(s) => eprintln!("kill -{sig} {pid}: {s}"),
            Err(e) => eprintln!("kill -{sig} {pid}: {e}"),
        }
    }

    /// Whether the terminal is back to normal: not on the alternate screen, cursor visible.
    pub fn terminal_restored(&self) -> bool {
        let s = lock(&self.shared);
        let screen = s.parser.screen();
        !screen.alternate_screen() && !screen.hide_cursor()
    }

    /// Whether the child is on the alternate screen.
    pub fn alternate_screen(&self) -> bool {
        lock(&self.shared).parser.screen().alternate_screen()
    }

    /// Whether the child has hidden the cursor.
    pub fn cursor_hidden(&self) -> bool {
        lock(&self.shared).parser.screen().hide_cursor()
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        // Never leave a child behind, even when a test panics. The reader thread ends by
        // itself once the child is gone; it is not joined, so a stray holder of the PTY
        // cannot hang the test.
        self.kill();
    }
}
