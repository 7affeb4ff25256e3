//! The live session screen: header with the session clock and the next protocol check,
//! timeline, vitals flowsheet, BP/HR trend chart and the quick-entry bar.

use super::panel_block;
use crate::domain::protocol::{self, Check, CheckKind, CheckStatus};
use crate::domain::{ChartLine, EntryStatus, FlagCode, Payload, SessionKind};
use crate::tui::app::App;
use crate::tui::live::{Focus, Live};
use crate::tui::theme::{ALERT, LATE, OVERDUE};
use chrono::{DateTime, Duration, FixedOffset};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Cell, Chart, Dataset, GraphType, Paragraph, Row, Table, TableState};

/// At this width the flowsheet and the trend chart sit beside the timeline.
const WIDE: u16 = 120;

pub fn draw(app: &App, live: &Live, frame: &mut Frame<'_>, area: Rect) {
    let [header, body, entry] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Min(6),
        Constraint::Length(4),
    ])
    .areas(area);
    let checks = session_checks(app, live);
    draw_header(app, live, &checks, frame, header);
    if area.width >= WIDE {
        let [timeline, side] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                .areas(body);
        let [flow, trend] =
            Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(side);
        draw_timeline(app, live, &checks, frame, timeline);
        if live.data.chart.is_dosing() {
            draw_flowsheet(app, live, frame, flow);
            draw_trend(app, live, frame, trend);
        } else {
            super::purpose::draw(app, live, frame, side);
        }
    } else if !live.data.chart.is_dosing() {
        // No vitals protocol outside dosing: what the session is for takes the lower half.
        let [timeline, purpose] =
            Layout::vertical([Constraint::Min(4), Constraint::Percentage(55)]).areas(body);
        draw_timeline(app, live, &checks, frame, timeline);
        super::purpose::draw(app, live, frame, purpose);
    } else {
        let tall = body.height >= 30;
        let [timeline, flow, trend] = Layout::vertical([
            Constraint::Min(4),
            Constraint::Length(if tall { 9 } else { 6 }),
            Constraint::Length(if tall { 12 } else { 0 }),
        ])
        .areas(body);
        draw_timeline(app, live, &checks, frame, timeline);
        draw_flowsheet(app, live, frame, flow);
        if tall {
            draw_trend(app, live, frame, trend);
        }
    }
    draw_entry_bar(app, live, frame, entry);
    super::panels::draw(app, live, frame, area);
}

/// The protocol's checks for a dosing session; none for other kinds.
fn session_checks(app: &App, live: &Live) -> Vec<Check> {
    live.data.chart.checks(app.now)
}

/// "BP T+40", or the kind alone before the first dose.
pub(super) fn short(c: &Check) -> String {
    match c.t_plus_min {
        Some(t) if c.kind != CheckKind::Baseline => format!("{} T+{t}", c.kind),
        _ => c.kind.to_string(),
    }
}

