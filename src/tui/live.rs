//! The live dosing-session screen's state: the quick-entry bar with its preview and recall,
//! the timeline selection, and the forms that correct entries, acknowledge a caution and
//! discharge the patient.

use super::input::InputLine;
use super::keymap::{Command, Context, Key};
use super::state::Effect;
use crate::app::charting::{ChartingError, Refusal, plan};
use crate::config::Config;
use crate::domain::chart::OpenAlert;
use crate::domain::grammar::{GrammarError, format_payload};
use crate::domain::planning::PlannedEntry;
use crate::domain::search::{Words, line_text};
use crate::domain::{ChartLine, EntryId, FlagCode, SessionKind};
use chrono::{DateTime, FixedOffset};

pub use crate::app::views::{LiveData, SessionWrite};

/// A write of this screen's that came back: what it left in the chart, taken into the
/// screen's state without reading the session again ([`LiveData::take_in`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub write: SessionWrite,
    /// The dose the line asked a second clinician to witness (`witness` after it).
    pub witness: Option<EntryId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Entry,
    Timeline,
}

pub use super::panels::{
    AcknowledgeForm, CorrectionForm, DISCHARGE_FIELDS, DischargeForm, EndReasonForm, Panel,
    PanelContext, PanelOutcome, QuestionnaireForm,
};

/// What the bar will become: the planned entries, or why the line is wrong.
pub type LinePreview = Result<Vec<PlannedEntry>, LineProblem>;

/// Why the typed line cannot be charted as it stands, kept typed until the screen words it
/// (`tui::wording::line_problem`): the grammar's refusal keeps the span of what is wrong, so
/// the bar can underline it where the clinician is looking.
#[derive(Debug, Clone, PartialEq)]
pub enum LineProblem {
    /// The line does not read: the token, where it is, and a valid example.
    Grammar(GrammarError),
    /// The line reads, and the record's rules refuse it (a witness on an amendment, ...).
    Refused(Refusal),
    /// Anything else the planning could not do, in the use case's words.
    Other(String),
}

impl From<ChartingError> for LineProblem {
    fn from(e: ChartingError) -> LineProblem {
        match e {
            ChartingError::Grammar(g) => LineProblem::Grammar(g),
            ChartingError::Refused(r) => LineProblem::Refused(r),
            other => LineProblem::Other(other.to_string()),
        }
    }
}

impl LineProblem {
    /// The byte range of the line to underline, when the problem is one token of it.
    pub fn span(&self) -> Option<std::ops::Range<usize>> {
        match self {
            LineProblem::Grammar(g) if !g.span.is_empty() => Some(g.span.clone()),
            _ => None,
        }
    }
}

/// Forms closed with Esc with something typed in them, kept as typed: the same form opened
/// again (for the same entry) comes back as it was left, until it is charted or cleared.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Kept {
    pub corrections: Vec<CorrectionForm>,
    pub discharge: Option<DischargeForm>,
    /// The reason typed to end a session that has no discharge panel.
    pub end_reason: Option<InputLine>,
    pub acknowledgements: Vec<(EntryId, InputLine)>,
    pub questionnaire: Option<(crate::domain::item_forms::FormScale, Vec<u8>)>,
}

impl Kept {
    pub fn is_empty(&self) -> bool {
        *self == Kept::default()
    }

    /// What is kept, as text for the terminal after quitting.
    pub fn texts(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .corrections
            .iter()
            .map(|f| format!("{} {}", f.reason.text(), f.line.text()))
            .collect();
        out.extend(self.discharge.as_ref().and_then(DischargeForm::typed_text));
        out.extend(self.end_reason.iter().map(|r| r.text().to_string()));
        out.extend(
            self.acknowledgements
                .iter()
                .map(|(_, n)| n.text().to_string()),
        );
        out.extend(
            self.questionnaire
                .as_ref()
                .map(|(i, a)| super::panels::answers_line(*i, a)),
        );
        out.retain(|t| !t.trim().is_empty());
        out
    }
}

/// Finding the timeline's entries by words (`/`): while it is on, the timeline shows only the
/// entries that hold every word (`domain::search`), the words marked.
#[derive(Debug, Clone, PartialEq)]
pub struct Find {
    /// The words as typed.
    pub typed: String,
    /// The words are being typed (printable keys are text).
    pub editing: bool,
}

/// What a write was for, so its result lands in the right place.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Sent {
    Line(String),
    Panel,
}

#[derive(Debug, Clone)]
pub struct Live {
    pub data: LiveData,
    pub focus: Focus,
    pub input: InputLine,
    pub preview: Option<LinePreview>,
    /// Index into `data.lines` of the selected timeline entry.
    pub selected: usize,
    pub panel: Option<Panel>,
    pub error: Option<String>,
    pub notice: Option<String>,
    /// Forms closed with Esc, as typed.
    pub kept: Kept,
    /// The timeline's find, while it is on.
    pub find: Option<Find>,
    recall: Vec<String>,
    recall_at: Option<usize>,
    recall_draft: String,
    pub(super) sent: Option<Sent>,
}

