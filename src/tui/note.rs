//! The integration note editor: a multi-line draft saved durably within two seconds of the
//! last keystroke and on every leave or quit; signing locks it, after which only addenda
//! are added, each with its own signature.

use super::input::InputLine;
use super::keymap::{Command, Key, KeyName};
use super::state::Effect;
use crate::domain::course::NoteId;
use chrono::{DateTime, Duration, FixedOffset};
use ratatui_textarea::{CursorMove, Input, Key as EditorKey, TextArea, WrapMode};

pub use crate::app::course::{NoteData, SignCheck};

/// Typing pauses this long before the draft is saved...
const IDLE_SAVE: i64 = 900;
/// ...and a stream of typing is saved at least this often (both in milliseconds), so that a
/// crash loses at most two seconds.
const MAX_UNSAVED: i64 = 1500;

#[derive(Debug, Clone)]
pub enum NotePanel {
    /// Signing, once the note was found signable: the reason (`NoteEditor::sign_reason`)
    /// when something stands open.
    Sign,
    Addendum {
        editor: Box<TextArea<'static>>,
    },
}

/// What was typed around a note and not written, kept across Esc and across screens: the
/// reason to sign, and an addendum closed before it was signed.
#[derive(Debug, Clone, Default)]
pub struct Kept {
    pub sign_reason: InputLine,
    pub addendum: Option<Box<TextArea<'static>>>,
}

impl Kept {
    pub fn is_empty(&self) -> bool {
        self.sign_reason.is_blank() && self.addendum.is_none()
    }

    /// What is kept, as text for the terminal after quitting.
    pub fn texts(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.sign_reason.is_blank() {
            out.push(self.sign_reason.text().to_string());
        }
        if let Some(a) = &self.addendum {
            out.push(a.lines().join("\n"));
        }
        out
    }
}

#[derive(Debug, Clone)]
pub struct NoteEditor {
    pub data: NoteData,
    pub editor: TextArea<'static>,
    /// When the first unsaved keystroke happened, and the last one.
    pub unsaved_since: Option<DateTime<FixedOffset>>,
    pub last_edit: Option<DateTime<FixedOffset>>,
    pub panel: Option<NotePanel>,
    pub status: Option<String>,
    pub error: Option<String>,
    /// The signing reason and an addendum set aside, as typed.
    pub kept: Kept,
    /// Whether the note can be signed is being checked (`Effect::CheckSign`).
    pub checking: bool,
    /// The text of the save in flight, and whether to leave once it is written.
    sent: Option<(String, bool)>,
}

impl NoteEditor {
    pub fn new(data: NoteData) -> NoteEditor {
        let lines: Vec<String> = data.note.text().lines().map(str::to_string).collect();
        let mut editor = TextArea::new(if lines.is_empty() {
            vec![String::new()]
        } else {
            lines
        });
        editor.set_wrap_mode(WrapMode::Word);
        // A draft: carry on where the text ends. A signed note: read from the top.
        if !data.note.is_signed() {
            editor.move_cursor(CursorMove::Bottom);
            editor.move_cursor(CursorMove::End);
        }
        NoteEditor {
            data,
            editor,
            unsaved_since: None,
            last_edit: None,
            panel: None,
            status: None,
            error: None,
            kept: Kept::default(),
            checking: false,
            sent: None,
        }
    }

    /// The reason to sign, as typed (kept across Esc and a refusal).
    pub fn sign_reason(&self) -> &InputLine {
        &self.kept.sign_reason
    }

    /// Whether the note can be signed, as the chart says now: a refusal says why before any
    /// reason is asked; otherwise the signing panel opens, asking the reason when alerts or
    /// checks stand open.
    pub fn sign_checked(&mut self, check: Result<SignCheck, String>) {
        self.checking = false;
        match check {
            Ok(check) => {
                let refusal = check.refusal();
                self.data.check = check;
                match refusal {
                    Some(why) => self.error = Some(format!("cannot sign yet: {why}")),
                    None => {
                        self.error = None;
                        self.panel = Some(NotePanel::Sign);
                    }
                }
            }
            Err(e) => self.error = Some(e),
        }
    }

    pub fn note_id(&self) -> NoteId {
        self.data.note.id
    }

    pub fn text(&self) -> String {
        self.editor.lines().join("\n")
    }

    pub fn is_signed(&self) -> bool {
        self.data.note.is_signed()
    }

    pub fn is_dirty(&self) -> bool {
        self.unsaved_since.is_some()
    }

    /// Text not yet written anywhere, for the quit message.
    pub fn pending_text(&self) -> Option<String> {
        let mut texts = Vec::new();
        if let Some(NotePanel::Addendum { editor }) = &self.panel {
            texts.push(editor.lines().join("\n"));
        }
        texts.extend(self.kept.texts());
        texts.retain(|t| !t.trim().is_empty());
        (!texts.is_empty()).then(|| texts.join("\n"))
    }

    fn save(&mut self, leave: bool) -> Option<Effect> {
        let text = self.text();
        self.sent = Some((text.clone(), leave));
        Some(Effect::SaveDraft {
            note: self.note_id(),
            text,
        })
    }

    /// The clock moved: save when typing paused, or when it has gone on for too long.
    pub fn tick(&mut self, now: DateTime<FixedOffset>) -> Option<Effect> {
        let (since, last) = (self.unsaved_since?, self.last_edit?);
        let idle = now - last >= Duration::milliseconds(IDLE_SAVE);
        let long = now - since >= Duration::milliseconds(MAX_UNSAVED);
        if (idle || long) && self.sent.is_none() {
            return self.save(false);
        }
        None
    }

