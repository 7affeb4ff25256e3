//! The forms over the live screen: amend/strike, acknowledge a caution, discharge, and the
//! reason for ending against a discharge reminder.

use crate::domain::discharge::ALDRETE_ITEMS;
use crate::domain::item_forms::FormScale;
use crate::domain::measures;
use crate::tui::input::InputLine;
use crate::tui::live::{
    AcknowledgeForm, DischargeForm, EndReasonForm, Live, Panel, QuestionnaireForm,
};
use crate::tui::questionnaires;
use crate::tui::state::App;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

pub fn draw(app: &App, live: &Live, frame: &mut Frame<'_>, area: Rect) {
    let Some(panel) = &live.panel else {
        return;
    };
    let (title, lines, focus) = match panel {
        Panel::Correction(f) => {
            let verb = if f.strike { "Strike" } else { "Amend" };
            let mut lines = vec![
                Line::from(format!("Entry #{}: {}", f.target, f.summary)),
                Line::from(""),
                field(app, "Reason", &f.reason, f.field == 0),
            ];
            if !f.strike {
                lines.push(field(app, "Corrected", &f.line, f.field == 1));
            }
            let focus = 2 + f.field;
            lines.push(Line::from(""));
            if let Some(e) = &f.error {
                lines.push(Line::styled(format!("✗ {e}"), app.theme.alert()));
            }
            lines.push(Line::styled(
                "The original stays in the record · Tab field · Enter confirm · Esc cancel",
                app.theme.dim(),
            ));
            (format!(" {verb} entry #{} ", f.target), lines, Some(focus))
        }
        Panel::Acknowledge(AcknowledgeForm {
            caution,
            note,
            flag,
            error,
            ..
        }) => (
            format!(" Acknowledge {} ", flag.noun()),
            vec![
                Line::styled(caution.clone(), app.theme.caution()),
                Line::from(""),
                field(app, "Decision", note, true),
                error
                    .as_ref()
                    .map(|e| Line::styled(format!("✗ {e}"), app.theme.alert()))
                    .unwrap_or_default(),
                Line::styled(
                    format!(
                        "Record what you weighed (empty: \"{}\"; start with @10:45 or @-5m for an earlier time). Enter records · Esc cancel",
                        flag.default_acknowledgement()
                    ),
                    app.theme.dim(),
                ),
            ],
            Some(2),
        ),
        Panel::Discharge(f) => {
            let usual = live.data.usual_ride.as_deref();
            let lines = discharge(app, f, usual, rems_ready_note(live));
            // The Aldrete items are lines 1-5, then the total, the ride, where it came from
            // when offered, and ready.
            let offered = usize::from(offered_ride(f, usual));
            let focus = match f.field {
                0..5 => 1 + f.field,
                5 => 7,
                _ => 8 + offered,
            };
            (" Discharge ".to_string(), lines, Some(focus))
        }
        Panel::Questionnaire(QuestionnaireForm {
            instrument,
            answers,
            error,
        }) => {
            let (lines, focus) = questionnaire(app, *instrument, answers, error.as_deref());
            (
                " Questionnaire, item by item ".to_string(),
                lines,
                Some(focus),
            )
        }
        Panel::EndReason(EndReasonForm {
            concerns, reason, ..
        }) if concerns.is_empty() => {
            let session = live.data.session();
            let mut lines = vec![
                Line::from(format!(
                    "End this {} session (#{}) now?",
                    session.kind, session.id
                )),
                Line::from(""),
            ];
            let focus = lines.len();
            lines.push(field(app, "Note", reason, true));
            lines.push(Line::from(""));
            lines.push(Line::styled(
                "A note is optional, recorded with the end · Enter ends it · Esc back",
                app.theme.dim(),
            ));
            (" End session ".to_string(), lines, Some(focus))
        }
        Panel::EndReason(EndReasonForm {
            concerns, reason, ..
        }) => {
            let mut lines = vec![Line::styled(
                "Before ending this session:",
                app.theme.caution(),
            )];
            for c in concerns {
                lines.push(Line::styled(
                    format!("{} {c}", crate::tui::theme::OVERDUE),
                    app.theme.caution(),
                ));
            }
            lines.push(Line::from(""));
            let focus = lines.len();
            lines.push(field(app, "Reason", reason, true));
            lines.push(Line::from(""));
            lines.push(Line::styled(
                "kapchart does not decide: give the reason to end now, or Esc to go back.",
                app.theme.dim(),
            ));
            (" End session ".to_string(), lines, Some(focus))
        }
    };
    super::dialog::draw(app, frame, area, title, lines, focus, 78);
}

