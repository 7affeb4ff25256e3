//! Keys to actions, per context. Defaults live here; a clinic or a user overrides any of
//! them in the `[keys]` table of config.toml (`[keys.timeline] amend = "m"`). Help and the
//! hint line are generated from this table, so they always tell the truth.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::fmt;

pub use crate::keys::{Command, Context, KeyOverrides, OneOrMany};

/// A key as written in config.toml: "a", "?", "enter", "ctrl-d", "f1", "shift-tab".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub code: KeyName,
    pub ctrl: bool,
    pub alt: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyName {
    Char(char),
    F(u8),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
}

impl Key {
    pub fn parse(text: &str) -> Result<Key, String> {
        let lower = text.trim().to_ascii_lowercase();
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = lower.as_str();
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "enter" | "return" => KeyName::Enter,
            "esc" | "escape" => KeyName::Esc,
            "tab" => KeyName::Tab,
            "shift-tab" | "backtab" => KeyName::BackTab,
            "backspace" => KeyName::Backspace,
            "delete" | "del" => KeyName::Delete,
            "up" => KeyName::Up,
            "down" => KeyName::Down,
            "left" => KeyName::Left,
            "right" => KeyName::Right,
            "home" => KeyName::Home,
            "end" => KeyName::End,
            "pageup" => KeyName::PageUp,
            "pagedown" => KeyName::PageDown,
            "space" => KeyName::Char(' '),
            f if f.len() > 1 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                KeyName::F(f[1..].parse().unwrap_or(1))
            }
            _ => {
                // A single character keeps its case: "A" is shift-a.
                // Only the modifiers' own dashes may precede it ("ctrl--" is ctrl and '-').
                let original = text.trim();
                let prefix = original.len() - rest.len();
                let mut chars = original[prefix..].chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => KeyName::Char(if ctrl { c.to_ascii_lowercase() } else { c }),
                    _ => {
                        return Err(format!(
                            "unknown key '{text}'; expected e.g. \"a\", \"?\", \"enter\", \"ctrl-d\", \"f1\""
                        ));
                    }
                }
            }
        };
        Ok(Key { code, ctrl, alt })
    }

    pub fn from_event(e: &KeyEvent) -> Option<Key> {
        let ctrl = e.modifiers.contains(KeyModifiers::CONTROL);
        let alt = e.modifiers.contains(KeyModifiers::ALT);
        let code = match e.code {
            KeyCode::Char(c) => KeyName::Char(if ctrl { c.to_ascii_lowercase() } else { c }),
            KeyCode::F(n) => KeyName::F(n),
            KeyCode::Enter => KeyName::Enter,
            KeyCode::Esc => KeyName::Esc,
            KeyCode::Tab => KeyName::Tab,
            KeyCode::BackTab => KeyName::BackTab,
            KeyCode::Backspace => KeyName::Backspace,
            KeyCode::Delete => KeyName::Delete,
            KeyCode::Up => KeyName::Up,
            KeyCode::Down => KeyName::Down,
            KeyCode::Left => KeyName::Left,
            KeyCode::Right => KeyName::Right,
            KeyCode::Home => KeyName::Home,
            KeyCode::End => KeyName::End,
            KeyCode::PageUp => KeyName::PageUp,
            KeyCode::PageDown => KeyName::PageDown,
            _ => return None,
        };
        Some(Key { code, ctrl, alt })
    }

    /// A plain printable character (no ctrl/alt): text in the entry bar.
    pub fn printable(&self) -> Option<char> {
        match self.code {
            KeyName::Char(c) if !self.ctrl && !self.alt => Some(c),
            _ => None,
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        if self.alt {
            f.write_str("Alt-")?;
        }
        match self.code {
            KeyName::Char(' ') => f.write_str("Space"),
            KeyName::Char(c) if self.ctrl => write!(f, "{}", c.to_ascii_uppercase()),
            KeyName::Char(c) => write!(f, "{c}"),
            KeyName::F(n) => write!(f, "F{n}"),
            KeyName::Enter => f.write_str("Enter"),
            KeyName::Esc => f.write_str("Esc"),
            KeyName::Tab => f.write_str("Tab"),
            KeyName::BackTab => f.write_str("Shift-Tab"),
            KeyName::Backspace => f.write_str("Backspace"),
            KeyName::Delete => f.write_str("Del"),
            KeyName::Up => f.write_str("↑"),
            KeyName::Down => f.write_str("↓"),
            KeyName::Left => f.write_str("←"),
            KeyName::Right => f.write_str("→"),
            KeyName::Home => f.write_str("Home"),
            KeyName::End => f.write_str("End"),
            KeyName::PageUp => f.write_str("PgUp"),
            KeyName::PageDown => f.write_str("PgDn"),
        }
    }
}

