//! What the TUI's state hears and asks: an [`Action`] is something that happened (a key,
//! a tick of the clock, the result of a write or a read); an [`Effect`] is what the state asks
//! the runtime to do. Both are plain data, so tests drive the state with them alone.

use super::home::{HomeData, Refused};
use super::keymap::Key;
use super::live::{LiveData, Written};
use super::note::{NoteData, SignCheck};
use super::patient::PatientData;
use super::sign_in::{Attempt, Purpose, Refused as SignInRefused};
use crate::app::ChartingError;
use crate::app::access::{Access, Audited};
use crate::app::course::NewPatient;
use crate::app::patient_list::{Page, PageRead};
use crate::domain::course::NoteId;
use crate::domain::patient_filter::PatientFilter;
use crate::domain::{EntryId, PatientId, Payload, Session, SessionId, SessionKind};
use chrono::{DateTime, FixedOffset};

/// Something that happened: a key, a tick of the clock, or the result of a write.
/// What the state hears: keys, the clock, and what the runtime read or wrote, with what
/// went wrong kept typed (`ChartingError`) until the screen words it (`tui::wording`).
#[derive(Debug, Clone)]
pub enum Action {
    Key(Key),
    /// The clock moved on (the runtime sends one every second).
    Tick(DateTime<FixedOffset>),
    HomeLoaded(Result<HomeData, ChartingError>),
    /// A session was opened on the live screen.
    Opened(Result<LiveData, ChartingError>),
    /// A session was started from the new-session form and opened, or why not; with the
    /// intention line typed for it that could not be charted, and why (left in the bar).
    Started(Result<LiveData, ChartingError>, Option<(String, String)>),
    /// The home screen read again as shown (None: nothing changed since the last look).
    HomeRefreshed(Result<Option<HomeData>, ChartingError>),
    /// The intention a new dosing session for the patient would carry, from the record.
    CarriedIntention(PatientId, Result<Option<String>, ChartingError>),
    /// A patient was added from the home screen, or why not.
    PatientAdded(Result<PatientId, Refused>),
    /// A patient's course was started from the home screen, or why not.
    CourseStarted(PatientId, Result<i64, Refused>),
    /// Whether the note can be signed, as the chart stands and with the text as typed.
    SignChecked(Result<SignCheck, ChartingError>),
    /// A write finished: the session as it now stands, or why nothing was written.
    Written(Result<Written, ChartingError>),
    /// The chart was looked at for entries charted by another process: the session as it
    /// now stands when something changed (None when nothing did).
    Refreshed(Result<Option<LiveData>, ChartingError>),
    /// SIGTERM or SIGHUP: leave cleanly.
    Terminate,
    /// An integration note was opened (or re-read after signing or an addendum).
    NoteOpened(Result<Box<NoteData>, ChartingError>),
    /// A draft save finished.
    DraftSaved(Result<(), ChartingError>),
    PatientOpened(Result<Box<PatientData>, ChartingError>),
    /// A patient's sessions were read for the home screen.
    PatientSessions(PatientId, Result<Vec<Session>, ChartingError>),
    /// A page of the home screen's patient list was read.
    PatientsRead(Result<Page, ChartingError>),
    /// The terminal's size (columns, rows), at start and on every resize.
    Resize(u16, u16),
    /// The audit row for a screen just opened was written, or why not.
    AccessRecorded(Audited),
    /// No key was pressed for this long (the runtime sends it with every tick).
    Idle(std::time::Duration),
    /// The team's sign-in list, for the sign-in that is open.
    TeamRead(Result<Vec<crate::domain::team::TeamMember>, ChartingError>),
    /// A sign-in was checked: who signed in, or why not.
    Authenticated {
        purpose: Purpose,
        result: Result<super::handover::Authenticated, SignInRefused>,
    },
    /// A search of the chart came back: what it found and whether its audit rows were
    /// written, or why nothing could be searched.
    Searched(Result<(crate::app::search::Results, Audited), ChartingError>),
    /// The controlled-substance stock was read for its screen.
    StockOpened(Result<Box<super::stock::StockData>, ChartingError>),
}

/// What the runtime must do for the state: write, read, or act on the terminal.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    LoadHome,
    /// Read the home screen again as shown: its patient list under `filter`, as far as
    /// `rows` rows. With `changed_only`, only when another process changed the chart since
    /// the last look (the home screen follows other writers as the live screen does).
    RefreshHome {
        filter: PatientFilter,
        rows: usize,
        changed_only: bool,
    },
    /// Read the intention a new dosing session for the patient would carry.
    ReadCarriedIntention(PatientId),
    /// Add a patient; `second` when a second record for the same name and date of birth
    /// is meant.
    AddPatient {
        patient: NewPatient,
        second: bool,
    },
    /// Start a patient's course; `new_course` when one stands and a new one is meant.
    StartCourse {
        patient: PatientId,
        planned: u32,
        goals: Vec<String>,
        new_course: bool,
    },
    /// Check whether a note can be signed with `text` as its final draft.
    CheckSign {
        note: NoteId,
        text: String,
    },
    /// Read a patient's sessions for the home screen.
    LoadPatientSessions(PatientId),
    /// Read a page of the home screen's patient list.
    LoadPatients(PageRead),
    OpenSession(SessionId),
    StartSession {
        patient: PatientId,
        kind: SessionKind,
        intention: Option<String>,
        dosing: Option<SessionId>,
    },
    Commit {
        session: SessionId,
        line: String,
    },
    Amend {
        target: EntryId,
        reason: String,
        line: String,
    },
    Strike {
        target: EntryId,
        reason: String,
    },
    /// Entries made by a form (discharge items, an acknowledgement), written together.
    Record {
        session: SessionId,
        payloads: Vec<Payload>,
    },
    /// Acknowledge `entry`'s alert (`flag`): `note` as typed, its own `@` time first when it
    /// has one, empty for the words that fit the alert.
    Acknowledge {
        entry: EntryId,
        flag: crate::domain::FlagCode,
        note: String,
    },
    /// End the session, with the discharge form's entries; `reason` answers what stands
    /// against ending now.
    EndSession {
        session: SessionId,
        payloads: Vec<Payload>,
        reason: Option<String>,
    },
    /// Look for entries another process charted in the session on screen.
    Poll {
        session: SessionId,
    },
    /// Open (creating and pre-filling when new) the integration note of a dosing session.
    OpenNote {
        dosing: SessionId,
    },
    SaveDraft {
        note: NoteId,
        text: String,
    },
    /// Save `text` as the final draft, then sign it.
    SignNote {
        note: NoteId,
        text: String,
        reason: Option<String>,
    },
    AddAddendum {
        note: NoteId,
        text: String,
    },
    /// The patient and course screen.
    OpenPatient(crate::domain::PatientId),
    /// Write the audit row for a screen just opened: once per opening, never per redraw
    /// or poll (`app::access`).
    RecordAccess(Access),
    Suspend,
    /// Read the team's sign-in list (`store::team`).
    ReadTeam,
    /// Check a clinician's passphrase: to open the chart, to unlock, to hand over, or to
    /// witness.
    Authenticate {
        purpose: Purpose,
        attempt: Attempt,
    },
    /// The chart was opened at the sign-in: go to the screen kapchart was started on.
    FirstScreen,
    /// Search the chart (one patient's record, or all) for the words as typed, and record
    /// the search in the audit trail (`app::search`).
    Search {
        words: String,
        patient: Option<PatientId>,
    },
    /// Read the controlled-substance stock for its screen (`tui::stock::read`).
    OpenStock,
}
