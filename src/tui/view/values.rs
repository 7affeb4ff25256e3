//! Values as the timeline and the flowsheet show them: a value that earned an alert carries
//! `!` right after it (`172/108!`, `86%!`, `MOAA/S 1!`), so nothing rests on colour and the
//! mark goes wherever the value goes.

use crate::domain::entry::{VitalSigns, trim_number};
use crate::domain::{ChartLine, FlagCode, Payload};
use crate::tui::theme::{ALERT, LATE, Theme};
use ratatui::style::Style;
use ratatui::text::Span;

/// Which of a reading's values earned an alert.
#[derive(Debug, Clone, Copy, Default)]
pub struct VitalAlerts {
    pub bp: bool,
    pub hr: bool,
    pub spo2: bool,
    pub rr: bool,
}

impl VitalAlerts {
    pub fn of(line: &ChartLine) -> Self {
        let has = |codes: &[FlagCode]| line.entry.flags.iter().any(|f| codes.contains(&f.code));
        VitalAlerts {
            bp: has(&[FlagCode::BpHigh, FlagCode::BpPredose]),
            hr: has(&[FlagCode::HrHigh, FlagCode::HrLow]),
            spo2: has(&[FlagCode::Spo2Low]),
            rr: has(&[FlagCode::RrLow]),
        }
    }
}

/// A value with its mark when it earned an alert: `172/108!` in the alert style.
pub fn value<'a>(text: String, alert: bool, theme: &Theme, plain: Style) -> Span<'a> {
    if alert {
        Span::styled(format!("{text}{ALERT}"), theme.alert())
    } else {
        Span::styled(text, plain)
    }
}

/// The flowsheet's texts for a reading: BP, HR, SpO2, RR, temperature.
pub fn vital_texts(v: &VitalSigns) -> [Option<String>; 5] {
    [
        v.bp.map(|bp| format!("{}/{}", bp.systolic, bp.diastolic)),
        v.hr.map(|x| x.to_string()),
        v.spo2.map(|x| format!("{x}%")),
        v.rr.map(|x| x.to_string()),
        v.temp_c.map(|t| trim_number(t, 1)),
    ]
}

/// An entry's content for the timeline, each alerting value marked where it stands; the
/// payload's own words otherwise.
pub fn content<'a>(line: &ChartLine, theme: &Theme, style: Style) -> Vec<Span<'a>> {
    let flagged = |code: FlagCode| line.entry.flags.iter().any(|f| f.code == code);
    let text = |s: String| Span::styled(s, style);
    match &line.entry.payload {
        Payload::Vitals(v) => {
            let alerts = VitalAlerts::of(line);
            let [bp, hr, spo2, rr, temp] = vital_texts(v);
            let parts = [
                ("BP ", bp, alerts.bp, ""),
                ("HR ", hr, alerts.hr, ""),
                ("SpO2 ", spo2, alerts.spo2, ""),
                ("RR ", rr, alerts.rr, ""),
                ("T ", temp, false, " °C"),
            ];
            let mut spans = Vec::new();
            for (label, value_text, alert, unit) in parts {
                let Some(v) = value_text else { continue };
                if !spans.is_empty() {
                    spans.push(text(" · ".into()));
                }
                spans.push(text(label.into()));
                spans.push(value(format!("{v}{unit}"), alert, theme, style));
            }
            spans
        }
        Payload::Sedation(s) => vec![
            text("MOAA/S ".into()),
            value(
                s.moaas.to_string(),
                flagged(FlagCode::DeepSedation),
                theme,
                style,
            ),
        ],
        Payload::Dissociation(d) => {
            let items: Vec<String> = d.cadss6.iter().map(u8::to_string).collect();
            vec![
                text("CADSS-6 ".into()),
                value(
                    d.total().to_string(),
                    flagged(FlagCode::Dissociation),
                    theme,
                    style,
                ),
                text(format!(" (items {})", items.join(" "))),
            ]
        }
        Payload::Respiration(r) => {
            let mut spans = vec![
                text("Respiration: ".into()),
                value(
                    if r.depressed { "depressed" } else { "ok" }.into(),
                    flagged(FlagCode::RespDepressed),
                    theme,
                    style,
                ),
            ];
            if let Some(n) = &r.note {
                spans.push(text(format!(" · {n}")));
            }
            spans
        }
        p => vec![text(p.to_string())],
    }
}

/// Marks for the flags `content` does not show beside a value: "!dose", "pre-dose",
/// "late", "no lot", "short rest".
pub fn other_marks(line: &ChartLine) -> String {
    line.entry
        .flags
        .iter()
        .filter_map(|f| match f.code {
            FlagCode::BpPredose => Some("pre-dose".to_string()),
            FlagCode::DoseHigh => Some(format!("{ALERT}dose")),
            FlagCode::Late => Some(LATE.to_string()),
            FlagCode::LotMissing => Some("no lot".to_string()),
            FlagCode::DeviceRest => Some("short rest".to_string()),
            FlagCode::BpHigh
            | FlagCode::Spo2Low
            | FlagCode::HrHigh
            | FlagCode::HrLow
            | FlagCode::RrLow
            | FlagCode::DeepSedation
            | FlagCode::Dissociation
            | FlagCode::RespDepressed => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
}
