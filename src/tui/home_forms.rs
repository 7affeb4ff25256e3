//! The home screen's forms: a new session for a patient, a new patient, and a patient's
//! course. Each keeps what was typed: Esc sets it aside (the same form opened again brings
//! it back), a refusal leaves it as it was with the reason, and only a write that went
//! through, or the clinician clearing a field, empties it.

use super::input::InputLine;
use super::keymap::{Command, Key};
use super::panels::edit;
use super::state::Effect;
use crate::app::course::NewPatient;
use crate::domain::{PatientId, Session, SessionKind};
use chrono::NaiveDate;

/// Dosing sessions a course plans unless the clinician says otherwise.
pub const PLANNED_DEFAULT: u32 = crate::domain::course::DEFAULT_PLANNED_DOSING;

/// Goals a course is started with from the form (the command line takes any number).
pub const COURSE_GOALS: usize = 3;

/// Why a write a form asked for was refused; `exists` when it names a record that stands
/// (the same patient, the patient's course), which Enter again goes past.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub why: String,
    pub exists: bool,
}

/// What a key did to a form.
#[derive(Debug, Clone, PartialEq)]
pub enum FormOutcome {
    /// The key was taken (or ignored); the form stays.
    Stay,
    /// Esc: the form closes, and is set aside when something was typed in it.
    Close,
    /// The form asks for a write; it stays open, as typed, until the write comes back.
    Send(Effect),
}

/// The new-session form.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSessionForm {
    pub patient: PatientId,
    pub kind: SessionKind,
    /// Typed for a dosing session (its intention) or a preparation session (charted in it as
    /// the course's intention); kept whichever kind is chosen.
    pub intention: String,
    /// For an integration: the patient's latest dosing session.
    pub dosing: Option<Session>,
    /// The intention a dosing session started with none typed carries, once read from the
    /// record (`Some(None)`: none on record yet).
    pub carried: Option<Option<String>>,
    pub error: Option<String>,
}

impl NewSessionForm {
    pub fn new(patient: PatientId, dosing: Option<Session>) -> NewSessionForm {
        NewSessionForm {
            patient,
            kind: SessionKind::Dosing,
            intention: String::new(),
            dosing,
            carried: None,
            error: None,
        }
    }

    /// Whether the kind chosen takes an intention.
    pub fn takes_intention(&self) -> bool {
        matches!(self.kind, SessionKind::Dosing | SessionKind::Preparation)
    }

    /// Whether anything was typed in it.
    pub fn is_typed(&self) -> bool {
        !self.intention.trim().is_empty()
    }

    pub fn on_key(&mut self, command: Option<Command>, key: &Key) -> FormOutcome {
        let kinds = SessionKind::ALL;
        let at = kinds.iter().position(|k| *k == self.kind).unwrap_or(0);
        match (command, key.printable()) {
            (Some(Command::Cancel), _) => return FormOutcome::Close,
            (Some(Command::Increase | Command::NextField), _) => {
                self.kind = kinds[(at + 1) % kinds.len()];
                self.error = None;
            }
            (Some(Command::Decrease | Command::PreviousField), _) => {
                self.kind = kinds[(at + kinds.len() - 1) % kinds.len()];
                self.error = None;
            }
            (Some(Command::DeleteBack), _) => {
                self.intention.pop();
            }
            (Some(Command::ClearLine), _) => self.intention.clear(),
            (Some(Command::Confirm), _) => return self.confirm(),
            (_, Some(c)) if !c.is_control() => self.intention.push(c),
            _ => {}
        }
        FormOutcome::Stay
    }

    fn confirm(&mut self) -> FormOutcome {
        if self.is_typed() && !self.takes_intention() {
            self.error = Some(format!(
                "an intention is charted in a preparation or dosing session, not in {} {} session: choose one of those, or clear it (Ctrl-U)",
                article(self.kind),
                self.kind
            ));
            return FormOutcome::Stay;
        }
        let dosing = match (self.kind, &self.dosing) {
            (SessionKind::Integration, None) => {
                self.error = Some(
                    "an integration follows a dosing session; this patient has none yet".into(),
                );
                return FormOutcome::Stay;
            }
            (SessionKind::Integration, Some(d)) => Some(d.id),
            _ => None,
        };
        let intention = Some(self.intention.trim().to_string())
            .filter(|i| !i.is_empty() && self.takes_intention());
        FormOutcome::Send(Effect::StartSession {
            patient: self.patient,
            kind: self.kind,
            intention,
            dosing,
        })
    }
}

