//! The vocabulary of kapchart's keys: where the keyboard is (`Context`) and what a key does
//! (`Command`), and the shape of a clinic's `[keys]` overrides in config.toml. A leaf: the
//! configuration reads it without knowing the terminal UI, which binds keys to it.

use serde::Deserialize;
use std::collections::BTreeMap;

/// Where the keyboard is: each context has its own keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Context {
    /// Keys that work everywhere.
    Global,
    /// The home screen's lists.
    Home,
    /// The live screen's quick-entry bar (printable keys type text).
    EntryBar,
    /// The live screen's timeline.
    Timeline,
    /// A form or prompt over the live screen.
    Panel,
    /// The integration note editor (printable keys type text).
    Editor,
    /// A patient's details and course.
    Patient,
    /// A signed note: read-only, addenda only.
    SignedNote,
    /// The lock screen: who unlocks, and their passphrase (printable keys type it).
    Lock,
    /// The search screen's results: entries, notes and addenda found by words.
    Search,
    /// The controlled-substance stock screen: containers on hand, today's movements.
    Stock,
}

impl Context {
    pub const ALL: [Context; 11] = [
        Context::Global,
        Context::Home,
        Context::EntryBar,
        Context::Timeline,
        Context::Panel,
        Context::Editor,
        Context::Patient,
        Context::SignedNote,
        Context::Lock,
        Context::Search,
        Context::Stock,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::Home => "Home screen",
            Context::EntryBar => "Quick-entry bar",
            Context::Timeline => "Timeline",
            Context::Panel => "Forms and prompts",
            Context::Editor => "Integration note",
            Context::Patient => "Patient and course",
            Context::SignedNote => "Signed note",
            Context::Lock => "Lock screen",
            Context::Search => "Search the chart",
            Context::Stock => "Controlled-substance stock",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::Home => "home",
            Context::EntryBar => "entry-bar",
            Context::Timeline => "timeline",
            Context::Panel => "panel",
            Context::Editor => "editor",
            Context::Patient => "patient",
            Context::SignedNote => "signed-note",
            Context::Lock => "lock",
            Context::Search => "search",
            Context::Stock => "stock",
        }
    }
}

/// What a key asks for. Names are what users write in config.toml.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Command {
    Quit,
    Help,
    Suspend,
    Up,
    Down,
    PageUp,
    PageDown,
    /// The first row of the list.
    ListStart,
    /// The last row of the list.
    ListEnd,
    Open,
    NewSession,
    FocusFilter,
    Commit,
    Leave,
    RecallOlder,
    RecallNewer,
    CursorLeft,
    CursorRight,
    CursorHome,
    CursorEnd,
    DeleteBack,
    DeleteForward,
    ClearLine,
    FocusEntry,
    Amend,
    Strike,
    Discharge,
    Acknowledge,
    EndSession,
    Home,
    NextField,
    PreviousField,
    Increase,
    Decrease,
    Confirm,
    Cancel,
    Note,
    Sign,
    Addendum,
    Patient,
    /// Add a patient to the chart (the home screen).
    AddPatient,
    /// Start the selected patient's course (the home screen).
    StartCourse,
    Questionnaire,
    /// Hide the chart behind the lock screen (HIPAA 45 CFR 164.312(a)(2)(iii)).
    Lock,
    /// Sign in on the lock screen with the chosen clinician's passphrase.
    Unlock,
    /// Another clinician signs in without leaving the screen.
    HandOver,
    /// A second clinician witnesses the selected dose.
    Witness,
    /// The search screen: entries, notes and addenda of every patient, found by words.
    Search,
    /// Type the words to find (on the timeline: its entries; on the search screen: the
    /// chart's).
    Find,
    /// The controlled-substance stock screen (the home screen).
    Stock,
}

impl Command {
    /// What the command does, in the help screen and the hint line.
    pub fn describe(self) -> &'static str {
        match self {
            Command::Quit => "quit",
            Command::Help => "help",
            Command::Suspend => "suspend to the shell",
            Command::Up => "move up",
            Command::Down => "move down",
            Command::PageUp => "page up",
            Command::PageDown => "page down",
            Command::ListStart => "first in the list",
            Command::ListEnd => "last in the list",
            Command::Open => "open",
            Command::NewSession => "new session",
            Command::FocusFilter => "filter",
            Command::Commit => "chart",
            Command::Leave => "timeline",
            Command::RecallOlder => "recall",
            Command::RecallNewer => "recall newer",
            Command::CursorLeft => "cursor left",
            Command::CursorRight => "cursor right",
            Command::CursorHome => "start of line",
            Command::CursorEnd => "end of line",
            Command::DeleteBack => "delete back",
            Command::DeleteForward => "delete forward",
            Command::ClearLine => "clear the line",
            Command::FocusEntry => "type",
            Command::Amend => "amend entry",
            Command::Strike => "strike entry",
            Command::Discharge => "discharge",
            Command::Acknowledge => "acknowledge",
            Command::EndSession => "end session",
            Command::Home => "home",
            Command::NextField => "next field",
            Command::PreviousField => "previous field",
            Command::Increase => "score up",
            Command::Decrease => "score down",
            Command::Confirm => "confirm",
            Command::Cancel => "cancel",
            Command::Note => "integration note",
            Command::Sign => "sign",
            Command::Addendum => "addendum",
            Command::Patient => "patient and course",
            Command::AddPatient => "add patient",
            Command::StartCourse => "start course",
            Command::Questionnaire => "questionnaire",
            Command::Lock => "lock",
            Command::Unlock => "unlock",
            Command::HandOver => "hand over",
            Command::Witness => "witness dose/waste",
            Command::Search => "search the chart",
            Command::Find => "find words",
            Command::Stock => "drug stock",
        }
    }

    /// Shown on the one-line hint bar (the rest is in help).
    pub fn is_hint(self) -> bool {
        matches!(
            self,
            Command::Quit
                | Command::Help
                | Command::Open
                | Command::NewSession
                | Command::FocusFilter
                | Command::Commit
                | Command::Leave
                | Command::RecallOlder
                | Command::FocusEntry
                | Command::Amend
                | Command::Strike
                | Command::Discharge
                | Command::Acknowledge
                | Command::Home
                | Command::NextField
                | Command::Confirm
                | Command::Cancel
                | Command::Note
                | Command::Sign
                | Command::Addendum
                | Command::Patient
                | Command::AddPatient
                | Command::StartCourse
                | Command::Questionnaire
                | Command::Lock
                | Command::Unlock
                | Command::HandOver
                | Command::Witness
        )
    }
}

/// User overrides: `[keys.CONTEXT] command = "key"` or `= ["key", "key"]`.
pub type KeyOverrides = BTreeMap<Context, BTreeMap<Command, OneOrMany>>;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}