impl Live {
    pub fn new(data: LiveData, now: DateTime<FixedOffset>, config: &Config) -> Live {
        let recall = recall_lines(data.chart.lines());
        let mut live = Live {
            selected: data.chart.lines().len().saturating_sub(1),
            data,
            focus: Focus::Entry,
            input: InputLine::default(),
            preview: None,
            panel: None,
            error: None,
            notice: None,
            kept: Kept::default(),
            find: None,
            recall,
            recall_at: None,
            recall_draft: String::new(),
            sent: None,
        };
        live.refresh_preview(now, config);
        live
    }

    pub fn context(&self) -> Context {
        let finding = self.find.as_ref().is_some_and(|f| f.editing);
        match (&self.panel, self.focus) {
            (Some(_), _) => Context::Panel,
            (None, _) if finding => Context::Panel,
            (None, Focus::Entry) => Context::EntryBar,
            (None, Focus::Timeline) => Context::Timeline,
        }
    }

    /// Text typed and not yet charted, anywhere on this screen (forms set aside too).
    pub fn pending_text(&self) -> Option<String> {
        let panel_text = self.panel.as_ref().and_then(Panel::typed_text);
        let texts: Vec<String> = (!self.input.is_blank())
            .then(|| self.input.text().to_string())
            .into_iter()
            .chain(panel_text)
            .chain(self.kept.texts())
            .filter(|t| !t.trim().is_empty())
            .collect();
        (!texts.is_empty()).then(|| texts.join("\n"))
    }

    pub fn first_dose(&self) -> Option<DateTime<FixedOffset>> {
        self.data.chart.first_dose()
    }

    pub fn lines(&self) -> &[ChartLine] {
        self.data.chart.lines()
    }

    /// The words the timeline is found by, while a find with words is on.
    pub fn find_words(&self) -> Option<Words> {
        let words = Words::typed(&self.find.as_ref()?.typed);
        (words != Words::Empty).then_some(words)
    }