/// "an" before a vowel sound, "a" otherwise, for a session kind.
pub fn article(kind: SessionKind) -> &'static str {
    match kind {
        SessionKind::Intake | SessionKind::Integration => "an",
        _ => "a",
    }
}

/// The labels of the new-patient form's fields, in order.
pub const PATIENT_FIELDS: [&str; 4] = ["Name", "Born", "MRN", "Weight kg"];

/// A new patient: name, date of birth, and the MRN and weight when known.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatientForm {
    /// In the order of [`PATIENT_FIELDS`].
    pub fields: [InputLine; 4],
    pub field: usize,
    /// The chart holds a patient with the same name, date of birth and MRN, and Enter
    /// again adds a second record for another person.
    pub second: bool,
    pub error: Option<String>,
}

impl PatientForm {
    pub fn is_typed(&self) -> bool {
        self.fields.iter().any(|f| !f.is_blank())
    }

    pub fn on_key(&mut self, command: Option<Command>, key: &Key) -> FormOutcome {
        if edit(&mut self.fields[self.field], command, key) {
            // What the refusal named is no longer what is typed.
            self.second = false;
            return FormOutcome::Stay;
        }
        let n = self.fields.len();
        match command {
            Some(Command::Cancel) => return FormOutcome::Close,
            Some(Command::NextField) => self.field = (self.field + 1) % n,
            Some(Command::PreviousField) => self.field = (self.field + n - 1) % n,
            Some(Command::Confirm) => match self.patient() {
                Ok(patient) => {
                    return FormOutcome::Send(Effect::AddPatient {
                        patient,
                        second: self.second,
                    });
                }
                Err((field, why)) => {
                    self.field = field;
                    self.error = Some(why);
                }
            },
            _ => {}
        }
        FormOutcome::Stay
    }

    /// The patient as typed, or the field that is wrong and why.
    fn patient(&self) -> Result<NewPatient, (usize, String)> {
        let [name, dob, mrn, weight] = self.fields.each_ref().map(|f| f.text().trim());
        if name.is_empty() {
            return Err((0, "the patient's name is needed".into()));
        }
        let dob = NaiveDate::parse_from_str(dob, "%Y-%m-%d").map_err(|_| {
            let shown = if dob.is_empty() { "nothing" } else { dob };
            (
                1,
                format!(
                    "date of birth: {shown} is not a date; expected YYYY-MM-DD, e.g. 1986-04-12"
                ),
            )
        })?;
        let weight_kg = match weight {
            "" => None,
            w => Some(w.replace(',', ".").parse::<f64>().map_err(|_| {
                (
                    3,
                    format!(
                        "weight: {w} is not a number of kilograms; e.g. 72.5, or leave it empty"
                    ),
                )
            })?),
        };
        Ok(NewPatient {
            name: name.to_string(),
            dob,
            mrn: Some(mrn.to_string()).filter(|m| !m.is_empty()),
            weight_kg,
        })
    }

    /// The add was refused: the form stays as typed, with why.
    pub fn refused(&mut self, refused: Refused) {
        self.second = refused.exists;
        self.error = Some(if refused.exists {
            format!(
                "{}; Enter again adds a second record (another person), or Esc",
                refused.why
            )
        } else {
            refused.why
        });
    }
}

/// A patient's course: the dosing sessions planned and its goals.
#[derive(Debug, Clone, PartialEq)]
pub struct CourseForm {
    pub patient: PatientId,
    pub planned: InputLine,
    pub goals: [InputLine; COURSE_GOALS],
    /// 0: planned, then the goals.
    pub field: usize,
    /// A course stands, and Enter again starts a new one in its place.
    pub new_course: bool,
    pub error: Option<String>,
}

impl CourseForm {
    pub fn new(patient: PatientId) -> CourseForm {
        CourseForm {
            patient,
            planned: InputLine::with_text(&PLANNED_DEFAULT.to_string()),
            goals: Default::default(),
            field: 0,
            new_course: false,
            error: None,
        }
    }