    /// Leaving or quitting: write what is unsaved first.
    pub fn flush(&mut self, leave: bool) -> Option<Effect> {
        if self.is_dirty() && !self.is_signed() {
            self.save(leave)
        } else {
            None
        }
    }

    /// A draft save came back.
    pub fn saved(
        &mut self,
        result: Result<(), String>,
        now: DateTime<FixedOffset>,
    ) -> Option<Effect> {
        let (text, leave) = self.sent.take()?;
        match result {
            Ok(()) => {
                if self.text() == text {
                    self.unsaved_since = None;
                }
                self.error = None;
                self.status = Some(format!("draft saved {}", now.format("%H:%M:%S")));
                leave.then_some(Effect::LoadHome)
            }
            Err(e) => {
                // Nothing lost: the text stays in the editor and is saved on the next tick.
                self.error = Some(format!("draft not saved: {e}"));
                None
            }
        }
    }

    pub fn on_key(
        &mut self,
        command: Option<Command>,
        key: &Key,
        now: DateTime<FixedOffset>,
    ) -> Option<Effect> {
        if let Some(panel) = &mut self.panel {
            match (panel, command) {
                // Esc: the panel closes; the reason and an addendum typed in it are kept.
                (_, Some(Command::Cancel | Command::Home)) => {
                    if let Some(NotePanel::Addendum { editor }) = self.panel.take() {
                        let typed = editor.lines().iter().any(|l| !l.trim().is_empty());
                        if typed {
                            self.kept.addendum = Some(editor);
                            self.status = Some("addendum kept as typed: it opens again".into());
                        }
                    }
                }
                (NotePanel::Sign, Some(Command::Confirm)) => {
                    let reason = &self.kept.sign_reason;
                    if !self.data.check.needs_reason.is_empty() && reason.is_blank() {
                        self.error = Some("give the reason for signing with these open".into());
                        return None;
                    }
                    let reason = (!reason.is_blank()).then(|| reason.text().trim().to_string());
                    return Some(Effect::SignNote {
                        note: self.note_id(),
                        text: self.text(),
                        reason,
                    });
                }
                (NotePanel::Sign, _) => {
                    let reason = &mut self.kept.sign_reason;
                    if let Some(c) = key.printable() {
                        reason.insert(c);
                    } else if command == Some(Command::DeleteBack) {
                        reason.delete_back();
                    } else if command == Some(Command::ClearLine) {
                        reason.clear();
                    }
                }
                (NotePanel::Addendum { editor }, Some(Command::Sign)) => {
                    let text = editor.lines().join("\n");
                    if text.trim().is_empty() {
                        self.error = Some("an addendum needs text".into());
                        return None;
                    }
                    return Some(Effect::AddAddendum {
                        note: self.note_id(),
                        text,
                    });
                }
                (NotePanel::Addendum { editor }, _) => {
                    if let Some(input) = editor_input(key) {
                        editor.input(input);
                    }
                }
            }
            return None;
        }
        match command {
            Some(Command::Home) => {
                return match self.flush(true) {
                    Some(effect) => Some(effect),
                    None => Some(Effect::LoadHome),
                };
            }
            Some(Command::Sign) if !self.is_signed() => {
                if self.checking {
                    return None;
                }
                // Checked first, against the chart as it stands and the text as typed: a
                // note that cannot be signed says so before any reason is asked.
                self.checking = true;
                self.error = None;
                return Some(Effect::CheckSign {
                    note: self.note_id(),
                    text: self.text(),
                });
            }
            Some(Command::Addendum) if self.is_signed() => {
                let editor = self.kept.addendum.take().unwrap_or_else(|| {
                    let mut editor = TextArea::new(vec![String::new()]);
                    editor.set_wrap_mode(WrapMode::Word);
                    Box::new(editor)
                });
                self.panel = Some(NotePanel::Addendum { editor });
                return None;
            }
            _ => {}
        }
        if self.is_signed() {
            // A signed note is read-only: scrolling only.
            if let Some(input) = editor_input(key).filter(|i| is_movement(&i.key)) {
                self.editor.input(input);
            }
            return None;
        }
        if let Some(input) = editor_input(key)
            && self.editor.input(input)
        {
            self.unsaved_since.get_or_insert(now);
            self.last_edit = Some(now);
            self.status = None;
        }
        None
    }
}

fn is_movement(key: &EditorKey) -> bool {
    matches!(
        key,
        EditorKey::Up
            | EditorKey::Down
            | EditorKey::Left
            | EditorKey::Right
            | EditorKey::PageUp
            | EditorKey::PageDown
            | EditorKey::Home
            | EditorKey::End
    )
}

/// kapchart's key as the text editor's input.
fn editor_input(key: &Key) -> Option<Input> {
    let k = match key.code {
        KeyName::Char(c) => EditorKey::Char(c),
        KeyName::F(n) => EditorKey::F(n),
        KeyName::Enter => EditorKey::Enter,
        KeyName::Esc => EditorKey::Esc,
        KeyName::Tab => EditorKey::Tab,
        KeyName::BackTab => return None,
        KeyName::Backspace => EditorKey::Backspace,
        KeyName::Delete => EditorKey::Delete,
        KeyName::Up => EditorKey::Up,
        KeyName::Down => EditorKey::Down,
        KeyName::Left => EditorKey::Left,
        KeyName::Right => EditorKey::Right,
        KeyName::Home => EditorKey::Home,
        KeyName::End => EditorKey::End,
        KeyName::PageUp => EditorKey::PageUp,
        KeyName::PageDown => EditorKey::PageDown,
    };
    Some(Input {
        key: k,
        ctrl: key.ctrl,
        alt: key.alt,
        shift: false,
    })
}