/// Every binding: (context, key) → command, kept in definition order for help.
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    bindings: Vec<(Context, Key, Command)>,
}

const DEFAULTS: &[(Context, &str, Command)] = &[
    (Context::Global, "ctrl-c", Command::Quit),
    (Context::Global, "f1", Command::Help),
    (Context::Global, "ctrl-z", Command::Suspend),
    (Context::Global, "ctrl-l", Command::Lock),
    (Context::Home, "q", Command::Quit),
    (Context::Home, "?", Command::Help),
    (Context::Home, "up", Command::Up),
    (Context::Home, "k", Command::Up),
    (Context::Home, "down", Command::Down),
    (Context::Home, "j", Command::Down),
    (Context::Home, "pageup", Command::PageUp),
    (Context::Home, "pagedown", Command::PageDown),
    (Context::Home, "home", Command::ListStart),
    (Context::Home, "end", Command::ListEnd),
    (Context::Home, "enter", Command::Open),
    (Context::Home, "n", Command::NewSession),
    (Context::Home, "/", Command::FocusFilter),
    (Context::Home, "tab", Command::NextField),
    (Context::Home, "i", Command::Note),
    (Context::Home, "p", Command::Patient),
    (Context::Home, "a", Command::AddPatient),
    (Context::Home, "c", Command::StartCourse),
    // F3: a key no terminal sends for text editing (Ctrl-H arrives as Backspace).
    (Context::Home, "f3", Command::HandOver),
    (Context::Home, "s", Command::Search),
    // `s` is the search screen's: the stock takes its capital.
    (Context::Home, "S", Command::Stock),
    (Context::EntryBar, "enter", Command::Commit),
    (Context::EntryBar, "esc", Command::Leave),
    (Context::EntryBar, "up", Command::RecallOlder),
    (Context::EntryBar, "down", Command::RecallNewer),
    (Context::EntryBar, "left", Command::CursorLeft),
    (Context::EntryBar, "right", Command::CursorRight),
    (Context::EntryBar, "home", Command::CursorHome),
    (Context::EntryBar, "end", Command::CursorEnd),
    (Context::EntryBar, "backspace", Command::DeleteBack),
    (Context::EntryBar, "delete", Command::DeleteForward),
    (Context::EntryBar, "ctrl-u", Command::ClearLine),
    (Context::EntryBar, "ctrl-d", Command::Discharge),
    (Context::EntryBar, "?", Command::Help),
    (Context::EntryBar, "ctrl-n", Command::Note),
    (Context::EntryBar, "f2", Command::Questionnaire),
    (Context::EntryBar, "ctrl-a", Command::Acknowledge),
    (Context::EntryBar, "f3", Command::HandOver),
    (Context::Timeline, "up", Command::Up),
    (Context::Timeline, "k", Command::Up),
    (Context::Timeline, "down", Command::Down),
    (Context::Timeline, "j", Command::Down),
    (Context::Timeline, "enter", Command::FocusEntry),
    (Context::Timeline, "i", Command::FocusEntry),
    (Context::Timeline, "a", Command::Amend),
    (Context::Timeline, "s", Command::Strike),
    (Context::Timeline, "d", Command::Discharge),
    (Context::Timeline, "c", Command::Acknowledge),
    (Context::Timeline, "?", Command::Help),
    (Context::Timeline, "n", Command::Note),
    (Context::Timeline, "m", Command::Questionnaire),
    (Context::Timeline, "w", Command::Witness),
    (Context::Timeline, "f3", Command::HandOver),
    (Context::Timeline, "/", Command::Find),
    (Context::Timeline, "q", Command::Home),
    (Context::Timeline, "esc", Command::Home),
    (Context::Panel, "tab", Command::NextField),
    (Context::Panel, "down", Command::NextField),
    (Context::Panel, "shift-tab", Command::PreviousField),
    (Context::Panel, "up", Command::PreviousField),
    (Context::Panel, "right", Command::Increase),
    (Context::Panel, "left", Command::Decrease),
    (Context::Panel, "enter", Command::Confirm),
    (Context::Panel, "ctrl-e", Command::EndSession),
    (Context::Panel, "esc", Command::Cancel),
    (Context::Panel, "backspace", Command::DeleteBack),
    (Context::Panel, "ctrl-u", Command::ClearLine),
    (Context::Editor, "esc", Command::Home),
    (Context::Editor, "ctrl-s", Command::Sign),
    (Context::Patient, "esc", Command::Home),
    (Context::Patient, "q", Command::Home),
    (Context::Patient, "?", Command::Help),
    (Context::SignedNote, "esc", Command::Home),
    (Context::SignedNote, "q", Command::Home),
    (Context::SignedNote, "ctrl-a", Command::Addendum),
    (Context::SignedNote, "a", Command::Addendum),
    (Context::SignedNote, "?", Command::Help),
    (Context::Lock, "enter", Command::Unlock),
    (Context::Lock, "up", Command::Up),
    (Context::Lock, "down", Command::Down),
    (Context::Lock, "backspace", Command::DeleteBack),
    (Context::Lock, "ctrl-u", Command::ClearLine),
    (Context::Search, "up", Command::Up),
    (Context::Search, "k", Command::Up),
    (Context::Search, "down", Command::Down),
    (Context::Search, "j", Command::Down),
    (Context::Search, "pageup", Command::PageUp),
    (Context::Search, "pagedown", Command::PageDown),
    (Context::Search, "enter", Command::Open),
    (Context::Search, "/", Command::Find),
    (Context::Search, "esc", Command::Home),
    (Context::Search, "q", Command::Home),
    (Context::Search, "?", Command::Help),
    (Context::Stock, "esc", Command::Home),
    (Context::Stock, "q", Command::Home),
    (Context::Stock, "?", Command::Help),
];

