//! The report as one self-contained HTML file: inline CSS and SVG only (no scripts, no
//! fonts, images or style sheets from anywhere), laid out to print on A4 or Letter.

use super::svg;
use super::{
    CourseView, FlowRow, SessionView, brief_entries, corrected_count, is_course, long_date,
    measures_with_change, short_date, signed, stamp,
};
use crate::domain::course::Note;
use crate::domain::discharge::{ALDRETE_ITEMS, aldrete_items};
use crate::domain::entry::trim_number;
use crate::domain::measures::{MeasureRules, meaningful_change, needs_risk_assessment, trends};
use crate::domain::{AlertThresholds, SessionKind};
use crate::export::Record;
use std::fmt::Write;

macro_rules! w {
    ($out:expr, $($arg:tt)*) => {
        let _ = write!($out, $($arg)*);
    };
}

/// Escapes text for HTML content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes text for a CSS string in double quotes inside a `<style>` element.
fn css_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' | '<' | '>' | '&' => {
                w!(out, "\\{:X} ", u32::from(c));
            }
            c if c.is_control() => {
                w!(out, "\\{:X} ", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

const CSS: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
html { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; font-size: 10pt; color: #111; background: #fff; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0 auto; max-width: 200mm; padding: 8mm 7mm; line-height: 1.35; }
h1 { font-size: 15pt; margin: 0 0 2mm; }
h2 { font-size: 13pt; margin: 0 0 2mm; }
h3 { font-size: 11pt; margin: 5mm 0 1.5mm; padding-bottom: 0.5mm; border-bottom: 0.75pt solid #666; break-after: avoid; page-break-after: avoid; }
h4 { font-size: 10pt; margin: 3mm 0 1mm; break-after: avoid; page-break-after: avoid; }
p { margin: 1mm 0 2mm; }
section.sheet + section.sheet { break-before: page; page-break-before: always; }
.sheet-head { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 0 6mm; border: 1pt solid #111; padding: 1.5mm 3mm; margin-bottom: 3mm; font-size: 9pt; break-inside: avoid; page-break-inside: avoid; }
.sheet-head .pname { font-weight: bold; font-size: 10.5pt; }
.sheet-head .exported { flex-basis: 100%; color: #444; font-size: 8pt; }
table { width: 100%; border-collapse: collapse; font-size: 8.5pt; margin: 1mm 0 2mm; }
th, td { border: 0.5pt solid #8a8a8a; padding: 0.7mm 1.2mm; text-align: left; vertical-align: top; overflow-wrap: break-word; }
td.id, td.kind { white-space: nowrap; }
td.who { white-space: nowrap; }
th { background: #eee; font-weight: bold; }
thead { display: table-header-group; }
tr, figure, .keep, .sig, .addendum-head { break-inside: avoid; page-break-inside: avoid; }
.sig, .addendum-head { break-after: avoid; page-break-after: avoid; }
table.facts { width: auto; min-width: 60%; }
.cols { display: flex; gap: 4mm; align-items: flex-start; }
.cols > div { flex: 1 1 0; min-width: 0; }
.cols table.facts { width: 100%; min-width: 0; }
.cols table.facts th { width: 30mm; }
table.facts th { width: 38mm; background: #f4f4f4; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.time { white-space: nowrap; }
.flagged { font-weight: bold; }
.mark { font-weight: bold; }
.label { display: inline-block; font-weight: bold; font-size: 8pt; border: 0.6pt solid #111; padding: 0 0.8mm; margin: 0.3mm 0; }
tr.struck td, tr.amended td { color: #3a3a3a; }
s { text-decoration: line-through; text-decoration-thickness: 1pt; }
.small { font-size: 8pt; }
.muted { color: #444; }
.legend { font-size: 8pt; color: #222; margin: 0 0 2mm; }
figure { margin: 1mm 0 2mm; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { font-size: 8pt; color: #333; }
pre.note { white-space: pre-wrap; overflow-wrap: anywhere; font-family: "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: 8.5pt; line-height: 1.3; border: 0.6pt solid #8a8a8a; padding: 2mm 2.5mm; margin: 1mm 0 2mm; background: #fafafa; }
code.hash { font-family: "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: 8pt; overflow-wrap: anywhere; }
.draft { border: 1.5pt dashed #111; padding: 2mm 3mm; }
.draft strong { font-size: 11pt; }
.safety { border: 1.5pt solid #111; padding: 1.5mm 3mm; font-weight: bold; }
ol, ul { margin: 1mm 0 2mm; padding-left: 6mm; }
@media print {
  body { max-width: none; padding: 0; }
  th { background: #eee; }
}
"#;

/// The HTML report of `record`: for one session, the session in full; for several (a
/// course), the course summary, then each dosing session in full, then the other sessions
/// briefly. `alerts` gives the levels drawn on the BP/HR chart and named in the flowsheet
/// legend; `rules` the PCL-5 cut-off drawn on the measures chart.
pub fn html(record: &Record, alerts: &AlertThresholds, rules: &MeasureRules) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let p = &record.patient;
    let title = if is_course(record) {
        format!("KAP course record: {}", p.name)
    } else {
        let v = SessionView::new(&record.sessions[0]);
        format!(
            "KAP {} record: {}, {}",
            v.title(),
            p.name,
            short_date(v.day())
        )
    };
    let mrn = p
        .mrn
        .as_deref()
        .map(|m| format!(" · MRN {m}"))
        .unwrap_or_default();
    let running_head = format!("{} · DOB {}{mrn}", p.name, short_date(p.dob));
    let running_right = format!("KAP record · exported {}", stamp(record.exported));
    w!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"kapchart\">\n<title>{}</title>\n<style>{CSS}\
         @page {{ margin: 15mm 12mm 14mm 12mm;\n  \
         @top-left {{ content: {}; font-size: 8pt; color: #333; }}\n  \
         @top-right {{ content: {}; font-size: 8pt; color: #333; }}\n  \
         @bottom-right {{ content: \"page \" counter(page) \" of \" counter(pages); font-size: 8pt; color: #333; }}\n}}\n\
         </style>\n</head>\n<body>\n",
        esc(&title),
        css_string(&running_head),
        css_string(&running_right),
    );

    if is_course(record) {
        course_summary(&mut out, record, rules);
        for s in record
            .sessions
            .iter()
            .filter(|s| s.session.kind == SessionKind::Dosing)
        {
            session(&mut out, record, &SessionView::new(s), alerts);
        }
        other_sessions(&mut out, record);
    } else {
        session(
            &mut out,
            record,
            &SessionView::new(&record.sessions[0]),
            alerts,
        );
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn sheet_head(out: &mut String, record: &Record, right: &str, age: u32, age_when: &str) {
    let p = &record.patient;
    w!(
        out,
        "<div class=\"sheet-head\"><div><span class=\"pname\">{}</span> · DOB {} (age {age} {age_when}){}</div>\
         <div>{}</div><div class=\"exported\">kapchart record · exported at {}</div></div>\n",
        esc(&p.name),
        esc(&short_date(p.dob)),
        p.mrn
            .as_deref()
            .map(|m| format!(" · MRN {}", esc(m)))
            .unwrap_or_else(|| " · no MRN".into()),
        right,
        esc(&stamp(record.exported)),
    );
}

fn fact(out: &mut String, name: &str, value_html: &str) {
    w!(
        out,
        "<tr><th>{}</th><td>{value_html}</td></tr>\n",
        esc(name)
    );
}

// ---------------------------------------------------------------------------------------
// A session in full

fn session(out: &mut String, record: &Record, v: &SessionView<'_>, alerts: &AlertThresholds) {
    let s = &v.rec.session;
    w!(
        out,
        "<section class=\"sheet session\" id=\"session-{}\">\n",
        s.id
    );
    let right = format!(
        "<strong>{}</strong> · session #{} · {} · {} ({})",
        esc(&capitalised(&v.title())),
        s.id,
        esc(&long_date(v.day())),
        esc(&v.span()),
        esc(&v.utc_offset())
    );
    sheet_head(
        out,
        record,
        &right,
        record.patient.age_on(v.day()),
        "at the session",
    );
    w!(
        out,
        "<h2>{} — {}</h2>\n",
        esc(&capitalised(&v.title())),
        esc(&long_date(v.day()))
    );

    out.push_str("<table class=\"facts keep\">\n");
    let mut kind = format!("{} (number {} of its kind)", s.kind, v.rec.number_in_course);
    if s.kind == SessionKind::Dosing {
        let planned = record.course.as_ref().map(|c| c.planned_dosing);
        if let Some(planned) = planned {
            kind = format!("dosing {} of {planned} planned", v.rec.number_in_course);
        }
    }
    fact(out, "Session", &esc(&format!("{kind}; session #{}", s.id)));
    fact(out, "Date", &esc(&long_date(v.day())));
    fact(
        out,
        "Start – end",
        &esc(&format!("{} (times are {})", v.span(), v.utc_offset())),
    );
    fact(out, "Clinician(s)", &esc(&v.clinicians.join(", ")));
    if let Some(i) = &s.intention {
        fact(out, "Intention", &esc(&format!("“{i}”")));
    }
    if let Some(d) = s.dosing_session_id {
        fact(out, "Integrates", &esc(&format!("dosing session #{d}")));
    }
    out.push_str("</table>\n");

    if s.kind == SessionKind::Dosing || !v.doses().is_empty() {
        doses(out, v);
    }
    vitals(out, v, alerts);
    checks(out, v);
    session_measures(out, v);
    timeline(out, v);
    let discharge = v.discharge();
    if s.kind == SessionKind::Dosing || !discharge.is_empty() {
        discharge_section(out, v);
    }
    if s.kind == SessionKind::Dosing || v.rec.note.is_some() {
        note(out, v.rec.note.as_ref());
    }
    out.push_str("</section>\n");
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn doses(out: &mut String, v: &SessionView<'_>) {
    out.push_str("<h3>Doses</h3>\n");
    let doses = v.doses();
    if doses.is_empty() {
        out.push_str("<p>No dose charted.</p>\n");
        return;
    }
    out.push_str(
        "<table class=\"doses\"><thead><tr><th>Time</th><th>T+</th><th>Drug</th><th class=\"num\">Dose</th>\
         <th>Route</th><th>Over</th><th class=\"num\">Total mg</th><th>Entry</th><th>Author</th></tr></thead><tbody>\n",
    );
    for (e, d) in &doses {
        let dose = match d.weight_kg {
            Some(kg) if d.unit == crate::domain::DoseUnit::MgPerKg => format!(
                "{} {} × {} kg",
                trim_number(d.amount, 3),
                d.unit.label(),
                trim_number(kg, 1)
            ),
            _ => format!("{} {}", trim_number(d.amount, 3), d.unit.label()),
        };
        let dose = SessionView::dose_with_details(dose, d);
        w!(
            out,
            "<tr><td class=\"time\">{}</td><td class=\"time\">{}</td><td>{}</td><td class=\"num\">{}</td>\
             <td>{}</td><td>{}</td><td class=\"num\"><strong>{} mg</strong></td><td>#{}</td><td>{}</td></tr>\n",
            esc(&v.time(e.event_time)),
            esc(&v.t_plus(e.event_time)),
            esc(&d.drug),
            esc(&dose),
            d.route.label(),
            d.over_min.map(|m| format!("{m} min")).unwrap_or_default(),
            trim_number(d.total_mg, 2),
            e.id,
            esc(&e.author),
        );
    }
    out.push_str("</tbody></table>\n");
    let totals = v.dose_totals();
    if !totals.is_empty() {
        let t: Vec<String> = totals
            .iter()
            .map(|(drug, mg)| format!("{drug} {} mg", trim_number(*mg, 2)))
            .collect();
        w!(out, "<p>Total: {}</p>\n", esc(&t.join("; ")));
    }
}

fn value_cell(out: &mut String, value: Option<String>, flagged: bool) {
    match value {
        Some(v) if flagged => {
            w!(
                out,
                "<td class=\"num flagged\">{} <span class=\"mark\">!</span></td>",
                esc(&v)
            );
        }
        Some(v) => {
            w!(out, "<td class=\"num\">{}</td>", esc(&v));
        }
        None => out.push_str("<td class=\"num muted\">–</td>"),
    }
}

fn flow_row(out: &mut String, v: &SessionView<'_>, r: &FlowRow<'_>) {
    let signs = r.signs();
    out.push_str("<tr>");
    w!(
        out,
        "<td class=\"time\">{}</td><td class=\"time\">{}</td>",
        esc(&v.time(r.at)),
        esc(&v.t_plus(r.at))
    );
    value_cell(
        out,
        signs
            .and_then(|s| s.bp)
            .map(|bp| format!("{}/{}", bp.systolic, bp.diastolic)),
        r.bp_flagged(),
    );
    value_cell(
        out,
        signs.and_then(|s| s.hr).map(|h| h.to_string()),
        r.hr_flagged(),
    );
    value_cell(
        out,
        signs.and_then(|s| s.spo2).map(|x| format!("{x}%")),
        r.has(crate::domain::FlagCode::Spo2Low),
    );
    value_cell(
        out,
        signs.and_then(|s| s.rr).map(|x| x.to_string()),
        r.has(crate::domain::FlagCode::RrLow),
    );
    value_cell(
        out,
        signs.and_then(|s| s.temp_c).map(|t| trim_number(t, 1)),
        false,
    );
    value_cell(
        out,
        r.moaas().map(|m| m.to_string()),
        r.has(crate::domain::FlagCode::DeepSedation),
    );
    let entry = r.entry();
    let corrected = if entry.corrects.is_some() { " †" } else { "" };
    let late = if r.has(crate::domain::FlagCode::Late) {
        " late"
    } else {
        ""
    };
    w!(out, "<td>#{}{corrected}{late}</td></tr>\n", entry.id);
}

/// The protocol's checks of a dosing session; missed and late ones marked (not by colour
/// alone: the state says it in words, in bold).
fn checks(out: &mut String, v: &SessionView<'_>) {
    let rows = v.check_rows();
    if rows.is_empty() {
        return;
    }
    out.push_str(
        "<h3>Protocol checks</h3>\n<table class=\"checks\"><thead><tr><th>Check</th><th>Due</th><th>T+</th>\
         <th>State</th><th>Entry</th></tr></thead><tbody>\n",
    );
    for r in rows {
        let state = if r.lapse {
            format!("<strong class=\"flagged\">{}</strong>", esc(&r.state))
        } else {
            esc(&r.state)
        };
        w!(
            out,
            "<tr><td>{}</td><td class=\"time\">{}</td><td class=\"time\">{}</td><td>{state}</td><td>{}</td></tr>\n",
            esc(&r.check),
            esc(&r.due),
            esc(&r.t_plus),
            esc(&r.entry)
        );
    }
    w!(
        out,
        "</tbody></table>\n<p>{}</p>\n",
        esc(&v.check_summary())
    );
}

fn vitals(out: &mut String, v: &SessionView<'_>, alerts: &AlertThresholds) {
    let rows = v.flow_rows();
    if rows.is_empty() {
        if v.kind() == SessionKind::Dosing {
            out.push_str("<h3>Vitals</h3>\n<p>No vitals charted.</p>\n");
        }
        return;
    }
    out.push_str("<h3>Vitals</h3>\n");
    if let Some(chart) = svg::session_chart(v, alerts) {
        w!(
            out,
            "<figure class=\"chart\">{chart}<figcaption>Blood pressure and heart rate; dashed lines are the clinic's alert levels (systolic ≥ {}, diastolic ≥ {}, HR &gt; {}, HR &lt; {}).</figcaption></figure>\n",
            alerts.systolic_at_or_above,
            alerts.diastolic_at_or_above,
            alerts.hr_above,
            alerts.hr_below
        );
    }
    out.push_str(
        "<table class=\"flowsheet\"><thead><tr><th>Time</th><th>T+</th><th class=\"num\">BP</th><th class=\"num\">HR</th>\
         <th class=\"num\">SpO2</th><th class=\"num\">RR</th><th class=\"num\">Temp °C</th><th class=\"num\">MOAA/S</th><th>Entry</th></tr></thead><tbody>\n",
    );
    for r in &rows {
        flow_row(out, v, r);
    }
    out.push_str("</tbody></table>\n");
    w!(
        out,
        "<p class=\"legend\"><span class=\"mark\">!</span> flagged when charted: BP at or above {}/{} \
         (before the first dose: above {}/{}, a pre-dose caution), HR above {} or below {}, SpO2 below {}%, \
         RR below {}, MOAA/S at or below {} (levels as now configured; each flag's own words are in the timeline). \
         † a corrected reading (it replaces an earlier entry). Amended originals and struck readings are left out \
         here and shown in the timeline. A MOAA/S score within 3 minutes of a reading shares its row.</p>\n",
        alerts.systolic_at_or_above,
        alerts.diastolic_at_or_above,
        alerts.predose_systolic_above,
        alerts.predose_diastolic_above,
        alerts.hr_above,
        alerts.hr_below,
        alerts.spo2_below,
        alerts.rr_below,
        alerts.moaas_at_or_below,
    );
}

fn session_measures(out: &mut String, v: &SessionView<'_>) {
    let measures = v.measures();
    if measures.is_empty() {
        return;
    }
    out.push_str(
        "<h3>Questionnaires</h3>\n<table class=\"measures\"><thead><tr><th>Time</th><th>Measure</th>\
         <th class=\"num\">Total</th><th>Band</th><th>Answers</th><th>Entry</th></tr></thead><tbody>\n",
    );
    for (e, m) in measures {
        let item9 = if needs_risk_assessment(m) {
            format!(
                " <span class=\"mark\">! item 9 answered {}: structured risk assessment needed</span>",
                m.items[8]
            )
        } else {
            String::new()
        };
        let answers: Vec<String> = m.items.iter().map(u8::to_string).collect();
        w!(
            out,
            "<tr><td class=\"time\">{}</td><td>{}</td><td class=\"num\">{}</td><td>{}{item9}</td><td class=\"small\">{}</td><td class=\"id\">#{}</td></tr>\n",
            esc(&v.time(e.event_time)),
            m.instrument.name(),
            m.total,
            esc(&m.band),
            answers.join(" "),
            e.id
        );
    }
    out.push_str("</tbody></table>\n");
}

fn timeline(out: &mut String, v: &SessionView<'_>) {
    out.push_str("<h3>Timeline</h3>\n");
    let rows = v.timeline();
    if rows.is_empty() {
        out.push_str("<p>No entries.</p>\n");
        return;
    }
    out.push_str(
        "<table class=\"timeline\"><thead><tr><th>#</th><th>Time</th><th>T+</th><th>Kind</th>\
         <th>Entry</th><th>Author</th></tr></thead><tbody>\n",
    );
    for r in &rows {
        let class = if r.struck.is_some() {
            " class=\"struck\""
        } else if r.amended.is_some() {
            " class=\"amended\""
        } else {
            ""
        };
        let mut time = esc(&r.time);
        if let Some(written) = r.written() {
            w!(time, "<br><span class=\"small\">{}</span>", esc(&written));
        }
        let mut entry = if r.struck.is_some() {
            format!("<s>{}</s>", esc(&r.content))
        } else {
            esc(&r.content)
        };
        if let Some(c) = &r.corrects {
            w!(entry, "<br><span class=\"label\">{}</span>", esc(c));
        }
        if let Some(s) = &r.struck {
            w!(entry, "<br><span class=\"label\">{}</span>", esc(s));
        }
        if let Some(a) = &r.amended {
            w!(entry, "<br><span class=\"label\">{}</span>", esc(a));
        }
        for f in &r.flags {
            w!(entry, "<br><span class=\"flagged\">{}</span>", esc(f));
        }
        w!(
            out,
            "<tr{class}><td class=\"id\">#{}</td><td class=\"time\">{time}</td><td class=\"time\">{}</td><td class=\"kind\">{}</td><td>{entry}</td><td class=\"who\">{}</td></tr>\n",
            r.id(),
            esc(&r.t_plus),
            esc(r.kind),
            esc(r.author()),
        );
    }
    out.push_str("</tbody></table>\n");
    out.push_str(
        "<p class=\"legend\">Every entry as written, in event-time order; nothing is deleted. \
         <s>Struck</s> entries are withdrawn, labelled “struck: reason”; amended entries are replaced by \
         the entry named. “written” is when an entry was typed, shown when it differs from when it \
         happened; “late” marks a late entry. <strong>!</strong> an alert flag.</p>\n",
    );
}

fn discharge_section(out: &mut String, v: &SessionView<'_>) {
    out.push_str("<h3>Discharge</h3>\n");
    let d = v.discharge();
    out.push_str("<table class=\"facts keep\">\n");
    match d.aldrete() {
        Some(a) => {
            let at = d
                .aldrete_at
                .map(|t| format!(" at {} ({})", v.time(t), v.t_plus(t)))
                .unwrap_or_default();
            let items: Vec<String> = ALDRETE_ITEMS
                .iter()
                .zip(aldrete_items(&a))
                .map(|(item, score)| {
                    format!(
                        "{} {score} ({})",
                        item.name,
                        item.describe(score).unwrap_or("?")
                    )
                })
                .collect();
            fact(
                out,
                "Modified Aldrete",
                &format!(
                    "<strong>{}/10</strong>{}<br><span class=\"small\">{}</span>",
                    a.total(),
                    esc(&at),
                    esc(&items.join("; "))
                ),
            );
        }
        None => fact(out, "Modified Aldrete", "not recorded"),
    }
    fact(
        out,
        "Ride home",
        &d.state
            .ride
            .as_deref()
            .map(esc)
            .unwrap_or_else(|| "not recorded".into()),
    );
    fact(
        out,
        "Ready to leave",
        &d.state
            .ready_at
            .map(|t| esc(&format!("{} ({})", v.time(t), v.t_plus(t))))
            .unwrap_or_else(|| "not recorded".into()),
    );
    let ended = match (&d.ended, v.rec.session.ended) {
        (Some((at, end)), _) => {
            let reason = end
                .reason
                .as_deref()
                .map(|r| format!("; ended against a discharge reminder, reason: {r}"))
                .unwrap_or_else(|| "; no end reason needed".into());
            esc(&format!("{} ({}){reason}", v.time(*at), v.t_plus(*at)))
        }
        (None, Some(at)) => esc(&v.time(at)),
        (None, None) => "not ended".into(),
    };
    fact(out, "Session ended", &ended);
    out.push_str("</table>\n");
}

fn note(out: &mut String, note: Option<&Note>) {
    out.push_str("<h3>Integration note</h3>\n");
    let Some(n) = note else {
        out.push_str("<p>No integration note yet.</p>\n");
        return;
    };
    match &n.signature {
        Some(sig) => {
            w!(
                out,
                "<div class=\"sig keep\"><p><strong>Signed</strong> by {} at {} · {} note #{}</p>\
                 <p>SHA-256 of the signed text: <code class=\"hash\">{}</code></p>",
                esc(&sig.signer),
                esc(&stamp(sig.signed)),
                esc(&n.format.to_uppercase()),
                n.id,
                esc(&sig.sha256),
            );
            if let Some(r) = &sig.reason {
                w!(out, "<p>Signed with open items, reason: {}</p>", esc(r));
            }
            out.push_str("</div>\n");
            w!(out, "<pre class=\"note\">{}</pre>\n", esc(&sig.text));
            for (i, a) in n.addenda.iter().enumerate() {
                w!(
                    out,
                    "<div class=\"addendum-head\"><h4>Addendum {} — {} at {}</h4>\
                     <p>SHA-256: <code class=\"hash\">{}</code></p></div>\n<pre class=\"note\">{}</pre>\n",
                    i + 1,
                    esc(&a.author),
                    esc(&stamp(a.at)),
                    esc(&a.sha256),
                    esc(&a.text),
                );
            }
        }
        None => {
            let saved = n
                .draft
                .as_ref()
                .map(|d| format!("last saved {}", stamp(d.saved)))
                .unwrap_or_else(|| "no text yet".into());
            w!(
                out,
                "<div class=\"draft keep\"><p><strong>DRAFT — not signed</strong></p>\
                 <p>{} note #{} opened by {} at {}; {}. The draft text is left out of this record until \
                 the note is signed.</p></div>\n",
                esc(&n.format.to_uppercase()),
                n.id,
                esc(&n.author),
                esc(&stamp(n.created)),
                esc(&saved),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// The course

fn course_summary(out: &mut String, record: &Record, rules: &MeasureRules) {
    let p = &record.patient;
    let cv = CourseView::new(record);
    out.push_str("<section class=\"sheet course\" id=\"course\">\n");
    sheet_head(
        out,
        record,
        "<strong>Course summary</strong>",
        p.age_on(record.exported.date_naive()),
        "at export",
    );
    w!(out, "<h1>KAP course summary: {}</h1>\n", esc(&p.name));
    if let Some(f) = &cv.safety_flag {
        w!(
            out,
            "<p class=\"safety\">! SAFETY: {}</p>\n",
            esc(&f.to_string())
        );
    }

    out.push_str("<div class=\"cols\"><div>\n<h3>Patient</h3>\n<table class=\"facts keep\">\n");
    fact(out, "Name", &esc(&p.name));
    fact(
        out,
        "Date of birth",
        &esc(&format!(
            "{} (age {} at export)",
            short_date(p.dob),
            p.age_on(record.exported.date_naive())
        )),
    );
    fact(
        out,
        "MRN",
        &esc(p.mrn.as_deref().unwrap_or("none recorded")),
    );
    let d = &record.details;
    if let Some(kg) = d.weight_kg.or(p.weight_kg) {
        fact(out, "Weight", &esc(&format!("{} kg", trim_number(kg, 1))));
    }
    if !d.medications.is_empty() {
        fact(out, "Medications", &esc(&d.medications.join("; ")));
    }
    if let Some(c) = &d.emergency_contact {
        fact(out, "Emergency contact", &esc(c));
    }
    if let Some(c) = &d.ride_contact {
        fact(out, "Usual ride home", &esc(c));
    }
    fact(out, "Clinician(s)", &esc(&record.clinicians.join(", ")));
    out.push_str("</table>\n");

    out.push_str("</div><div>\n<h3>Course plan</h3>\n<table class=\"facts keep\">\n");
    match &record.course {
        Some(c) => fact(out, "Started", &esc(&long_date(c.started.date_naive()))),
        None => fact(out, "Started", "no course plan recorded"),
    }
    fact(out, "Planned dosing sessions", &format!("{}", cv.planned));
    fact(
        out,
        "Progress",
        &format!("<strong>{}</strong>", esc(&cv.progress())),
    );
    let goals = record.course.as_ref().map(|c| &c.goals[..]).unwrap_or(&[]);
    if goals.is_empty() {
        fact(out, "Goals", "none recorded");
    } else {
        let items: Vec<String> = goals
            .iter()
            .map(|g| format!("<li>{}</li>", esc(g)))
            .collect();
        fact(out, "Goals", &format!("<ol>{}</ol>", items.concat()));
    }
    out.push_str("</table>\n");

    out.push_str("</div></div>\n");
    sessions_table(out, record);
    course_measures(out, record, rules);
    out.push_str("</section>\n");
}

fn course_measures(out: &mut String, record: &Record, rules: &MeasureRules) {
    out.push_str("<h3>Outcome measures</h3>\n");
    if record.measures.is_empty() {
        out.push_str("<p>No questionnaires recorded.</p>\n");
        return;
    }
    let points: Vec<_> = record
        .measures
        .iter()
        .map(|(_, at, m)| (*at, m.clone()))
        .collect();
    let trends = trends(&points);
    let dosing: Vec<(String, chrono::DateTime<chrono::FixedOffset>)> = record
        .sessions
        .iter()
        .filter(|s| s.session.kind == SessionKind::Dosing)
        .map(|s| (format!("D{}", s.number_in_course), s.session.started))
        .collect();
    if let Some(chart) = svg::measures_chart(&trends, rules, &dosing) {
        w!(
            out,
            "<figure class=\"chart\">{chart}<figcaption>Totals over the course, one panel per questionnaire on its own scale; \
             dashed lines are the band boundaries; dotted verticals D1, D2, … are dosing sessions.</figcaption></figure>\n"
        );
    }
    out.push_str(
        "<table class=\"trends keep\"><thead><tr><th>Measure</th><th class=\"num\">Baseline</th><th class=\"num\">Latest</th>\
         <th class=\"num\">Change</th><th>Note</th></tr></thead><tbody>\n",
    );
    for t in &trends {
        let (first, last) = (t.points.first(), t.points.last());
        let when = |p: Option<&(chrono::DateTime<chrono::FixedOffset>, u16)>| {
            p.map(|(at, total)| format!("{total} ({})", short_date(at.date_naive())))
                .unwrap_or_default()
        };
        let change = t.change.unwrap_or(0);
        let mut note = format!("{} readings", t.points.len());
        if let Some(m) = meaningful_change(t.instrument, change) {
            note = format!("{note}; {m}");
        }
        w!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\"><strong>{}</strong></td><td>{}</td></tr>\n",
            t.instrument.name(),
            esc(&when(first)),
            esc(&when(last)),
            signed(change),
            esc(&note)
        );
    }
    out.push_str("</tbody></table>\n");

    out.push_str(
        "<table class=\"measures\"><thead><tr><th>Date</th><th>Measure</th><th class=\"num\">Total</th><th>Band</th>\
         <th class=\"num\">Change from baseline</th><th>Note</th></tr></thead><tbody>\n",
    );
    let mut seen = Vec::new();
    for (id, at, m, change) in measures_with_change(record) {
        let first = !seen.contains(&m.instrument);
        seen.push(m.instrument);
        let mut note = if first {
            "baseline".to_string()
        } else {
            String::new()
        };
        if needs_risk_assessment(m) {
            if !note.is_empty() {
                note.push_str("; ");
            }
            note.push_str(&format!(
                "<span class=\"mark\">! item 9 answered {}</span>",
                m.items[8]
            ));
        }
        w!(
            out,
            "<tr><td class=\"time\">{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td>{note} <span class=\"small muted\">#{id}</span></td></tr>\n",
            esc(&at.format("%-d %b %Y %H:%M").to_string()),
            m.instrument.name(),
            m.total,
            esc(&m.band),
            if first {
                "–".to_string()
            } else {
                signed(change)
            },
        );
    }
    out.push_str("</tbody></table>\n");
}

fn note_status(n: Option<&Note>) -> String {
    match n {
        Some(n) if n.is_signed() => {
            let a = match n.addenda.len() {
                0 => String::new(),
                1 => ", 1 addendum".into(),
                k => format!(", {k} addenda"),
            };
            format!("note signed{a}")
        }
        Some(_) => "note: DRAFT, not signed".into(),
        None => String::new(),
    }
}

fn sessions_table(out: &mut String, record: &Record) {
    out.push_str("<h3>Sessions</h3>\n");
    if record.sessions.is_empty() {
        out.push_str("<p>No sessions.</p>\n");
        return;
    }
    out.push_str(
        "<table class=\"sessions\"><thead><tr><th>#</th><th>Session</th><th>Date</th><th>Time</th>\
         <th>Clinician</th><th class=\"num\">Entries</th><th>Notes</th></tr></thead><tbody>\n",
    );
    for s in &record.sessions {
        let v = SessionView::new(s);
        let mut notes = vec![if s.session.kind == SessionKind::Dosing {
            "in full below".to_string()
        } else {
            "briefly below".to_string()
        }];
        let ns = note_status(s.note.as_ref());
        if !ns.is_empty() {
            notes.push(ns);
        }
        w!(
            out,
            "<tr><td>#{}</td><td>{}</td><td class=\"time\">{}</td><td class=\"time\">{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
            s.session.id,
            esc(&v.title()),
            esc(&short_date(v.day())),
            esc(&v.span()),
            esc(&s.session.clinician),
            s.lines.len(),
            esc(&notes.join("; "))
        );
    }
    out.push_str("</tbody></table>\n");
}

fn other_sessions(out: &mut String, record: &Record) {
    let others: Vec<SessionView<'_>> = record
        .sessions
        .iter()
        .filter(|s| s.session.kind != SessionKind::Dosing)
        .map(SessionView::new)
        .collect();
    if others.is_empty() {
        return;
    }
    out.push_str("<section class=\"sheet others\" id=\"other-sessions\">\n");
    sheet_head(
        out,
        record,
        "<strong>Other sessions (brief)</strong>",
        record.patient.age_on(record.exported.date_naive()),
        "at export",
    );
    out.push_str("<h2>Other sessions</h2>\n<p class=\"legend\">What stands in each non-dosing session, without vitals; corrections are counted, not shown. Export a session on its own for its full timeline.</p>\n");
    for v in &others {
        let s = &v.rec.session;
        w!(
            out,
            "<div class=\"keep\"><h4>{} — {}, {} · session #{} · {}</h4>\n",
            esc(&capitalised(&v.title())),
            esc(&long_date(v.day())),
            esc(&v.span()),
            s.id,
            esc(&s.clinician)
        );
        let entries = brief_entries(v);
        if entries.is_empty() {
            out.push_str("<p>No entries.</p>\n");
        } else {
            out.push_str("<table class=\"brief\"><tbody>\n");
            for (time, text) in entries {
                w!(
                    out,
                    "<tr><td class=\"time\" style=\"width:28mm\">{}</td><td>{}</td></tr>\n",
                    esc(&time),
                    esc(&text)
                );
            }
            out.push_str("</tbody></table>\n");
        }
        let corrected = corrected_count(v);
        if corrected > 0 {
            w!(
                out,
                "<p class=\"small\">{corrected} corrected (amended or struck) entries not shown.</p>\n"
            );
        }
        out.push_str("</div>\n");
    }
    out.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>alert('x')</script> & "q""#),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn css_strings_cannot_close_the_style_element() {
        assert_eq!(
            css_string("A </style> \"B\""),
            r#""A \3C /style\3E  \22 B\22 ""#
        );
    }
}