    /// Whether the timeline shows line `i`: every line, or under a find those that hold
    /// every word.
    pub fn shows(&self, i: usize) -> bool {
        match (self.find_words(), self.lines().get(i)) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(w), Some(l)) => w.matches(&line_text(&l.entry)),
        }
    }

    /// How many lines the timeline shows.
    pub fn shown_count(&self) -> usize {
        (0..self.lines().len()).filter(|i| self.shows(*i)).count()
    }

    /// The selected line, when the timeline shows it.
    pub fn selected_line(&self) -> Option<&ChartLine> {
        self.shows(self.selected)
            .then(|| self.lines().get(self.selected))
            .flatten()
    }

    /// Finds the words on the timeline with `entry` selected (a search screen's result).
    pub fn start_find(&mut self, typed: &str, entry: EntryId) {
        self.find = Some(Find {
            typed: typed.to_string(),
            editing: false,
        });
        self.focus = Focus::Timeline;
        if let Some(i) = self.lines().iter().position(|l| l.entry.id == entry) {
            self.selected = i;
        }
        self.settle_selection();
    }

    /// Under a find, the selection moves to a line the timeline shows (the newest), when it
    /// was on one it hides.
    fn settle_selection(&mut self) {
        if self.shows(self.selected) {
            return;
        }
        if let Some(i) = (0..self.lines().len()).rev().find(|i| self.shows(*i)) {
            self.selected = i;
        }
    }

    /// The selection moved by one line the timeline shows, up or down.
    fn step(&mut self, up: bool) {
        let next = if up {
            (0..self.selected).rev().find(|i| self.shows(*i))
        } else {
            (self.selected + 1..self.lines().len()).find(|i| self.shows(*i))
        };
        if let Some(i) = next {
            self.selected = i;
        }
    }

    fn on_find_key(&mut self, command: Option<Command>, key: &Key) {
        let Some(find) = &mut self.find else {
            return;
        };
        match (command, key.printable()) {
            (Some(Command::Confirm), _) => find.editing = false,
            (Some(Command::Cancel), _) => self.find = None,
            (Some(Command::DeleteBack), _) => {
                find.typed.pop();
            }
            (Some(Command::ClearLine), _) => find.typed.clear(),
            (_, Some(c)) => find.typed.push(c),
            _ => {}
        }
        self.settle_selection();
    }

    /// Re-plans the bar's text against the session as it stands, at `now`.
    pub fn refresh_preview(&mut self, now: DateTime<FixedOffset>, config: &Config) {
        if self.input.is_blank() {
            self.preview = None;
            return;
        }
        self.preview = Some(
            plan(
                &self.data.chart,
                &self.data.patient,
                config,
                self.input.text(),
                &now,
            )
            .map(|p| p.entries)
            .map_err(LineProblem::from),
        );
    }

    /// The newest pre-dose caution not yet acknowledged.
    pub fn unacknowledged_caution(&self) -> Option<OpenAlert<'_>> {
        self.data
            .chart
            .alert_in_view()
            .map(|a| a.alert)
            .filter(|a| a.flag.code == FlagCode::BpPredose)
    }

    /// The session as the chart now holds it, after another kapchart process (a script, a
    /// second terminal) charted in it. What is typed, the open form and the selection stay.
    pub fn refreshed(&mut self, data: LiveData, now: DateTime<FixedOffset>, config: &Config) {
        let before = self.lines().len();
        // Under a find the selection stays on what was found.
        let at_end = self.selected + 1 >= before && self.find.is_none();
        self.data = data;
        let added = self.lines().len().saturating_sub(before);
        if at_end {
            self.selected = self.lines().len().saturating_sub(1);
        }
        self.settle_selection();
        if added > 0 {
            self.notice = Some(format!(
                "{added} entr{} charted elsewhere",
                if added == 1 { "y" } else { "ies" }
            ));
        }
        self.refresh_preview(now, config);
    }

    /// A write came back.
    pub fn written(
        &mut self,
        result: Result<Written, String>,
        now: DateTime<FixedOffset>,
        config: &Config,
    ) {
        let result = result.map(|Written { write, .. }| {
            let charted = write.entries.len();
            self.data.take_in(write);
            charted
        });
        self.after_write(result, now, config);
    }

    /// A witness's sign-in came back with the session read again: like a write of this
    /// screen's own, the bar's text stays.
    pub fn witnessed(&mut self, data: LiveData, now: DateTime<FixedOffset>, config: &Config) {
        self.data = data;
        self.after_write(Ok(1), now, config);
    }

    /// What follows a write, its entries taken in (`charted` of them) or refused.
    fn after_write(
        &mut self,
        result: Result<usize, String>,
        now: DateTime<FixedOffset>,
        config: &Config,
    ) {
        let sent = self.sent.take();
        match result {
            Ok(charted) => {
                let added = charted;
                // The newest rows come into view: a find would hide them.
                self.find = None;
                self.selected = self.lines().len().saturating_sub(1);
                self.error = None;
                match sent {
                    Some(Sent::Line(line)) => {
                        self.recall.push(line);
                        self.input.clear();
                        self.notice = Some(format!(
                            "charted {added} entr{}",
                            if added == 1 { "y" } else { "ies" }
                        ));
                    }
                    Some(Sent::Panel) => {
                        self.panel = None;
                        self.notice = Some("recorded".into());
                    }
                    None => {}
                }
                self.recall_at = None;
            }
            Err(e) => {
                // Nothing was written: the text stays where it was typed.
                if let Some(error) = self.panel.as_mut().and_then(Panel::error_mut) {
                    *error = Some(e.clone());
                }
                self.error = Some(e);
                self.notice = None;
            }
        }
        self.refresh_preview(now, config);
    }

    pub fn on_key(
        &mut self,
        command: Option<Command>,
        key: &Key,
        now: DateTime<FixedOffset>,
        config: &Config,
    ) -> Option<Effect> {
        if self.panel.is_some() {
            return self.on_panel_key(command, key, now, config);
        }
        if self.find.as_ref().is_some_and(|f| f.editing) {
            self.on_find_key(command, key);
            return None;
        }
        match self.focus {
            Focus::Entry => self.on_entry_key(command, key, now, config),
            Focus::Timeline => self.on_timeline_key(command, now),
        }
    }

    fn on_entry_key(
        &mut self,
        command: Option<Command>,
        key: &Key,
        now: DateTime<FixedOffset>,
        config: &Config,
    ) -> Option<Effect> {
        if let Some(c) = key.printable() {
            self.input.insert(c);
            self.recall_at = None;
            self.notice = None;
            self.refresh_preview(now, config);
            return None;
        }
        match command? {
            Command::Commit => return self.commit(now, config),
            Command::Leave => {
                self.focus = Focus::Timeline;
                self.selected = self.lines().len().saturating_sub(1);
            }
            Command::RecallOlder => self.recall_step(true),
            Command::RecallNewer => self.recall_step(false),
            Command::CursorLeft => self.input.left(),
            Command::CursorRight => self.input.right(),
            Command::CursorHome => self.input.home(),
            Command::CursorEnd => self.input.end(),
            Command::DeleteBack => self.input.delete_back(),
            Command::DeleteForward => self.input.delete_forward(),
            Command::ClearLine => self.input.clear(),
            Command::Discharge => self.open_discharge(now),
            Command::Acknowledge => self.open_acknowledge(None),
            Command::Note => return self.open_note(),
            Command::Questionnaire => self.open_questionnaire(),
            _ => return None,
        }
        self.refresh_preview(now, config);
        None
    }

    fn commit(&mut self, now: DateTime<FixedOffset>, config: &Config) -> Option<Effect> {
        if self.input.is_blank() {
            return None;
        }
        self.refresh_preview(now, config);
        if let Some(Err(e)) = &self.preview {
            self.error = Some(super::wording::line_problem(e));
            return None;
        }
        let line = self.input.text().trim().to_string();
        self.sent = Some(Sent::Line(line.clone()));
        Some(Effect::Commit {
            session: self.data.session().id,
            line,
        })
    }

    fn recall_step(&mut self, older: bool) {
        if self.recall.is_empty() {
            return;
        }
        let last = self.recall.len() - 1;
        let next = match (self.recall_at, older) {
            (None, true) => {
                self.recall_draft = self.input.text().to_string();
                Some(last)
            }
            (None, false) => None,
            (Some(i), true) => Some(i.saturating_sub(1)),
            (Some(i), false) if i >= last => None,
            (Some(i), false) => Some(i + 1),
        };
        self.recall_at = next;
        self.input = InputLine::with_text(match next {
            Some(i) => &self.recall[i],
            None => &self.recall_draft,
        });
    }

    fn on_timeline_key(
        &mut self,
        command: Option<Command>,
        now: DateTime<FixedOffset>,
    ) -> Option<Effect> {
        let command = command?;
        let acts_on_selection = matches!(
            command,
            Command::Amend | Command::Strike | Command::Acknowledge
        );
        if acts_on_selection && self.selected_line().is_none() {
            self.error = Some("nothing found to act on: Esc shows every entry again".into());
            return None;
        }
        match command {
            Command::Up => self.step(true),
            Command::Down => self.step(false),
            Command::Find => {
                let typed = self.find.take().map(|f| f.typed).unwrap_or_default();
                self.find = Some(Find {
                    typed,
                    editing: true,
                });
            }
            // Esc (or q) first shows every entry again; then it goes home.
            Command::Home if self.find.is_some() => self.find = None,
            Command::FocusEntry => {
                self.find = None;
                self.focus = Focus::Entry;
            }
            Command::Amend => self.open_correction(false),
            Command::Strike => self.open_correction(true),
            Command::Discharge => self.open_discharge(now),
            Command::Acknowledge => self.open_acknowledge(self.selected_entry()),
            Command::Note => return self.open_note(),
            Command::Questionnaire => self.open_questionnaire(),
            Command::Home if self.input.is_blank() => return Some(Effect::LoadHome),
            Command::Home => {
                self.error = Some(
                    "the bar holds an uncharted line: chart it (Enter) or clear it (Ctrl-U) first"
                        .into(),
                );
                self.focus = Focus::Entry;
            }
            _ => {}
        }
        None
    }

    /// The integration note of this dosing session, or of the dosing session this
    /// integration session integrates (the bar keeps its text meanwhile only if it is empty:
    /// an uncharted line must be charted or cleared first).
    fn open_note(&mut self) -> Option<Effect> {
        let session = self.data.session();
        let dosing = match (session.kind, session.dosing_session_id) {
            (SessionKind::Dosing, _) => session.id,
            (SessionKind::Integration, Some(dosing)) => dosing,
            (kind, _) => {
                self.error = Some(format!(
                    "{} {kind} session has no integration note: a note belongs to a dosing session, and opens from it or from its integration session",
                    capitalised(super::home_forms::article(kind))
                ));
                return None;
            }
        };
        if !self.input.is_blank() {
            self.error = Some(
                "the bar holds an uncharted line: chart it (Enter) or clear it (Ctrl-U) first"
                    .into(),
            );
            return None;
        }
        Some(Effect::OpenNote { dosing })
    }

    /// Ending straight from the timeline or the bar is not offered: the end goes through the
    /// discharge panel so that its reminders are seen.
    pub fn is_dosing(&self) -> bool {
        self.data.chart.is_dosing()
    }
}

/// "An", "A".
fn capitalised(article: &str) -> String {
    let mut chars = article.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Lines that recall earlier entries of this session, oldest first.
fn recall_lines(lines: &[ChartLine]) -> Vec<String> {
    let mut by_recorded: Vec<&ChartLine> = lines.iter().collect();
    by_recorded.sort_by_key(|l| (l.entry.recorded_time, l.entry.id));
    let mut out: Vec<String> = Vec::new();
    for l in by_recorded {
        if let Some(text) = format_payload(&l.entry.payload)
            && out.last() != Some(&text)
        {
            out.push(text);
        }
    }
    out
}