impl Default for Keymap {
    fn default() -> Self {
        Keymap {
            bindings: DEFAULTS
                .iter()
                .map(|(ctx, key, cmd)| (*ctx, Key::parse(key).expect("default keys parse"), *cmd))
                .collect(),
        }
    }
}

impl Keymap {
    /// The defaults with the user's overrides: an overridden command loses its default keys
    /// in that context and takes the given ones.
    pub fn with_overrides(overrides: &KeyOverrides) -> Result<Keymap, String> {
        let mut map = Keymap::default();
        for (ctx, commands) in overrides {
            for (cmd, keys) in commands {
                let keys = match keys {
                    OneOrMany::One(k) => vec![k.clone()],
                    OneOrMany::Many(ks) => ks.clone(),
                };
                let parsed = keys
                    .iter()
                    .map(|k| Key::parse(k).map_err(|e| format!("[keys.{}] {e}", ctx.key())))
                    .collect::<Result<Vec<_>, _>>()?;
                map.bindings.retain(|(c, _, m)| !(c == ctx && m == cmd));
                // A key given to a new command leaves its old one in this context.
                map.bindings
                    .retain(|(c, k, _)| !(c == ctx && parsed.contains(k)));
                map.bindings
                    .extend(parsed.into_iter().map(|k| (*ctx, k, *cmd)));
            }
        }
        Ok(map)
    }

    /// The command for `key` in `ctx`, falling back to the global keys.
    pub fn command(&self, ctx: Context, key: &Key) -> Option<Command> {
        let find = |c: Context| {
            self.bindings
                .iter()
                .find(|(bc, bk, _)| *bc == c && bk == key)
                .map(|(_, _, cmd)| *cmd)
        };
        find(ctx).or_else(|| find(Context::Global))
    }

    /// The keys bound to `cmd` in `ctx`, for messages like "press Ctrl-D".
    pub fn keys_for(&self, ctx: Context, cmd: Command) -> Vec<Key> {
        self.bindings
            .iter()
            .filter(|(c, _, m)| *c == ctx && *m == cmd)
            .map(|(_, k, _)| *k)
            .collect()
    }

    /// "Enter chart the line · Esc leave the bar · ..." for the bottom line.
    pub fn hints(&self, ctx: Context) -> Vec<(String, &'static str)> {
        let mut seen = Vec::new();
        let mut out = Vec::new();
        // The context's own keys first, then the global ones it does not shadow.
        let own = self.bindings.iter().filter(|(c, _, _)| *c == ctx);
        // Behind the lock only its own keys work: no global key is hinted there.
        let global = self
            .bindings
            .iter()
            .filter(|(c, _, _)| *c == Context::Global && ctx != Context::Lock);
        for (c, k, cmd) in own.chain(global) {
            // In the entry bar a printable key is text first; hint the key that always works.
            let text_key = ctx == Context::EntryBar && k.printable().is_some();
            if !cmd.is_hint() || seen.contains(cmd) || text_key {
                continue;
            }
            // Global quit/help show once, after the context's own keys.
            if *c == Context::Global && self.command(ctx, k) != Some(*cmd) {
                continue;
            }
            seen.push(*cmd);
            out.push((k.to_string(), cmd.describe()));
        }
        out
    }

