//! Inline SVG charts for the HTML report: BP and HR over a session with the alert levels,
//! and the outcome measures over a course with their band boundaries. Plain SVG 1.1, no
//! scripts, no external references; each series differs by marker and dash as well as
//! colour, so the charts read in black and white.

use super::html::esc;
use super::{SessionView, short_date};
use crate::domain::measures::{Instrument, MeasureRules, Trend, band_boundaries};
use crate::domain::{AlertThresholds, EntryStatus, FlagCode, Payload};
use chrono::{DateTime, FixedOffset};
use std::fmt::Write;

const W: f64 = 720.0;
const LEFT: f64 = 48.0;
const FONT: &str = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif";

const SYS: &str = "#b3261e";
const DIA: &str = "#1f4e9c";
const HR: &str = "#2e6b30";
const GRID: &str = "#d0d0d0";
const ALERT: &str = "#555555";

/// Coordinates with one decimal, so the output is stable.
fn n(v: f64) -> String {
    let s = format!("{v:.1}");
    let s = s.strip_suffix(".0").map(str::to_string).unwrap_or(s);
    if s == "-0" { "0".to_string() } else { s }
}

fn open(out: &mut String, height: f64, label: &str) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{label}" font-family="{FONT}" font-size="11"><title>{label}</title>"#,
        w = n(W),
        h = n(height),
        label = esc(label),
    );
}

fn text(out: &mut String, x: f64, y: f64, anchor: &str, extra: &str, body: &str) {
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" text-anchor="{anchor}"{extra}>{}</text>"#,
        n(x),
        n(y),
        esc(body)
    );
}

fn line(out: &mut String, (x1, y1): (f64, f64), (x2, y2): (f64, f64), style: &str) {
    let _ = write!(
        out,
        r#"<line x1="{}" y1="{}" x2="{}" y2="{}" {style}/>"#,
        n(x1),
        n(y1),
        n(x2),
        n(y2)
    );
}

fn polyline(out: &mut String, points: &[(f64, f64)], style: &str) {
    if points.len() < 2 {
        return;
    }
    let pts: Vec<String> = points
        .iter()
        .map(|(x, y)| format!("{},{}", n(*x), n(*y)))
        .collect();
    let _ = write!(
        out,
        r#"<polyline points="{}" fill="none" {style}/>"#,
        pts.join(" ")
    );
}

#[derive(Clone, Copy)]
enum Marker {
    /// Systolic: a filled triangle pointing down (the anaesthesia chart's "v").
    Down,
    /// Diastolic: an open triangle pointing up ("^").
    Up,
    /// Heart rate, PHQ-9: a filled circle.
    Dot,
    /// GAD-7: an open square.
    Square,
    /// PCL-5: a filled diamond.
    Diamond,
}

fn marker(out: &mut String, m: Marker, (x, y): (f64, f64), colour: &str) {
    let _ = match m {
        Marker::Down => write!(
            out,
            r#"<path d="M{} {}L{} {}L{} {}Z" fill="{colour}"/>"#,
            n(x - 4.5),
            n(y - 3.5),
            n(x + 4.5),
            n(y - 3.5),
            n(x),
            n(y + 4.5)
        ),
        Marker::Up => write!(
            out,
            r##"<path d="M{} {}L{} {}L{} {}Z" fill="#fff" stroke="{colour}" stroke-width="1.5"/>"##,
            n(x - 4.5),
            n(y + 3.5),
            n(x + 4.5),
            n(y + 3.5),
            n(x),
            n(y - 4.5)
        ),
        Marker::Dot => write!(
            out,
            r#"<circle cx="{}" cy="{}" r="3.2" fill="{colour}"/>"#,
            n(x),
            n(y)
        ),
        Marker::Square => write!(
            out,
            r##"<rect x="{}" y="{}" width="7" height="7" fill="#fff" stroke="{colour}" stroke-width="1.5"/>"##,
            n(x - 3.5),
            n(y - 3.5)
        ),
        Marker::Diamond => write!(
            out,
            r#"<path d="M{} {}L{} {}L{} {}L{} {}Z" fill="{colour}"/>"#,
            n(x),
            n(y - 4.5),
            n(x + 4.5),
            n(y),
            n(x),
            n(y + 4.5),
            n(x - 4.5),
            n(y)
        ),
    };
}

