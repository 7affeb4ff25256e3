//! The report as one self-contained HTML file: inline CSS and SVG only (no scripts, no
//! fonts, images or style sheets from anywhere), laid out to print on A4 or Letter.

use super::sections::{
    self, Cell, ColKind, Fact, Look, NoteSection, OTHER_SESSIONS_INTRO, Span, Table,
    course_patient_facts, course_plan_facts, course_trends, dose_totals, flowsheet, goals,
    measure_table, mrn_suffix, questionnaires, report_title, session_facts, session_heading,
    session_table, session_title, sessions_in_full, trend_table,
};
use super::{CourseView, Said, SessionView, is_course, long_date, short_date, stamp, svg};
use crate::domain::measures::MeasureRules;
use crate::domain::{AlertThresholds, SessionKind};
use crate::export::Record;
use std::fmt::Write;

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

/// The report's print style sheet; the REMS form (`export::rems`) prints with it too.
pub(crate) const CSS: &str = r#"
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
    let title = report_title(record);
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

    let course = is_course(record);
    if course {
        course_summary(&mut out, record, rules);
    }
    for v in sessions_in_full(record) {
        session(&mut out, record, &v, alerts);
    }
    if course {
        other_sessions(&mut out, record);
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
        esc(&mrn_suffix(record)),
        right,
        esc(&stamp(record.exported)),
    );
}

/// A run of text, escaped and set in its markup.
fn spans(spans: &[Span]) -> String {
    let mut out = String::new();
    for s in spans {
        match s {
            Span::Text(t) => out.push_str(&esc(t)),
            Span::Strong(t) => {
                w!(out, "<strong>{}</strong>", esc(t));
            }
            Span::Alert(t) => {
                w!(out, "<strong class=\"flagged\">{}</strong>", esc(t));
            }
            Span::Mark(t) => {
                w!(out, "<span class=\"mark\">{}</span>", esc(t));
            }
            Span::Code(t) => {
                w!(out, "<code class=\"hash\">{}</code>", esc(t));
            }
            Span::Detail(t) => {
                w!(out, "<br><span class=\"small\">{}</span>", esc(t));
            }
        }
    }
    out
}

fn fact(out: &mut String, name: &str, value_html: &str) {
    w!(
        out,
        "<tr><th>{}</th><td>{value_html}</td></tr>\n",
        esc(name)
    );
}

/// A facts table: a name and its value a row.
fn facts(out: &mut String, facts: &[Fact]) {
    out.push_str("<table class=\"facts keep\">\n");
    for f in facts {
        fact(out, f.name, &spans(&f.value));
    }
    out.push_str("</table>\n");
}

fn class_of(kind: ColKind) -> &'static str {
    match kind {
        ColKind::Text => "",
        ColKind::Time => "time",
        ColKind::Number | ColKind::Reading => "num",
        ColKind::Id => "id",
        ColKind::Small => "small",
    }
}