    /// Every context with its keys, grouped per command, for the help screen.
    pub fn help(&self) -> Vec<(Context, Vec<(String, &'static str)>)> {
        Context::ALL
            .into_iter()
            .map(|ctx| {
                let mut rows: Vec<(Command, Vec<String>)> = Vec::new();
                for (_, k, cmd) in self.bindings.iter().filter(|(c, _, _)| *c == ctx) {
                    match rows.iter_mut().find(|(c, _)| c == cmd) {
                        Some((_, keys)) => keys.push(k.to_string()),
                        None => rows.push((*cmd, vec![k.to_string()])),
                    }
                }
                let rows = rows
                    .into_iter()
                    .map(|(cmd, keys)| (keys.join(" / "), cmd.describe()))
                    .collect();
                (ctx, rows)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Key {
        Key::parse(s).unwrap()
    }

    #[test]
    fn keys_parse_as_written_in_config() {
        assert_eq!(key("ctrl-d").to_string(), "Ctrl-D");
        assert_eq!(key("F1").to_string(), "F1");
        assert_eq!(key("?").to_string(), "?");
        assert_eq!(key("shift-tab").to_string(), "Shift-Tab");
        assert_eq!(key("A").to_string(), "A");
        assert!(Key::parse("hyper-x").unwrap_err().contains("unknown key"));
    }

    #[test]
    fn context_keys_win_and_global_keys_fall_through() {
        let map = Keymap::default();
        assert_eq!(map.command(Context::Home, &key("q")), Some(Command::Quit));
        assert_eq!(
            map.command(Context::Timeline, &key("q")),
            Some(Command::Home)
        );
        assert_eq!(
            map.command(Context::EntryBar, &key("q")),
            None,
            "q is text there"
        );
        assert_eq!(
            map.command(Context::EntryBar, &key("ctrl-c")),
            Some(Command::Quit)
        );
    }

    #[test]
    fn overrides_replace_the_default_key_and_free_the_old_one() {
        let toml = "[timeline]\namend = \"m\"\nstrike = [\"x\", \"a\"]\n";
        let overrides: KeyOverrides = toml::from_str(toml).unwrap();
        let map = Keymap::with_overrides(&overrides).unwrap();
        assert_eq!(
            map.command(Context::Timeline, &key("m")),
            Some(Command::Amend)
        );
        assert_eq!(
            map.command(Context::Timeline, &key("a")),
            Some(Command::Strike)
        );
        assert_eq!(map.command(Context::Timeline, &key("s")), None);
        let help = map.help();
        let timeline = &help
            .iter()
            .find(|(c, _)| *c == Context::Timeline)
            .unwrap()
            .1;
        assert!(timeline.contains(&("m".to_string(), "amend entry")));
    }

    #[test]
    fn a_bad_key_in_config_is_named() {
        let overrides: KeyOverrides = toml::from_str("[home]\nquit = \"ctrl-\"\n").unwrap();
        let err = Keymap::with_overrides(&overrides).unwrap_err();
        assert!(
            err.contains("[keys.home]") && err.contains("ctrl-"),
            "{err}"
        );
    }

    #[test]
    fn hints_come_from_the_bindings() {
        let hints = Keymap::default().hints(Context::EntryBar);
        assert_eq!(hints[0], ("Enter".to_string(), "chart"));
        assert!(hints.iter().any(|(k, d)| k == "Ctrl-C" && *d == "quit"));
    }

    #[test]
    fn key_overrides_load_from_the_user_config() {
        use crate::config::Config;
        let c =
            Config::from_layers(Some(("mine.toml", "[keys.timeline]\namend = \"m\"\n"))).unwrap();
        let map = Keymap::with_overrides(&c.keys).unwrap();
        let m = Key::parse("m").unwrap();
        assert_eq!(map.command(Context::Timeline, &m), Some(Command::Amend));
        let err = Config::from_layers(Some(("mine.toml", "[keys.timeline]\nfly = \"f\"\n")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("fly"), "{err}");
    }

    #[test]
    fn ctrl_l_locks_from_every_context_and_no_default_binding_shadows_it() {
        let map = Keymap::default();
        let ctrl_l = key("ctrl-l");
        for ctx in Context::ALL {
            assert_eq!(map.command(ctx, &ctrl_l), Some(Command::Lock), "{ctx:?}");
            let own = map.keys_for(ctx, Command::Lock);
            assert_eq!(own.is_empty(), ctx != Context::Global, "{ctx:?}");
        }
        let bound_to_ctrl_l = DEFAULTS.iter().filter(|(_, k, _)| *k == "ctrl-l").count();
        assert_eq!(bound_to_ctrl_l, 1, "Ctrl-L is bound once, globally");
        let lock_hints = map.hints(Context::Lock);
        assert!(lock_hints.contains(&("Enter".to_string(), "unlock")));
        assert!(
            !lock_hints.iter().any(|(_, d)| *d == "quit" || *d == "help"),
            "behind the lock only its own keys work: {lock_hints:?}"
        );
        let help = map.help();
        let global = &help.iter().find(|(c, _)| *c == Context::Global).unwrap().1;
        assert!(global.contains(&("Ctrl-L".to_string(), "lock")));
    }
}