fn field<'a>(app: &App, label: &str, input: &InputLine, focused: bool) -> Line<'a> {
    let marker = if focused { "▏" } else { "" };
    let style = if focused {
        app.theme.selected()
    } else {
        ratatui::style::Style::new()
    };
    Line::from(vec![
        Span::raw(format!("{label:>10}: ")),
        Span::styled(format!("{}{marker}", input.text()), style),
    ])
}

/// The ride home shown is the patient's usual one, offered because none is charted yet.
fn offered_ride(f: &DischargeForm, usual: Option<&str>) -> bool {
    f.before.ride.is_none() && usual.is_some_and(|u| !u.is_empty() && f.ride.text() == u)
}

/// In a Spravato session, what the REMS form asks of "ready": when the patient would have
/// been ready to leave without the 2-hour minimum (clinical.md section 2).
fn rems_ready_note(live: &crate::tui::live::Live) -> Option<String> {
    let chart = &live.data.chart;
    if !crate::domain::rems::is_rems_session(chart, &chart.rules().rems) {
        return None;
    }
    let t = chart
        .discharge_state()
        .ready_at
        .and_then(|r| chart.t_plus_min(r))
        .map(|t| {
            format!(
                ": {} min on the form",
                crate::domain::since_dose::t_plus_minutes(t)
            )
        })
        .unwrap_or_default();
    Some(format!(
        "   REMS: ready as if there were no 2-h minimum (bar: @HH:MM ready-to-leave){t}"
    ))
}

fn discharge<'a>(
    app: &App,
    f: &DischargeForm,
    usual: Option<&str>,
    rems_note: Option<String>,
) -> Vec<Line<'a>> {
    let mut lines = vec![Line::styled(
        "Modified Aldrete, each 0-2: a score typed moves to the next item (or ←/→)",
        app.theme.title(),
    )];
    for (i, item) in ALDRETE_ITEMS.iter().enumerate() {
        let score = f.scores[i];
        let meaning = score.and_then(|s| item.describe(s)).unwrap_or("not scored");
        // The item a typed score goes to is marked, colour or not.
        let text = format!(
            "{} {:<14} {}  {meaning}",
            if f.field == i { "›" } else { " " },
            item.name,
            score.map(|s| s.to_string()).unwrap_or_else(|| "·".into())
        );
        lines.push(if f.field == i {
            Line::styled(text, app.theme.selected())
        } else {
            Line::from(text)
        });
    }
    let scored: Vec<u8> = f.scores.iter().flatten().copied().collect();
    let total = if scored.len() == 5 {
        let t: u8 = scored.iter().sum();
        let suggested = app.config.discharge.aldrete_at_least;
        let verdict = if t >= suggested {
            format!("(>= {suggested} suggested: met)")
        } else {
            format!(
                "(>= {suggested} suggested: {} BELOW)",
                crate::tui::theme::ALERT
            )
        };
        let style = if t >= suggested {
            app.theme.ok()
        } else {
            app.theme.alert()
        };
        Line::styled(format!("  total {t}/10 {verdict}"), style)
    } else {
        Line::styled(
            format!("  total: {} of 5 items scored", scored.len()),
            app.theme.dim(),
        )
    };
    lines.push(total);
    lines.push(field(app, "Ride home", &f.ride, f.field == 5));
    if offered_ride(f, usual) {
        lines.push(Line::styled(
            "            ↑ the usual ride, from the patient's contacts: charted on Enter",
            app.theme.dim(),
        ));
    }
    let ready = format!(
        "{:>10}: [{}] patient ready to leave{}",
        "Ready",
        if f.ready { "x" } else { " " },
        f.before
            .ready_at
            .map(|t| format!(" (recorded {})", t.format("%H:%M")))
            .unwrap_or_default()
    );
    lines.push(if f.field == 6 {
        Line::styled(ready, app.theme.selected())
    } else {
        Line::from(ready)
    });
    if let Some(note) = rems_note {
        lines.push(Line::styled(note, app.theme.dim()));
    }
    if let Some(e) = &f.error {
        lines.push(Line::styled(format!("✗ {e}"), app.theme.alert()));
    }
    lines.push(Line::styled(
        "↑/↓ field · Space ready · Enter record · Ctrl-E end session · Esc sets aside",
        app.theme.dim(),
    ));
    lines
}