fn td(out: &mut String, kind: ColKind, c: &Cell) {
    let look = match c.look {
        Look::Plain => "",
        Look::Flagged => "flagged",
        Look::Missing => "muted",
    };
    let class = [class_of(kind), look]
        .into_iter()
        .filter(|c| !c.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if class.is_empty() {
        out.push_str("<td>");
    } else {
        w!(out, "<td class=\"{class}\">");
    }
    out.push_str(&spans(&c.spans));
    if c.look == Look::Flagged {
        out.push_str(" <span class=\"mark\">!</span>");
    }
    if let Some(entry) = &c.entry {
        w!(out, " <span class=\"small muted\">{}</span>", esc(entry));
    }
    out.push_str("</td>");
}

/// A table with its head; `class` names it for the style sheet.
fn table(out: &mut String, class: &str, t: &Table) {
    w!(out, "<table class=\"{class}\"><thead><tr>");
    for c in &t.cols {
        let class = if class_of(c.kind) == "num" {
            " class=\"num\""
        } else {
            ""
        };
        w!(out, "<th{class}>{}</th>", esc(c.name));
    }
    out.push_str("</tr></thead><tbody>\n");
    for r in &t.rows {
        out.push_str("<tr>");
        for (col, c) in t.cols.iter().zip(r) {
            td(out, col.kind, c);
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
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
        esc(&session_title(v)),
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
    w!(out, "<h2>{}</h2>\n", esc(&session_heading(v)));
    facts(out, &session_facts(record, v));

    if let Some(doses) = sections::doses(v) {
        out.push_str("<h3>Doses</h3>\n");
        if doses.rows.is_empty() {
            out.push_str("<p>No dose charted.</p>\n");
        } else {
            table(out, "doses", &doses);
            if let Some(total) = dose_totals(v) {
                w!(out, "<p>Total: {}</p>\n", esc(&total));
            }
        }
    }
    if let Some(flow) = flowsheet(v) {
        vitals(out, v, &flow, alerts);
    }
    if let Some((checks, summary)) = sections::checks(v) {
        out.push_str("<h3>Protocol checks</h3>\n");
        table(out, "checks", &checks);
        w!(out, "<p>{}</p>\n", esc(&summary));
    }
    if let Some(measures) = questionnaires(v) {
        out.push_str("<h3>Questionnaires</h3>\n");
        table(out, "measures", &measures);
    }
    timeline(out, v);
    if let Some(discharge) = sections::discharge(v) {
        out.push_str("<h3>Discharge</h3>\n");
        facts(out, &discharge);
    }
    if let Some(n) = sections::note(v) {
        note(out, &n);
    }
    out.push_str("</section>\n");
}

fn vitals(out: &mut String, v: &SessionView<'_>, flow: &Table, alerts: &AlertThresholds) {
    out.push_str("<h3>Vitals</h3>\n");
    if flow.rows.is_empty() {
        out.push_str("<p>No vitals charted.</p>\n");
        return;
    }
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
    table(out, "flowsheet", flow);
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
        for (said, words) in r.annotations() {
            let class = if said == Said::Alert {
                "flagged"
            } else {
                "label"
            };
            w!(entry, "<br><span class=\"{class}\">{}</span>", esc(words));
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

fn note(out: &mut String, note: &NoteSection) {
    out.push_str("<h3>Integration note</h3>\n");
    match note {
        NoteSection::Missing => out.push_str("<p>No integration note yet.</p>\n"),
        NoteSection::Signed(n) => {
            w!(
                out,
                "<div class=\"sig keep\"><p>{}</p><p>{}</p><p class=\"ed25519\">{}</p>",
                spans(&n.signed),
                spans(&n.hash),
                spans(&n.ed25519)
            );
            if let Some(r) = &n.reason {
                w!(out, "<p>{}</p>", esc(r));
            }
            out.push_str("</div>\n");
            w!(out, "<pre class=\"note\">{}</pre>\n", esc(&n.text));
            for a in &n.addenda {
                w!(
                    out,
                    "<div class=\"addendum-head\"><h4>{}</h4><p>{}</p><p class=\"ed25519\">{}</p></div>\n<pre class=\"note\">{}</pre>\n",
                    esc(&a.heading),
                    spans(&a.hash),
                    spans(&a.ed25519),
                    esc(&a.text),
                );
            }
        }
        NoteSection::Draft { headline, body } => {
            w!(
                out,
                "<div class=\"draft keep\"><p><strong>{headline}</strong></p><p>{}</p></div>\n",
                esc(body),
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

    out.push_str("<div class=\"cols\"><div>\n<h3>Patient</h3>\n");
    facts(out, &course_patient_facts(record));
    out.push_str("</div><div>\n<h3>Course plan</h3>\n<table class=\"facts keep\">\n");
    for f in course_plan_facts(record, &cv) {
        fact(out, f.name, &spans(&f.value));
    }
    let goals = goals(record);
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
    out.push_str("<h3>Sessions</h3>\n");
    match session_table(record) {
        Some(t) => table(out, "sessions", &t),
        None => out.push_str("<p>No sessions.</p>\n"),
    }
    course_measures(out, record, rules);
    out.push_str("</section>\n");
}

fn course_measures(out: &mut String, record: &Record, rules: &MeasureRules) {
    out.push_str("<h3>Outcome measures</h3>\n");
    if record.measures.is_empty() {
        out.push_str("<p>No questionnaires recorded.</p>\n");
        return;
    }
    let trends = course_trends(record);
    let dosing: Vec<(String, chrono::DateTime<chrono::FixedOffset>)> = record
        .sessions
        .iter()
        .filter(|s| s.session.kind == SessionKind::Dosing)
        .map(|s| (format!("D{}", s.number_in_course), s.period.start))
        .collect();
    if let Some(chart) = svg::measures_chart(&trends, rules, &dosing) {
        w!(
            out,
            "<figure class=\"chart\">{chart}<figcaption>Totals over the course, one panel per questionnaire on its own scale; \
             dashed lines are the band boundaries; dotted verticals D1, D2, … are dosing sessions.</figcaption></figure>\n"
        );
    }
    table(out, "trends keep", &trend_table(&trends, rules));
    table(out, "measures", &measure_table(record));
}

fn other_sessions(out: &mut String, record: &Record) {
    let others = sections::other_sessions(record);
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
    w!(
        out,
        "<h2>Other sessions</h2>\n<p class=\"legend\">{}</p>\n",
        esc(OTHER_SESSIONS_INTRO)
    );
    for s in &others {
        w!(
            out,
            "<div class=\"keep\"><h4>{} · session #{} · {}</h4>\n",
            esc(&s.heading),
            s.id,
            esc(&s.clinician)
        );
        if s.entries.is_empty() {
            out.push_str("<p>No entries.</p>\n");
        } else {
            out.push_str("<table class=\"brief\"><tbody>\n");
            for (time, text) in &s.entries {
                w!(
                    out,
                    "<tr><td class=\"time\" style=\"width:28mm\">{}</td><td>{}</td></tr>\n",
                    esc(time),
                    esc(text)
                );
            }
            out.push_str("</tbody></table>\n");
        }
        if let Some(c) = &s.corrected {
            w!(out, "<p class=\"small\">{}</p>\n", esc(c));
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