/// Spreads labels (sorted by y) so that none starts closer than `gap` per line of the label
/// above it. A label's lines are separated by '\n'.
fn spread(mut ys: Vec<(f64, String)>, gap: f64) -> Vec<(f64, String)> {
    ys.sort_by(|a, b| a.0.total_cmp(&b.0));
    for i in 1..ys.len() {
        let min = ys[i - 1].0 + gap * ys[i - 1].1.lines().count().max(1) as f64;
        if ys[i].0 < min {
            ys[i].0 = min;
        }
    }
    ys
}

/// Word-wraps `s` to lines of at most `max` characters (a longer word stays whole).
fn wrap(s: &str, max: usize) -> String {
    let mut lines: Vec<String> = Vec::new();
    for word in s.split(' ') {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= max => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines.join("\n")
}

/// A label of one or more lines, `gap` apart, the first line's baseline at `y`.
fn label(out: &mut String, x: f64, y: f64, gap: f64, extra: &str, body: &str) {
    for (i, l) in body.lines().enumerate() {
        text(out, x, y + gap * i as f64, "start", extra, l);
    }
}

/// A tick step that gives at most about ten ticks over `range`.
fn step_for(range: f64, steps: &[f64]) -> f64 {
    steps
        .iter()
        .copied()
        .find(|s| range / s <= 10.0)
        .unwrap_or(*steps.last().unwrap_or(&60.0))
}

/// BP (systolic and diastolic) and HR over the session, x in minutes after the first dose
/// (or after the start when no dose stands), with the alert levels as labelled dashed
/// lines and each dose as a dotted vertical. None when no reading has a BP or an HR.
pub(super) fn session_chart(view: &SessionView<'_>, alerts: &AlertThresholds) -> Option<String> {
    let origin = view.first_dose.unwrap_or(view.rec.period.start);
    let minutes = |at: DateTime<FixedOffset>| (at - origin).num_seconds() as f64 / 60.0;
    struct Point {
        x: f64,
        sys: Option<(f64, f64, bool)>,
        hr: Option<(f64, bool)>,
    }
    let points: Vec<Point> = view
        .lines
        .iter()
        .filter(|l| l.status == EntryStatus::Current)
        .filter_map(|l| match &l.entry.payload {
            Payload::Vitals(v) if v.bp.is_some() || v.hr.is_some() => {
                let has = |c: FlagCode| l.entry.flags.iter().any(|f| f.code == c);
                Some(Point {
                    x: minutes(l.entry.event_time),
                    sys: v.bp.map(|bp| {
                        (
                            f64::from(bp.systolic),
                            f64::from(bp.diastolic),
                            has(FlagCode::BpHigh) || has(FlagCode::BpPredose),
                        )
                    }),
                    hr: v
                        .hr
                        .map(|h| (f64::from(h), has(FlagCode::HrHigh) || has(FlagCode::HrLow))),
                })
            }
            _ => None,
        })
        .collect();
    if points.is_empty() {
        return None;
    }
    let doses: Vec<f64> = view
        .doses()
        .iter()
        .map(|(e, _)| minutes(e.event_time))
        .collect();

    // Axes.
    let data_x = points.iter().map(|p| p.x).chain(doses.iter().copied());
    let lo_x = data_x.clone().fold(0.0_f64, f64::min);
    let hi_x = data_x.fold(30.0_f64, f64::max);
    let x_step = step_for(hi_x - lo_x, &[5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 240.0]);
    let x_min = (lo_x / x_step).floor() * x_step;
    let x_max = ((hi_x / x_step).ceil() * x_step).max(x_min + x_step);
    let values = points.iter().flat_map(|p| {
        p.sys
            .map(|(s, d, _)| [s, d])
            .into_iter()
            .flatten()
            .chain(p.hr.map(|(h, _)| h))
    });
    let thresholds = [
        alerts.systolic_at_or_above,
        alerts.diastolic_at_or_above,
        alerts.hr_above,
        alerts.hr_below,
    ]
    .map(f64::from);
    let lo_y = (values.clone().chain(thresholds).fold(f64::MAX, f64::min) - 5.0).min(40.0);
    let hi_y = values.chain(thresholds).fold(0.0_f64, f64::max) + 10.0;
    let y_step = if hi_y - lo_y > 220.0 { 40.0 } else { 20.0 };
    let y_min = (lo_y / y_step).floor() * y_step;
    let y_max = (hi_y / y_step).ceil() * y_step;

    let (top, bottom, right) = (34.0, 262.0, 590.0);
    let height = 300.0;
    let px = |x: f64| LEFT + (x - x_min) / (x_max - x_min) * (right - LEFT);
    let py = |y: f64| bottom - (y - y_min) / (y_max - y_min) * (bottom - top);

    let mut out = String::new();
    let label = format!(
        "Blood pressure and heart rate over {}, with alert levels",
        view.title()
    );
    open(&mut out, height, &label);

    // Grid and axes.
    let mut y = y_min;
    while y <= y_max + 0.01 {
        line(
            &mut out,
            (LEFT, py(y)),
            (right, py(y)),
            &format!(r#"stroke="{GRID}" stroke-width="0.6""#),
        );
        text(&mut out, LEFT - 5.0, py(y) + 4.0, "end", "", &n(y));
        y += y_step;
    }
    let mut x = x_min;
    while x <= x_max + 0.01 {
        line(
            &mut out,
            (px(x), top),
            (px(x), bottom),
            &format!(r#"stroke="{GRID}" stroke-width="0.6""#),
        );
        text(&mut out, px(x), bottom + 14.0, "middle", "", &n(x));
        x += x_step;
    }
    line(
        &mut out,
        (LEFT, bottom),
        (right, bottom),
        r##"stroke="#222" stroke-width="1""##,
    );
    line(
        &mut out,
        (LEFT, top),
        (LEFT, bottom),
        r##"stroke="#222" stroke-width="1""##,
    );
    let x_title = match view.first_dose {
        Some(d) => format!("minutes after the first dose ({})", view.time(d)),
        None => format!(
            "minutes after the start ({}); no dose charted",
            view.time(view.rec.period.start)
        ),
    };
    text(
        &mut out,
        (LEFT + right) / 2.0,
        bottom + 30.0,
        "middle",
        "",
        &x_title,
    );
    text(
        &mut out,
        14.0,
        (top + bottom) / 2.0,
        "middle",
        &format!(r#" transform="rotate(-90 14 {})""#, n((top + bottom) / 2.0)),
        "mmHg / beats per min",
    );

    // Doses.
    for (i, d) in doses.iter().enumerate() {
        line(
            &mut out,
            (px(*d), top),
            (px(*d), bottom),
            r##"stroke="#222" stroke-width="1" stroke-dasharray="1.5 2.5""##,
        );
        text(
            &mut out,
            px(*d) + 3.0,
            top + 10.0 + 11.0 * (i % 2) as f64,
            "start",
            r#" font-size="10""#,
            &if i == 0 {
                "dose".to_string()
            } else {
                format!("dose {}", i + 1)
            },
        );
    }

    // Alert levels, labelled at the right.
    let levels = [
        (
            alerts.systolic_at_or_above,
            format!("systolic ≥ {}", alerts.systolic_at_or_above),
        ),
        (
            alerts.diastolic_at_or_above,
            format!("diastolic ≥ {}", alerts.diastolic_at_or_above),
        ),
        (alerts.hr_above, format!("HR > {}", alerts.hr_above)),
        (alerts.hr_below, format!("HR < {}", alerts.hr_below)),
    ];
    for (v, _) in &levels {
        line(
            &mut out,
            (LEFT, py(f64::from(*v))),
            (right, py(f64::from(*v))),
            &format!(r#"stroke="{ALERT}" stroke-width="1" stroke-dasharray="6 4""#),
        );
    }
    let labels = spread(
        levels
            .iter()
            .map(|(v, l)| (py(f64::from(*v)) + 4.0, format!("alert {l}")))
            .collect(),
        12.0,
    );
    for (y, l) in labels {
        text(&mut out, right + 6.0, y, "start", r#" font-size="10""#, &l);
    }

    // Series.
    let sys: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|p| p.sys.map(|(s, _, _)| (px(p.x), py(s))))
        .collect();
    let dia: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|p| p.sys.map(|(_, d, _)| (px(p.x), py(d))))
        .collect();
    let hr: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|p| p.hr.map(|(h, _)| (px(p.x), py(h))))
        .collect();
    polyline(
        &mut out,
        &sys,
        &format!(r#"stroke="{SYS}" stroke-width="1.8""#),
    );
    polyline(
        &mut out,
        &dia,
        &format!(r#"stroke="{DIA}" stroke-width="1.8""#),
    );
    polyline(
        &mut out,
        &hr,
        &format!(r#"stroke="{HR}" stroke-width="1.5" stroke-dasharray="4 2""#),
    );
    for p in &sys {
        marker(&mut out, Marker::Down, *p, SYS);
    }
    for p in &dia {
        marker(&mut out, Marker::Up, *p, DIA);
    }
    for p in &hr {
        marker(&mut out, Marker::Dot, *p, HR);
    }
    // Flagged values: "!" and the value beside the point.
    for p in &points {
        if let Some((s, d, true)) = p.sys {
            text(
                &mut out,
                px(p.x) + 6.0,
                py(s) - 5.0,
                "start",
                r#" font-weight="bold""#,
                &format!("{}/{} !", n(s), n(d)),
            );
        }
        if let Some((h, true)) = p.hr {
            text(
                &mut out,
                px(p.x) + 6.0,
                py(h) - 5.0,
                "start",
                r#" font-weight="bold""#,
                &format!("HR {} !", n(h)),
            );
        }
    }

    // Legend, above the plot.
    let mut lx = LEFT;
    let ly = 14.0;
    for (m, colour, name, dash) in [
        (Marker::Down, SYS, "systolic", ""),
        (Marker::Up, DIA, "diastolic", ""),
        (Marker::Dot, HR, "heart rate", r#" stroke-dasharray="4 2""#),
    ] {
        line(
            &mut out,
            (lx, ly - 4.0),
            (lx + 22.0, ly - 4.0),
            &format!(r#"stroke="{colour}" stroke-width="1.8"{dash}"#),
        );
        marker(&mut out, m, (lx + 11.0, ly - 4.0), colour);
        text(&mut out, lx + 27.0, ly, "start", "", name);
        lx += 40.0 + 7.0 * name.len() as f64;
    }
    line(
        &mut out,
        (lx, ly - 4.0),
        (lx + 22.0, ly - 4.0),
        &format!(r#"stroke="{ALERT}" stroke-width="1" stroke-dasharray="6 4""#),
    );
    text(&mut out, lx + 27.0, ly, "start", "", "alert level");
    lx += 40.0 + 7.0 * 11.0;
    line(
        &mut out,
        (lx + 11.0, ly - 10.0),
        (lx + 11.0, ly + 2.0),
        r##"stroke="#222" stroke-width="1" stroke-dasharray="1.5 2.5""##,
    );
    text(&mut out, lx + 20.0, ly, "start", "", "dose");
    lx += 60.0;
    text(&mut out, lx, ly, "start", r#" font-weight="bold""#, "!");
    text(&mut out, lx + 8.0, ly, "start", "", "flagged value");

    out.push_str("</svg>");
    Some(out)
}

fn instrument_style(i: Instrument) -> (Marker, &'static str, &'static str) {
    match i {
        Instrument::Phq9 => (Marker::Dot, "#1f4e9c", ""),
        Instrument::Gad7 => (Marker::Square, "#8a4b08", r#" stroke-dasharray="6 3""#),
        Instrument::Pcl5 => (Marker::Diamond, "#6a1b9a", r#" stroke-dasharray="2 2""#),
    }
}

/// The outcome measures over the course: one panel per instrument (each on its own scale,
/// 0 to its maximum), one line each, every point labelled with its total, the band
/// boundaries as labelled dashed lines, and the dosing sessions marked D1, D2, ... along the
/// time axis. None when there are no measures.
pub(super) fn measures_chart(
    trends: &[Trend],
    rules: &MeasureRules,
    dosing: &[(String, DateTime<FixedOffset>)],
) -> Option<String> {
    if trends.is_empty() {
        return None;
    }
    let times: Vec<DateTime<FixedOffset>> = trends
        .iter()
        .flat_map(|t| t.points.iter().map(|p| p.0))
        .collect();
    let t0 = *times.iter().min()?;
    let t1 = *times.iter().max()?;
    let dosing: Vec<&(String, DateTime<FixedOffset>)> = dosing
        .iter()
        .filter(|(_, at)| *at >= t0 && *at <= t1)
        .collect();

    let (right, pad) = (560.0, 24.0);
    let span = (t1 - t0).num_seconds() as f64;
    let px = |t: DateTime<FixedOffset>| {
        if span <= 0.0 {
            (LEFT + right) / 2.0
        } else {
            LEFT + pad + (t - t0).num_seconds() as f64 / span * (right - LEFT - 2.0 * pad)
        }
    };
    let (panel_h, gap, top) = (92.0, 44.0, 22.0);
    let height = top + trends.len() as f64 * (panel_h + gap) + 10.0;

    let mut out = String::new();
    let names: Vec<&str> = trends.iter().map(|t| t.instrument.name()).collect();
    open(
        &mut out,
        height,
        &format!("Outcome measures over the course: {}", names.join(", ")),
    );

    for (k, trend) in trends.iter().enumerate() {
        let inst = trend.instrument;
        let p_top = top + k as f64 * (panel_h + gap);
        let p_bottom = p_top + panel_h;
        let max = f64::from(inst.max_total());
        let py = |v: f64| p_bottom - v / max * panel_h;
        let (m, colour, dash) = instrument_style(inst);

        text(
            &mut out,
            LEFT,
            p_top - 7.0,
            "start",
            r#" font-weight="bold""#,
            &format!("{} (total 0-{})", inst.name(), inst.max_total()),
        );
        // Frame and scale.
        let _ = write!(
            out,
            r##"<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#222" stroke-width="0.8"/>"##,
            n(LEFT),
            n(p_top),
            n(right - LEFT),
            n(panel_h)
        );
        text(&mut out, LEFT - 5.0, p_bottom + 4.0, "end", "", "0");
        text(&mut out, LEFT - 5.0, p_top + 4.0, "end", "", &n(max));
        // Band boundaries.
        let bands: Vec<(f64, String)> = band_boundaries(inst, rules)
            .into_iter()
            .filter(|(lower, _)| *lower > 0)
            .map(|(lower, name)| {
                let y = py(f64::from(lower));
                line(
                    &mut out,
                    (LEFT, y),
                    (right, y),
                    &format!(r#"stroke="{ALERT}" stroke-width="0.8" stroke-dasharray="5 3""#),
                );
                text(
                    &mut out,
                    LEFT - 5.0,
                    y + 4.0,
                    "end",
                    r#" font-size="9""#,
                    &lower.to_string(),
                );
                (y + 4.0, wrap(&format!("{name} ≥ {lower}"), 26))
            })
            .collect();
        // Labels spread from the bottom up would be upside down; spread top-down.
        for (y, l) in spread(bands, 11.0) {
            label(&mut out, right + 6.0, y, 11.0, r#" font-size="9.5""#, &l);
        }
        // Dosing sessions.
        for (name, at) in &dosing {
            line(
                &mut out,
                (px(*at), p_top),
                (px(*at), p_bottom),
                r##"stroke="#999" stroke-width="0.8" stroke-dasharray="1.5 2.5""##,
            );
            text(
                &mut out,
                px(*at) + 2.0,
                p_top + 10.0,
                "start",
                r##" font-size="9" fill="#555""##,
                name,
            );
        }
        // The line and its points.
        let pts: Vec<(f64, f64)> = trend
            .points
            .iter()
            .map(|(at, total)| (px(*at), py(f64::from(*total))))
            .collect();
        polyline(
            &mut out,
            &pts,
            &format!(r#"stroke="{colour}" stroke-width="1.8"{dash}"#),
        );
        for ((x, y), (_, total)) in pts.iter().zip(&trend.points) {
            marker(&mut out, m, (*x, *y), colour);
            // Above the point, or below when it is near the top.
            let ly = if *y - p_top < 14.0 { y + 15.0 } else { y - 7.0 };
            text(
                &mut out,
                *x,
                ly,
                "middle",
                r#" font-weight="bold" font-size="10""#,
                &total.to_string(),
            );
        }
        // Dates under each panel, skipping any that would overlap.
        let mut last: Option<f64> = None;
        let mut dates: Vec<DateTime<FixedOffset>> = trend.points.iter().map(|p| p.0).collect();
        dates.dedup_by_key(|d| d.date_naive());
        for d in dates {
            let x = px(d);
            if last.is_some_and(|l| x - l < 58.0) {
                continue;
            }
            last = Some(x);
            line(
                &mut out,
                (x, p_bottom),
                (x, p_bottom + 4.0),
                r##"stroke="#222" stroke-width="0.8""##,
            );
            text(
                &mut out,
                x,
                p_bottom + 15.0,
                "middle",
                r#" font-size="9.5""#,
                &short_date(d.date_naive()),
            );
        }
    }
    out.push_str("</svg>");
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_stable() {
        assert_eq!(n(12.0), "12");
        assert_eq!(n(12.26), "12.3");
        assert_eq!(n(-0.01), "0");
        assert_eq!(n(-3.04), "-3");
    }

    #[test]
    fn labels_are_spread_apart() {
        let got = spread(vec![(100.0, "a".into()), (95.0, "b".into())], 12.0);
        assert_eq!(got[0], (95.0, "b".to_string()));
        assert_eq!(got[1], (107.0, "a".to_string()));
        let got = spread(vec![(100.0, "a".into()), (95.0, "b\nc".into())], 12.0);
        assert_eq!(got[1].0, 119.0);
    }

    #[test]
    fn long_labels_wrap_at_words() {
        assert_eq!(
            wrap("at or above provisional cut-off ≥ 33", 26),
            "at or above provisional\ncut-off ≥ 33"
        );
        assert_eq!(wrap("mild ≥ 5", 26), "mild ≥ 5");
    }
}