/// The questionnaire form: the item being asked in the instrument's own words, its answer
/// scale, and the running total; the band once every item is answered, before Enter charts
/// it. Returns the lines and the one that must stay in view.
fn questionnaire<'a>(
    app: &App,
    form: FormScale,
    answers: &[u8],
    error: Option<&str>,
) -> (Vec<Line<'a>>, usize) {
    let n = form.item_count();
    let kinds: Vec<Span<'a>> = FormScale::ALL
        .iter()
        .map(|i| {
            let text = format!(" {} ", i.name());
            if *i == form {
                Span::styled(text, app.theme.selected())
            } else {
                Span::raw(text)
            }
        })
        .collect();
    let FormScale::Measure(instrument) = form else {
        return cadss6(app, kinds, answers, error);
    };
    let mut lines = vec![
        Line::from(kinds),
        Line::styled(questionnaires::stem(instrument), app.theme.dim()),
    ];
    lines.push(answer_chips(n, answers));
    let total: u16 = answers.iter().map(|a| u16::from(*a)).sum();
    let focus;
    if answers.len() < n {
        let item = answers.len();
        let text = questionnaires::items(instrument)
            .get(item)
            .copied()
            .unwrap_or("");
        focus = lines.len();
        lines.push(Line::styled(
            format!("Item {} of {n}: {text}", item + 1),
            app.theme.title(),
        ));
        let scale: Vec<String> = questionnaires::scale(instrument)
            .iter()
            .enumerate()
            .map(|(score, meaning)| format!("{score} {meaning}"))
            .collect();
        lines.push(Line::raw(format!("  {}", scale.join(" · "))));
        lines.push(Line::raw(format!(
            "Total so far {total} (of at most {}), {} of {n} answered",
            instrument.max_total(),
            answers.len()
        )));
    } else {
        // Bands and their sources: domain::measures::band.
        let band = measures::band(instrument, total, &app.config.measures);
        focus = lines.len();
        lines.push(Line::styled(
            format!(
                "Total {total} of {}: {band} · Enter charts it",
                instrument.max_total()
            ),
            app.theme.title(),
        ));
    }
    form_footer(app, &mut lines, error, "answer's number");
    (lines, focus)
}

/// The CADSS-6 form: six items (CADSS items 1, 2, 6, 7, 15, 22; Rodrigues et al., J Affect
/// Disord 2021;282:160), each 0 to `[measures] cadss6_item_max`. The CADSS wording is not
/// reproduced here: the clinician asks from the clinic's own copy.
fn cadss6<'a>(
    app: &App,
    kinds: Vec<Span<'a>>,
    answers: &[u8],
    error: Option<&str>,
) -> (Vec<Line<'a>>, usize) {
    let form = FormScale::Cadss6;
    let n = form.item_count();
    let max = form.max_item(&app.config.measures);
    let mut lines = vec![
        Line::from(kinds),
        Line::styled(
            "CADSS-6 (items 1, 2, 6, 7, 15, 22 of the CADSS), asked from the clinic's copy",
            app.theme.dim(),
        ),
    ];
    lines.push(answer_chips(n, answers));
    let total: u16 = answers.iter().map(|a| u16::from(*a)).sum();
    let focus = lines.len();
    lines.push(Line::styled(
        if answers.len() < n {
            format!(
                "Item {} of {n}: type its score (0-{max}) · total so far {total}",
                answers.len() + 1
            )
        } else {
            format!(
                "Total {total} of {} · Enter charts it",
                n as u16 * u16::from(max)
            )
        },
        app.theme.title(),
    ));
    form_footer(app, &mut lines, error, "score");
    (lines, focus)
}

/// "1:2 2:1 [3:_] 4:· …": the answers so far and the item being asked.
fn answer_chips<'a>(n: usize, answers: &[u8]) -> Line<'a> {
    let shown: Vec<String> = (0..n)
        .map(|i| match answers.get(i) {
            Some(a) => format!("{}:{a}", i + 1),
            None if i == answers.len() => format!("[{}:_]", i + 1),
            None => format!("{}:·", i + 1),
        })
        .collect();
    Line::from(shown.join(" "))
}

/// The form's error, if any, and its keys.
fn form_footer(app: &App, lines: &mut Vec<Line<'_>>, error: Option<&str>, typed: &str) {
    if let Some(e) = error {
        lines.push(Line::styled(format!("✗ {e}"), app.theme.alert()));
    }
    lines.push(Line::styled(
        format!(
            "type the {typed} · ←/→ questionnaire or CADSS-6 (before the first answer) · Backspace undo · Esc cancel"
        ),
        app.theme.dim(),
    ));
}
