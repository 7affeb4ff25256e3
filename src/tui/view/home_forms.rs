//! The home screen's forms: a new session (what the intention typed becomes, and what a
//! dosing session started without one carries), a new patient, a patient's course.

use crate::domain::SessionKind;
use crate::tui::home::Home;
use crate::tui::home_forms::{
    COURSE_GOALS, CourseForm, HomeForm, NewSessionForm, PATIENT_FIELDS, PatientForm, article,
};
use crate::tui::input::InputLine;
use crate::tui::state::App;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

pub fn draw(app: &App, h: &Home, form: &HomeForm, frame: &mut Frame<'_>, area: Rect) {
    let (title, lines, focus) = match form {
        HomeForm::NewSession(f) => new_session(app, h, f),
        HomeForm::Patient(f) => patient(app, f),
        HomeForm::Course(f) => course(app, h, f),
    };
    super::dialog::draw(app, frame, area, title.into(), lines, Some(focus), 64);
}

/// A field: its label, what is typed, and the cursor when it has the focus.
fn field<'a>(app: &App, label: &str, width: usize, input: &InputLine, focused: bool) -> Line<'a> {
    let style = if focused {
        app.theme.selected()
    } else {
        ratatui::style::Style::new()
    };
    Line::from(vec![
        Span::raw(format!("{label:>width$}: ")),
        Span::styled(
            format!("{}{}", input.text(), if focused { "▏" } else { "" }),
            style,
        ),
    ])
}

fn new_session<'a>(
    app: &App,
    h: &Home,
    f: &NewSessionForm,
) -> (&'static str, Vec<Line<'a>>, usize) {
    let kinds: Vec<Span<'_>> = SessionKind::ALL
        .iter()
        .map(|k| {
            let text = format!(" {k} ");
            if *k == f.kind {
                Span::styled(text, app.theme.selected())
            } else {
                Span::raw(text)
            }
        })
        .collect();
    let mut lines = vec![
        Line::from(format!("Patient: {}", h.patient_name(f.patient))),
        Line::from(kinds),
    ];
    if f.kind == SessionKind::Integration {
        lines.push(Line::from(match &f.dosing {
            Some(d) => format!(
                "Integrates dosing session #{} of {}",
                d.id,
                d.started.format("%d %b")
            ),
            None => "No dosing session to integrate yet".into(),
        }));
    }
    let focus = lines.len();
    let typed = f.intention.trim();
    if f.takes_intention() || !typed.is_empty() {
        lines.push(Line::from(format!("Intention: {}▏", f.intention)));
    }
    let said = match f.kind {
        SessionKind::Dosing if typed.is_empty() => Some(match &f.carried {
            Some(Some(carried)) => format!("empty: carries “{carried}”, the latest on record"),
            Some(None) => {
                "empty: none on record yet, so the session starts without one".to_string()
            }
            None => "empty: the latest on record is carried (reading it)".to_string(),
        }),
        SessionKind::Dosing => {
            Some("the session's intention, in place of the one on record".into())
        }
        SessionKind::Preparation if typed.is_empty() => {
            Some("type it to chart it in the preparation session, or leave it empty".into())
        }
        SessionKind::Preparation => {
            Some("charted in the preparation session: the dosing sessions carry it".into())
        }
        kind if !typed.is_empty() => {
            let note = format!(
                "kept, but not charted in {} {kind} session: choose preparation or dosing, or Ctrl-U clears it",
                article(kind)
            );
            lines.push(Line::styled(note, app.theme.caution()));
            None
        }
        _ => None,
    };
    if let Some(said) = said {
        lines.push(Line::styled(format!("  {said}"), app.theme.dim()));
    }
    if let Some(e) = &f.error {
        lines.push(Line::styled(format!("✗ {e}"), app.theme.alert()));
    }
    lines.push(Line::styled(
        "←/→ kind · type the intention · Enter start · Esc sets aside",
        app.theme.dim(),
    ));
    (" New session ", lines, focus)
}

fn patient<'a>(app: &App, f: &PatientForm) -> (&'static str, Vec<Line<'a>>, usize) {
    let width = PATIENT_FIELDS.iter().map(|l| l.len()).max().unwrap_or(0);
    let mut lines = vec![Line::from("A new patient in the chart:"), Line::from("")];
    let first = lines.len();
    for (i, (label, input)) in PATIENT_FIELDS.iter().zip(&f.fields).enumerate() {
        lines.push(field(app, label, width, input, f.field == i));
    }
    lines.push(Line::styled(
        "Born as YYYY-MM-DD; MRN and weight when known",
        app.theme.dim(),
    ));
    if let Some(e) = &f.error {
        lines.push(Line::styled(format!("✗ {e}"), app.theme.alert()));
    }
    lines.push(Line::styled(
        "Tab/↓ next field · Enter add · Esc sets aside",
        app.theme.dim(),
    ));
    (" Add patient ", lines, first + f.field)
}

fn course<'a>(app: &App, h: &Home, f: &CourseForm) -> (&'static str, Vec<Line<'a>>, usize) {
    let width = "Planned".len();
    let mut lines = vec![
        Line::from(format!("Patient: {}", h.patient_name(f.patient))),
        Line::from(""),
    ];
    let first = lines.len();
    lines.push(Line::from(
        vec![
            field(app, "Planned", width, &f.planned, f.field == 0),
            Line::styled("  dosing sessions", app.theme.dim()),
        ]
        .into_iter()
        .flat_map(|l| l.spans)
        .collect::<Vec<_>>(),
    ));
    for i in 0..COURSE_GOALS {
        lines.push(field(
            app,
            &format!("Goal {}", i + 1),
            width,
            &f.goals[i],
            f.field == i + 1,
        ));
    }
    if let Some(e) = &f.error {
        lines.push(Line::styled(format!("✗ {e}"), app.theme.alert()));
    }
    lines.push(Line::styled(
        "Tab/↓ next field · Enter start the course · Esc sets aside",
        app.theme.dim(),
    ));
    (" Start course ", lines, first + f.field)
}