/// "mm:ss" (or "h:mm:ss") of a duration, never negative.
pub(super) fn clock(d: Duration) -> String {
    let s = d.num_seconds().max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

/// "T+42" minutes after the first dose ("T-5" before it, "+3d" days later), or "" when
/// no dose was given.
fn t_plus(first_dose: Option<DateTime<FixedOffset>>, at: DateTime<FixedOffset>) -> String {
    match first_dose {
        Some(d) if at - d >= Duration::days(1) => format!("+{}d", (at - d).num_days()),
        Some(d) if at >= d => format!("T+{}", (at - d).num_minutes()),
        Some(d) => format!("T-{}", (d - at).num_minutes()),
        None => String::new(),
    }
}

/// "14:05", with the day in front when it is not the session's first day.
fn wall_time(session_day: chrono::NaiveDate, at: DateTime<FixedOffset>) -> String {
    if at.date_naive() == session_day {
        at.format("%H:%M").to_string()
    } else {
        at.format("%d %b %H:%M").to_string()
    }
}

fn draw_header(app: &App, live: &Live, checks: &[Check], frame: &mut Frame<'_>, area: Rect) {
    let d = &live.data;
    let theme = &app.theme;
    let age = d.patient.age_on(app.now.date_naive());
    let mut first = vec![
        Span::styled(format!("{}, {age}", d.patient.name), theme.title()),
        Span::raw(format!(
            " · {} {} · session #{}",
            d.session().kind,
            d.number_in_course,
            d.session().id
        )),
    ];
    if let Some(i) = &d.session().intention {
        first.push(Span::raw(format!(" · intention: “{i}”")));
    }

    let first_dose = live.first_dose();
    let end = d.session().ended.unwrap_or(app.now);
    // At 80 columns the clock and the checks must fit on one line: the dose time is on the
    // timeline, so it goes first when space is short.
    let wide = area.width >= 100;
    let mut second = match first_dose {
        Some(dose) => vec![
            Span::raw(if wide {
                format!("first dose {} · ", dose.format("%H:%M"))
            } else {
                String::new()
            }),
            Span::styled(format!("T+{}", clock(end - dose)), theme.title()),
            // A Spravato session: the devices given so far and their lot (REMS form).
            Span::raw(
                crate::domain::rems::devices_and_lots(&d.chart, &d.chart.rules().rems)
                    .map(|s| format!(" · {s}"))
                    .unwrap_or_default(),
            ),
        ],
        None => vec![
            Span::raw(if d.chart.is_dosing() {
                "no dose yet · "
            } else {
                ""
            }),
            Span::styled(
                match d.session().ended {
                    Some(_) => format!("ran {}", clock(end - d.session().started)),
                    None => format!("started {} ago", clock(end - d.session().started)),
                },
                theme.title(),
            ),
        ],
    };
    if let Some(i) = &d.integrates {
        second.push(Span::raw(format!(
            " · integrates dosing {} (session #{})",
            i.number_in_course,
            i.chart.session().id
        )));
    }
    if let Some(ended) = d.session().ended {
        second.push(Span::raw(format!(" · ended {}", ended.format("%H:%M"))));
    }
    // The overdue checks (the oldest named, the others counted), then the next check to come,
    // always in view; the missed ones last (they are on the timeline too).
    let summary = protocol::summary(checks);
    if let Some(oldest) = summary.overdue.first() {
        let late = oldest
            .due
            .map(|due| format!(" {} min late", (app.now - due).num_minutes()))
            .unwrap_or_default();
        let more = match summary.overdue.len() {
            1 => String::new(),
            n => format!(" (+{} more)", n - 1),
        };
        second.push(Span::raw(" · "));
        second.push(Span::styled(
            format!("{OVERDUE} OVERDUE: {}{late}{more}", short(oldest)),
            theme.overdue(),
        ));
    }
    match &summary.next {
        Some(c) if c.status == CheckStatus::Due => {
            second.push(Span::raw(" · "));
            second.push(Span::styled(
                format!("{OVERDUE} due now: {}", short(c)),
                theme.caution(),
            ));
        }
        Some(c) => {
            let countdown = c
                .due
                .map(|due| format!(" in {}", clock(due - app.now)))
                .unwrap_or_default();
            second.push(Span::raw(format!(" · next: {}{countdown}", short(c))));
        }
        None if summary.overdue.is_empty()
            && d.session().kind == SessionKind::Dosing
            && d.session().ended.is_none() =>
        {
            second.push(Span::styled(" · checks up to date", theme.ok()));
        }
        None => {}
    }
    if summary.missed > 0 {
        second.push(Span::raw(" · "));
        second.push(Span::styled(
            format!("{} missed", summary.missed),
            theme.overdue(),
        ));
    }
    let observation = d
        .chart
        .observe_until()
        .filter(|_| d.session().ended.is_none())
        .map(|until| {
            if app.now < until {
                Line::raw(format!(
                    "observe until {} ({} min minimum after the first dose)",
                    until.format("%H:%M"),
                    app.config.protocol.minimum_observation_min
                ))
            } else {
                Line::styled("minimum observation met", theme.ok())
            }
        });

    let third = if let Some(e) = &live.error {
        Line::styled(format!("✗ {e}"), theme.alert())
    } else if let Some(flag) = &d.safety {
        Line::styled(
            format!("{OVERDUE} SAFETY: {flag} (risk-assessment ...)"),
            theme.overdue(),
        )
    } else if let Some(c) = live.unacknowledged_caution() {
        let text = c.flag.text.as_str();
        let keys = app.keymap.keys_for(
            crate::tui::keymap::Context::EntryBar,
            crate::tui::keymap::Command::Acknowledge,
        );
        let key = keys.first().map(ToString::to_string).unwrap_or_default();
        Line::styled(
            format!("{OVERDUE} {text} · {key} acknowledge"),
            theme.caution(),
        )
    } else if let Some(n) = &live.notice {
        Line::styled(n.clone(), theme.dim())
    } else {
        observation.unwrap_or_default()
    };
    frame.render_widget(
        Paragraph::new(vec![Line::from(first), Line::from(second), third]),
        area,
    );
}

/// Short marks for a line's flags: "!BP", "!SpO2", "late".
fn flag_marks(line: &ChartLine) -> String {
    line.entry
        .flags
        .iter()
        .map(|f| match f.code {
            FlagCode::BpHigh => format!("{ALERT}BP"),
            FlagCode::BpPredose => format!("{ALERT}pre-dose BP"),
            FlagCode::Spo2Low => format!("{ALERT}SpO2"),
            FlagCode::HrHigh | FlagCode::HrLow => format!("{ALERT}HR"),
            FlagCode::RrLow => format!("{ALERT}RR"),
            FlagCode::DeepSedation => format!("{ALERT}MOAA/S"),
            FlagCode::Dissociation => format!("{ALERT}CADSS"),
            FlagCode::RespDepressed => format!("{ALERT}resp"),
            FlagCode::DoseHigh => format!("{ALERT}dose"),
            FlagCode::Late => LATE.to_string(),
            FlagCode::LotMissing => "no lot".to_string(),
            FlagCode::DeviceRest => "short rest".to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn kind_label(p: &Payload) -> &'static str {
    match p {
        Payload::Vitals(_) => "vitals",
        Payload::Sedation(_) => "sedat",
        Payload::Dissociation(_) => "cadss",
        Payload::Respiration(_) => "resp",
        Payload::Dose(_) => "DOSE",
        Payload::Observation(_) => "obs",
        Payload::Strike => "strike",
        Payload::Unreadable(_) => "DAMAGED",
        Payload::Acknowledgement(_) => "ack",
        Payload::Aldrete(_) => "aldrete",
        Payload::RideHome(_) => "ride",
        Payload::PatientReady => "ready",
        Payload::SessionEnd(_) => "end",
        Payload::RemsSubmitted(_) => "REMS",
        Payload::Measure(_) => "measure",
        Payload::RiskAssessment(_) => "risk",
        Payload::Screening(_) => "screen",
        Payload::Eligibility(_) => "eligib",
        Payload::Intention(_) => "intent",
        Payload::Setting(_) => "setting",
        Payload::Consent(_) => "consent",
        Payload::Witness(_) => "witness",
    }
}

fn draw_timeline(app: &App, live: &Live, checks: &[Check], frame: &mut Frame<'_>, area: Rect) {
    let theme = &app.theme;
    let first_dose = live.first_dose();
    let day = live.data.session().started.date_naive();
    let wide = area.width >= 90;
    // Entries and missed checks, in time order; only entries are selectable.
    enum Item<'a> {
        Entry(usize, &'a ChartLine),
        Missed(&'a Check),
    }
    // Under a find (`/`), only the entries that hold its words, the words marked.
    let words = live.find_words();
    let mut items: Vec<(DateTime<FixedOffset>, Item<'_>)> = live
        .lines()
        .iter()
        .enumerate()
        .filter(|(i, _)| words.is_none() || live.shows(*i))
        .map(|(i, l)| (l.entry.event_time, Item::Entry(i, l)))
        .collect();
    for c in checks
        .iter()
        .filter(|c| matches!(c.status, CheckStatus::Overdue | CheckStatus::Missed))
        .filter(|_| words.is_none())
    {
        if let Some(due) = c.due {
            items.push((due, Item::Missed(c)));
        }
    }
    items.sort_by_key(|(at, item)| (*at, matches!(item, Item::Entry(..))));
    let authors = super::authors::labels(live.lines().iter().map(|l| l.entry.author.as_str()));

    let focused = live.focus == Focus::Timeline && live.panel.is_none();
    // Keep the newest rows in view while charting; follow the selection in the timeline.
    let target = if focused {
        items
            .iter()
            .position(|(_, item)| matches!(item, Item::Entry(i, _) if *i == live.selected))
    } else {
        items.len().checked_sub(1)
    };
    // Only the rows that fit are built, where the table would scroll to show the target row
    // (one line each, inside the panel's borders): a frame costs the same at 40 entries as
    // at 500 (BENCHMARKS.md section 4).
    let (start, shown) = timeline_window(items.len(), target, area.height, windowed());
    let rows: Vec<Row<'_>> = items[start..start + shown]
        .iter()
        .map(|(at, item)| match item {
            Item::Missed(c) => {
                let what = if c.status == CheckStatus::Missed {
                    "MISSED"
                } else {
                    "OVERDUE"
                };
                let mut cells = vec![
                    Cell::from(wall_time(day, *at)),
                    Cell::from(t_plus(first_dose, *at)),
                    Cell::from(format!("{OVERDUE} check")),
                    Cell::from(format!("{what}: {c} not charted")),
                    Cell::from(""),
                ];
                // The same columns as an entry's row (the id column stays empty).
                if wide {
                    cells.insert(0, Cell::from(""));
                }
                Row::new(cells).style(theme.overdue())
            }
            Item::Entry(_, l) => {
                let e = &l.entry;
                // The line as the search finds it (`domain::search::entry_text`).
                let mut content = crate::domain::search::line_text(e);
                if let Some(w) = crate::domain::witness::witness_of(live.lines(), e.id) {
                    content.push_str(&format!(" · witnessed by {}", w.entry.author));
                }
                let (style, status) = match l.status {
                    EntryStatus::Current => (Style::new(), String::new()),
                    EntryStatus::Amended { by } => (theme.struck(), format!("amended → #{by} ")),
                    EntryStatus::Struck { by } => (theme.struck(), format!("✗ struck by #{by} ")),
                };
                let mut marks = flag_marks(l);
                // A reading that closed an overdue check says so: the lapse is on the record.
                for c in checks.iter() {
                    if let CheckStatus::DoneLate { by, late_min } = c.status
                        && by == e.id
                    {
                        let t = c.t_plus_min.map(|t| format!(" T+{t}")).unwrap_or_default();
                        marks.push_str(&format!(" ({}{t} {late_min} min late)", c.kind));
                    }
                }
                let alert = e.flags.iter().any(|f| f.code.is_alert());
                let mut cells = vec![
                    Cell::from(wall_time(day, e.event_time)),
                    Cell::from(t_plus(first_dose, e.event_time)),
                    Cell::from(kind_label(&e.payload)),
                    Cell::from(Line::from({
                        let found = words
                            .as_ref()
                            .map(|w| w.marks(&content))
                            .unwrap_or_default();
                        let mut spans = vec![Span::styled(status, theme.dim())];
                        spans.extend(super::marked_spans(&content, &found, style, theme.found()));
                        spans.push(Span::raw(" "));
                        spans.push(Span::styled(
                            marks,
                            if alert { theme.alert() } else { theme.dim() },
                        ));
                        spans
                    })),
                    Cell::from(authors.get(e.author.as_str()).cloned().unwrap_or_default()),
                ];
                if wide {
                    cells.insert(0, Cell::from(format!("#{}", e.id)));
                }
                Row::new(cells)
            }
        })
        .collect();
    let other_day = live
        .lines()
        .iter()
        .any(|l| l.entry.event_time.date_naive() != day);
    let mut widths = vec![
        Constraint::Length(if other_day { 12 } else { 5 }),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Min(10),
        Constraint::Length(3),
    ];
    if wide {
        widths.insert(0, Constraint::Length(5));
    }
    let mut state = TableState::default();
    state.select(target.map(|t| t - start));
    let table = Table::new(rows, widths)
        .column_spacing(1)
        .block(panel_block(app, timeline_title(live), focused))
        .row_highlight_style(if focused {
            theme.selected()
        } else {
            Style::new()
        });
    frame.render_stateful_widget(table, area, &mut state);
}

/// The timeline's title: how many entries, and under a find its words and what it shows.
fn timeline_title(live: &Live) -> String {
    let all = live.lines().len();
    match &live.find {
        None => format!(" Timeline ({all} entries) "),
        Some(f) => {
            let typed: String = f.typed.chars().take(40).collect();
            let typed = crate::domain::text::escape_controls(&typed, false);
            let cursor = if f.editing { "▏" } else { "" };
            let shown = if live.find_words().is_some() {
                live.shown_count()
            } else {
                all
            };
            format!(" Find: {typed}{cursor} · {shown} of {all} entries · Esc: all ")
        }
    }
}

/// Whether the timeline builds only the rows that fit; the tests also draw it whole, to hold
/// the window to the whole table's picture.
fn windowed() -> bool {
    #[cfg(test)]
    {
        !WHOLE_TIMELINE.with(std::cell::Cell::get)
    }
    #[cfg(not(test))]
    {
        true
    }
}

#[cfg(test)]
thread_local! {
    static WHOLE_TIMELINE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The rows of a timeline of `len` rows to build, as (first, count), so that `target` is
/// shown where a table scrolled from its top would show it: the panel holds `height - 2`
/// one-line rows. Not windowed: every row.
fn timeline_window(
    len: usize,
    target: Option<usize>,
    height: u16,
    windowed: bool,
) -> (usize, usize) {
    if !windowed {
        return (0, len);
    }
    let fits = usize::from(height.saturating_sub(2)).max(1);
    let start = target.map_or(0, |t| (t + 1).saturating_sub(fits));
    (start, fits.min(len - start))
}

/// One row of the flowsheet: a vitals reading, with the MOAA/S, CADSS-6 total and
/// respiratory status charted alongside it (each value with whether it was flagged).
struct FlowRow<'a> {
    at: DateTime<FixedOffset>,
    vitals: Option<&'a ChartLine>,
    moaas: Option<(u8, bool)>,
    cadss: Option<(u16, bool)>,
    resp: Option<(&'static str, bool)>,
}

impl FlowRow<'_> {
    fn at(at: DateTime<FixedOffset>) -> Self {
        FlowRow {
            at,
            vitals: None,
            moaas: None,
            cadss: None,
            resp: None,
        }
    }
}

/// The row a score charted at `at` joins: the latest within 3 minutes whose `slot` is
/// free, else a new row of its own.
fn row_for<'r, 'a>(
    rows: &'r mut Vec<FlowRow<'a>>,
    at: DateTime<FixedOffset>,
    free: impl Fn(&FlowRow<'a>) -> bool,
) -> &'r mut FlowRow<'a> {
    let near = rows
        .iter()
        .rposition(|r| free(r) && (at - r.at).num_minutes().abs() <= 3);
    let i = match near {
        Some(i) => i,
        None => {
            rows.push(FlowRow::at(at));
            rows.len() - 1
        }
    };
    &mut rows[i]
}

fn flow_rows(live: &Live) -> Vec<FlowRow<'_>> {
    let mut rows: Vec<FlowRow<'_>> = Vec::new();
    for l in live
        .lines()
        .iter()
        .filter(|l| l.status == EntryStatus::Current)
    {
        match &l.entry.payload {
            Payload::Vitals(_) => rows.push(FlowRow {
                vitals: Some(l),
                ..FlowRow::at(l.entry.event_time)
            }),
            Payload::Dissociation(d) => {
                let flagged = l.entry.flags.iter().any(|f| f.code.is_alert());
                row_for(&mut rows, l.entry.event_time, |r| r.cadss.is_none()).cadss =
                    Some((d.total(), flagged));
            }
            Payload::Respiration(resp) => {
                let flagged = l.entry.flags.iter().any(|f| f.code.is_alert());
                let word = if resp.depressed { "depr" } else { "ok" };
                row_for(&mut rows, l.entry.event_time, |r| r.resp.is_none()).resp =
                    Some((word, flagged));
            }
            Payload::Sedation(s) => {
                let flagged = l
                    .entry
                    .flags
                    .iter()
                    .any(|f| f.code == FlagCode::DeepSedation);
                // A score within 3 minutes of a reading joins its row.
                let near = rows.iter_mut().rev().find(|r| {
                    r.moaas.is_none() && (l.entry.event_time - r.at).num_minutes().abs() <= 3
                });
                match near {
                    Some(r) => r.moaas = Some((s.moaas, flagged)),
                    None => rows.push(FlowRow {
                        moaas: Some((s.moaas, flagged)),
                        ..FlowRow::at(l.entry.event_time)
                    }),
                }
            }
            _ => {}
        }
    }
    rows.sort_by_key(|r| r.at);
    rows
}

fn draw_flowsheet(app: &App, live: &Live, frame: &mut Frame<'_>, area: Rect) {
    let theme = &app.theme;
    let first_dose = live.first_dose();
    let cell = |value: Option<String>, flagged: bool| -> Cell<'_> {
        match value {
            Some(v) if flagged => Cell::from(Span::styled(format!("{v}{ALERT}"), theme.alert())),
            Some(v) => Cell::from(v),
            None => Cell::from(Span::styled("·", theme.dim())),
        }
    };
    let flow = flow_rows(live);
    // CADSS-6 and respiratory status columns appear once a session charts them (esketamine).
    let esketamine_columns = flow.iter().any(|r| r.cadss.is_some() || r.resp.is_some());
    let mut rows: Vec<Row<'_>> = flow
        .into_iter()
        .map(|r| {
            let has = |code: FlagCode| {
                r.vitals
                    .is_some_and(|l| l.entry.flags.iter().any(|f| f.code == code))
            };
            let v = r.vitals.and_then(|l| match &l.entry.payload {
                Payload::Vitals(v) => Some(v),
                _ => None,
            });
            let mut cells = vec![
                Cell::from(wall_time(live.data.session().started.date_naive(), r.at)),
                Cell::from(t_plus(first_dose, r.at)),
                cell(
                    v.and_then(|v| v.bp)
                        .map(|bp| format!("{}/{}", bp.systolic, bp.diastolic)),
                    has(FlagCode::BpHigh) || has(FlagCode::BpPredose),
                ),
                cell(
                    v.and_then(|v| v.hr).map(|x| x.to_string()),
                    has(FlagCode::HrHigh) || has(FlagCode::HrLow),
                ),
                cell(
                    v.and_then(|v| v.spo2).map(|x| format!("{x}%")),
                    has(FlagCode::Spo2Low),
                ),
                cell(
                    v.and_then(|v| v.rr).map(|x| x.to_string()),
                    has(FlagCode::RrLow),
                ),
                cell(
                    v.and_then(|v| v.temp_c)
                        .map(|t| crate::domain::entry::trim_number(t, 1)),
                    false,
                ),
                cell(
                    r.moaas.map(|(m, _)| m.to_string()),
                    r.moaas.is_some_and(|(_, f)| f),
                ),
            ];
            if esketamine_columns {
                cells.push(cell(
                    r.cadss.map(|(c, _)| c.to_string()),
                    r.cadss.is_some_and(|(_, f)| f),
                ));
                cells.push(cell(
                    r.resp.map(|(w, _)| w.to_string()),
                    r.resp.is_some_and(|(_, f)| f),
                ));
            }
            Row::new(cells)
        })
        .collect();
    // Newest first, so the latest reading is always in view.
    rows.reverse();
    let mut titles = vec!["Time", "T+", "BP", "HR", "SpO2", "RR", "T°C", "MOAA/S"];
    let mut widths = vec![
        Constraint::Length(
            if live.lines().iter().any(|l| {
                l.entry.event_time.date_naive() != live.data.session().started.date_naive()
            }) {
                12
            } else {
                5
            },
        ),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(4),
        Constraint::Length(5),
        Constraint::Length(3),
        Constraint::Length(5),
        Constraint::Length(6),
    ];
    if esketamine_columns {
        titles.extend(["CADSS", "Resp"]);
        widths.extend([Constraint::Length(5), Constraint::Length(5)]);
    }
    let header = Row::new(titles).style(theme.title());
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .column_spacing(1)
            .block(panel_block(app, " Vitals (newest first) ".into(), false)),
        area,
    );
}

fn draw_trend(app: &App, live: &Live, frame: &mut Frame<'_>, area: Rect) {
    if area.height < 6 {
        return;
    }
    let theme = &app.theme;
    let origin = live.first_dose().unwrap_or(live.data.session().started);
    let minutes = |at: DateTime<FixedOffset>| (at - origin).num_seconds() as f64 / 60.0;
    let mut systolic = Vec::new();
    let mut diastolic = Vec::new();
    let mut hr = Vec::new();
    for l in live
        .lines()
        .iter()
        .filter(|l| l.status == EntryStatus::Current)
    {
        if let Payload::Vitals(v) = &l.entry.payload {
            let x = minutes(l.entry.event_time);
            if let Some(bp) = v.bp {
                systolic.push((x, f64::from(bp.systolic)));
                diastolic.push((x, f64::from(bp.diastolic)));
            }
            if let Some(h) = v.hr {
                hr.push((x, f64::from(h)));
            }
        }
    }
    let end = live.data.session().ended.unwrap_or(app.now);
    let x_min = systolic
        .iter()
        .chain(&hr)
        .map(|p| p.0)
        .fold(0.0_f64, f64::min)
        .floor();
    let x_max = minutes(end).max(x_min + 30.0).ceil();
    let alerts = &app.config.alerts;
    let sys_line = [
        (x_min, f64::from(alerts.systolic_at_or_above)),
        (x_max, f64::from(alerts.systolic_at_or_above)),
    ];
    let dia_line = [
        (x_min, f64::from(alerts.diastolic_at_or_above)),
        (x_max, f64::from(alerts.diastolic_at_or_above)),
    ];
    let hr_line = [
        (x_min, f64::from(alerts.hr_above)),
        (x_max, f64::from(alerts.hr_above)),
    ];
    let y_max = systolic
        .iter()
        .chain(&hr)
        .map(|p| p.1)
        .fold(f64::from(alerts.systolic_at_or_above) + 20.0, f64::max)
        .ceil();
    // Each series has its own mark so that they stay apart without colour; the legend sits
    // above the plot, never over the newest readings.
    let level = |data| {
        Dataset::default()
            .marker(Marker::Custom(ALERT_LEVEL))
            .graph_type(GraphType::Line)
            .style(theme.dim())
            .data(data)
    };
    // A fine line between readings, and the series' letter at each reading on top of it.
    let line = |n, data| {
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(theme.series(n))
            .data(data)
    };
    let readings = |mark, n, data| {
        Dataset::default()
            .marker(Marker::Custom(mark))
            .graph_type(GraphType::Scatter)
            .style(theme.series(n))
            .data(data)
    };
    let datasets = vec![
        level(&sys_line),
        level(&dia_line),
        level(&hr_line),
        line(0, &systolic),
        line(1, &diastolic),
        line(2, &hr),
        // Drawn last wins a shared cell: BP over HR.
        readings(HEART_RATE, 2, &hr),
        readings(DIASTOLIC, 1, &diastolic),
        readings(SYSTOLIC, 0, &systolic),
    ];
    let label = if live.first_dose().is_some() {
        "min after dose"
    } else {
        "min"
    };
    let block = panel_block(app, " BP and HR trend ".into(), false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let legend = Line::from(vec![
        Span::styled(format!("{SYSTOLIC} systolic  "), theme.series(0)),
        Span::styled(format!("{DIASTOLIC} diastolic  "), theme.series(1)),
        Span::styled(format!("{HEART_RATE} HR  "), theme.series(2)),
        Span::styled(
            format!(
                "{ALERT_LEVEL} alert at sys {} dia {} HR {}",
                alerts.systolic_at_or_above, alerts.diastolic_at_or_above, alerts.hr_above
            ),
            theme.dim(),
        ),
    ]);
    let [legend_area, plot] = Layout::vertical([
        Constraint::Length(legend_rows(&legend, inner.width)),
        Constraint::Min(1),
    ])
    .areas(inner);
    frame.render_widget(
        Paragraph::new(legend).wrap(ratatui::widgets::Wrap { trim: true }),
        legend_area,
    );
    let chart = Chart::new(datasets)
        .legend_position(None)
        .x_axis(Axis::default().title(label).bounds([x_min, x_max]).labels([
            format!("{x_min:.0}"),
            format!("{:.0}", (x_min + x_max) / 2.0),
            format!("{x_max:.0}"),
        ]))
        .y_axis(Axis::default().bounds([40.0, y_max]).labels([
            "40".to_string(),
            format!("{:.0}", (40.0 + y_max) / 2.0),
            format!("{y_max:.0}"),
        ]));
    frame.render_widget(chart, plot);
}

/// The marks of the trend chart's series.
const SYSTOLIC: char = 's';
const DIASTOLIC: char = 'd';
const HEART_RATE: char = 'h';
const ALERT_LEVEL: char = '·';

/// Rows the legend takes at `width`: one, or two when it wraps.
fn legend_rows(legend: &Line<'_>, width: u16) -> u16 {
    if legend.width() <= usize::from(width) {
        1
    } else {
        2
    }
}

fn draw_entry_bar(app: &App, live: &Live, frame: &mut Frame<'_>, area: Rect) {
    let theme = &app.theme;
    let [bar, preview] =
        Layout::vertical([Constraint::Length(3), Constraint::Length(1)]).areas(area);
    let focused = live.focus == Focus::Entry && live.panel.is_none();
    let title = if live.data.session().ended.is_some() {
        " Chart (session ended: entries are late entries) "
    } else {
        " Chart: bp 128/82 hr 74 · dose … · obs … · @14:05 "
    };
    let text = live.input.text();
    // Scroll so the cursor stays visible in a narrow bar.
    let inner_width = bar.width.saturating_sub(2) as usize;
    let cursor = live.input.cursor();
    let skip = cursor.saturating_sub(inner_width.saturating_sub(1));
    let visible: String = text.chars().skip(skip).take(inner_width).collect();
    frame.render_widget(
        Paragraph::new(visible).block(panel_block(app, title.into(), focused)),
        bar,
    );
    if focused {
        frame.set_cursor_position(Position::new(bar.x + 1 + (cursor - skip) as u16, bar.y + 1));
    }
    let on_timeline = live.focus == Focus::Timeline && live.panel.is_none();
    let line = match &live.preview {
        // The selected entry's author in full, and when it was written.
        _ if on_timeline => live
            .selected_line()
            .map(|l| Line::styled(super::authors::detail(l), theme.dim()))
            .unwrap_or_default(),
        None => Line::styled(" type a line; Enter charts it", theme.dim()),
        Some(Err(e)) => Line::styled(format!(" ✗ {e}"), theme.alert()),
        Some(Ok(entries)) => {
            let mut spans = vec![Span::raw(" → ")];
            if let Some(first) = entries.first() {
                if (app.now - first.event_time).num_seconds() > 59 {
                    spans.push(Span::styled(
                        format!("@{} ", first.event_time.format("%H:%M")),
                        theme.title(),
                    ));
                }
            }
            for (i, e) in entries.iter().enumerate() {
                if i > 0 {
                    spans.push(Span::raw(" + "));
                }
                spans.push(Span::raw(e.payload.to_string()));
                for f in &e.flags {
                    let style = if f.code.is_alert() {
                        theme.alert()
                    } else {
                        theme.caution()
                    };
                    spans.push(Span::styled(format!("  [{f}]"), style));
                }
            }
            Line::from(spans)
        }
    };
    frame.render_widget(line, preview);
}

#[cfg(test)]
#[path = "live_window_tests.rs"]
mod window_tests;