    pub fn is_typed(&self) -> bool {
        self.goals.iter().any(|g| !g.is_blank())
            || self.planned.text().trim() != PLANNED_DEFAULT.to_string()
    }

    pub fn on_key(&mut self, command: Option<Command>, key: &Key) -> FormOutcome {
        let field = match self.field {
            0 => &mut self.planned,
            i => &mut self.goals[i - 1],
        };
        if edit(field, command, key) {
            self.new_course = false;
            return FormOutcome::Stay;
        }
        let n = COURSE_GOALS + 1;
        match command {
            Some(Command::Cancel) => return FormOutcome::Close,
            Some(Command::NextField) => self.field = (self.field + 1) % n,
            Some(Command::PreviousField) => self.field = (self.field + n - 1) % n,
            Some(Command::Confirm) => {
                let planned = self.planned.text().trim();
                let Ok(planned) = planned.parse::<u32>() else {
                    self.field = 0;
                    self.error = Some(format!(
                        "planned dosing sessions: {} is not a number; e.g. {PLANNED_DEFAULT}",
                        if planned.is_empty() {
                            "nothing"
                        } else {
                            planned
                        }
                    ));
                    return FormOutcome::Stay;
                };
                let goals = self
                    .goals
                    .iter()
                    .map(|g| g.text().trim().to_string())
                    .filter(|g| !g.is_empty())
                    .collect();
                return FormOutcome::Send(Effect::StartCourse {
                    patient: self.patient,
                    planned,
                    goals,
                    new_course: self.new_course,
                });
            }
            _ => {}
        }
        FormOutcome::Stay
    }

    /// The start was refused: the form stays as typed, with why.
    pub fn refused(&mut self, refused: Refused) {
        self.new_course = refused.exists;
        self.error = Some(if refused.exists {
            format!(
                "{}; Enter again starts a new course in its place (the earlier one stays in the chart), or Esc",
                refused.why
            )
        } else {
            refused.why
        });
    }
}

/// The form open over the home screen.
#[derive(Debug, Clone, PartialEq)]
pub enum HomeForm {
    NewSession(NewSessionForm),
    Patient(PatientForm),
    Course(CourseForm),
}

impl HomeForm {
    pub fn is_typed(&self) -> bool {
        match self {
            HomeForm::NewSession(f) => f.is_typed(),
            HomeForm::Patient(f) => f.is_typed(),
            HomeForm::Course(f) => f.is_typed(),
        }
    }

    pub fn on_key(&mut self, command: Option<Command>, key: &Key) -> FormOutcome {
        match self {
            HomeForm::NewSession(f) => f.on_key(command, key),
            HomeForm::Patient(f) => f.on_key(command, key),
            HomeForm::Course(f) => f.on_key(command, key),
        }
    }

    /// Which form this is, and for which patient: a form set aside comes back when the same
    /// one is opened again.
    pub fn same_as(&self, other: &HomeForm) -> bool {
        match (self, other) {
            (HomeForm::NewSession(a), HomeForm::NewSession(b)) => a.patient == b.patient,
            (HomeForm::Patient(_), HomeForm::Patient(_)) => true,
            (HomeForm::Course(a), HomeForm::Course(b)) => a.patient == b.patient,
            _ => false,
        }
    }

    /// What was typed and not written, for the terminal after quitting.
    pub fn pending_text(&self) -> Option<String> {
        if !self.is_typed() {
            return None;
        }
        Some(match self {
            HomeForm::NewSession(f) => format!("intention {}", f.intention.trim()),
            HomeForm::Patient(f) => PATIENT_FIELDS
                .iter()
                .zip(&f.fields)
                .filter(|(_, v)| !v.is_blank())
                .map(|(l, v)| format!("{l}: {}", v.text().trim()))
                .collect::<Vec<_>>()
                .join(" · "),
            HomeForm::Course(f) => {
                let mut parts = vec![format!("planned {}", f.planned.text().trim())];
                parts.extend(
                    f.goals
                        .iter()
                        .filter(|g| !g.is_blank())
                        .map(|g| format!("goal: {}", g.text().trim())),
                );
                parts.join(" · ")
            }
        })
    }
}
