//! The report as Markdown (CommonMark with GitHub tables), for pasting into other systems:
//! the same content as the HTML report without the charts. Chart text is escaped so it
//! cannot become markup (a typed `<script>`, `*`, `|` or `[link](...)` stays text); the
//! signed note and its addenda are fenced verbatim, so their SHA-256 can be checked.

use super::sections::{
    self, Cell, ColKind, Fact, Look, NoteSection, OTHER_SESSIONS_INTRO, Span, Table, bands,
    course_patient_facts, course_plan_facts, course_trends, dose_totals, flowsheet, goals,
    measure_table, mrn_suffix, patient_facts, questionnaires, report_title, session_facts,
    session_heading, session_table, sessions_in_full, trend_table,
};
use super::{CourseView, Said, SessionView, is_course, short_date, stamp};
use crate::domain::measures::MeasureRules;
use crate::export::Record;
use std::fmt::Write;

/// Escapes text for inline Markdown: punctuation that could start markup is backslashed,
/// and line breaks become spaces (a chart line is one line).
pub(crate) fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\r' => {}
            '\n' => out.push(' '),
            // A control character would act on a terminal showing the file: show it instead.
            c if crate::domain::text::is_hostile(c) => {
                out.push_str(&crate::domain::text::escape_controls(&c.to_string(), false));
            }
            c => out.push(c),
        }
    }
    out
}

/// A fenced block holding `text` exactly: the fence is longer than any run of backticks in
/// the text.
fn fenced(out: &mut String, text: &str) {
    let text = &*crate::domain::text::escape_controls(text, true);
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    w!(out, "{fence}text\n{}", text);
    if !text.ends_with('\n') {
        out.push('\n');
    }
    w!(out, "{fence}\n\n");
}

fn row(out: &mut String, cells: &[String]) {
    w!(out, "| {} |\n", cells.join(" | "));
}

fn header(out: &mut String, names: &[&str], right: &[usize]) {
    row(
        out,
        &names.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    );
    let rule: Vec<String> = (0..names.len())
        .map(|i| {
            if right.contains(&i) {
                "---:".to_string()
            } else {
                "---".to_string()
            }
        })
        .collect();
    row(out, &rule);
}

/// A run of text: escaped, bold where the data says so.
fn spans(spans: &[Span]) -> String {
    let mut out = String::new();
    for s in spans {
        match s {
            Span::Text(t) => out.push_str(&md(t)),
            Span::Strong(t) | Span::Alert(t) | Span::Mark(t) => {
                w!(out, "**{}**", md(t));
            }
            Span::Code(t) => {
                w!(out, "`{t}`");
            }
            Span::Detail(t) => {
                w!(out, ": {}", md(t));
            }
        }
    }
    out
}

fn cell(c: &Cell) -> String {
    let mut out = spans(&c.spans);
    if c.look == Look::Flagged {
        out = format!("**{out} !**");
    }
    if let Some(entry) = &c.entry {
        let gap = if out.is_empty() { "" } else { " " };
        w!(out, "{gap}({})", md(entry));
    }
    out
}

/// A table's head and rows (the caller ends it with a blank line); numbers right-aligned.
fn table(out: &mut String, t: &Table) {
    let names: Vec<&str> = t.cols.iter().map(|c| c.name).collect();
    let right: Vec<usize> = (0..t.cols.len())
        .filter(|&i| t.cols[i].kind == ColKind::Number)
        .collect();
    header(out, &names, &right);
    for r in &t.rows {
        row(out, &r.iter().map(cell).collect::<Vec<_>>());
    }
}

/// The facts of one table (the caller ends it with a blank line). Markdown has one table
/// where the HTML report has a "Patient" and a "Course plan" table, so some names are the
/// shorter or fuller ones that stand without a heading.
fn facts(out: &mut String, facts: &[Fact]) {
    for f in facts {
        let name = match f.name {
            "Name" => "Patient",
            "Date of birth" => "DOB",
            "Started" => "Course started",
            n => n,
        };
        row(out, &[name.to_string(), spans(&f.value)]);
    }
}

/// The Markdown report of `record`: for one session, the session in full; for several (a
/// course), the course summary, then each dosing session in full, then the other sessions
/// briefly. `rules` gives the PCL-5 cut-off named with the measures.
pub fn markdown(record: &Record, rules: &MeasureRules) -> String {
    let mut out = String::with_capacity(32 * 1024);
    let p = &record.patient;
    w!(out, "# {}\n\n", md(&report_title(record)));
    w!(
        out,
        "Patient: **{}** · DOB {}{} · kapchart record exported at {}\n\n",
        md(&p.name),
        md(&short_date(p.dob)),
        md(&mrn_suffix(record)),
        md(&stamp(record.exported))
    );
    let course = is_course(record);
    if course {
        course_summary(&mut out, record, rules);
    }
    for v in sessions_in_full(record) {
        session(&mut out, record, &v);
    }
    if course {
        other_sessions(&mut out, record);
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn session(out: &mut String, record: &Record, v: &SessionView<'_>) {
    w!(
        out,
        "## {} (session #{})\n\n",
        md(&session_heading(v)),
        v.rec.session.id
    );
    header(out, &["Field", "Value"], &[]);
    facts(out, &patient_facts(record, v.day(), "at the session"));
    facts(out, &session_facts(record, v));
    out.push('\n');

    if let Some(doses) = sections::doses(v) {
        out.push_str("### Doses\n\n");
        if doses.rows.is_empty() {
            out.push_str("No dose charted.\n\n");
        } else {
            table(out, &doses);
            out.push('\n');
            if let Some(total) = dose_totals(v) {
                w!(out, "Total: {}\n\n", md(&total));
            }
        }
    }

    if let Some(flow) = flowsheet(v) {
        out.push_str("### Vitals flowsheet\n\n");
        if flow.rows.is_empty() {
            out.push_str("No vitals charted.\n\n");
        } else {
            table(out, &flow);
            out.push_str(
                "\n! flagged when charted (alert or pre-dose caution; the flag's words are in the timeline). \
                 † a corrected reading. Amended originals and struck readings are left out here and shown in \
                 the timeline. A MOAA/S score within 3 minutes of a reading shares its row.\n\n",
            );
        }
    }

    if let Some((checks, summary)) = sections::checks(v) {
        out.push_str("### Protocol checks\n\n");
        table(out, &checks);
        w!(out, "\n{}\n\n", md(&summary));
    }

    if let Some(measures) = questionnaires(v) {
        out.push_str("### Questionnaires\n\n");
        table(out, &measures);
        out.push('\n');
    }

    timeline(out, v);

    if let Some(discharge) = sections::discharge(v) {
        out.push_str("### Discharge\n\n");
        for f in &discharge {
            w!(out, "- {}: {}\n", f.name, spans(&f.value));
        }
        out.push('\n');
    }

    if let Some(n) = sections::note(v) {
        out.push_str("### Integration note\n\n");
        note(out, &n);
    }
}

/// Every entry as a list item: struck entries struck through and labelled, corrections and
/// alert flags in words after the entry.
fn timeline(out: &mut String, v: &SessionView<'_>) {
    out.push_str("### Timeline\n\n");
    let timeline = v.timeline();
    if timeline.is_empty() {
        out.push_str("No entries.\n\n");
        return;
    }
    for r in &timeline {
        let mut time = md(&r.time);
        if !r.t_plus.is_empty() {
            w!(time, " ({})", md(&r.t_plus));
        }
        if let Some(written) = r.written() {
            w!(time, ", {}", md(&written));
        }
        let content = if r.struck.is_some() {
            format!("~~{}~~", md(&r.content))
        } else {
            md(&r.content)
        };
        w!(
            out,
            "- #{} **{time}** {} — {content} — {}",
            r.id(),
            md(r.kind),
            md(r.author())
        );
        for (said, words) in r.annotations() {
            match said {
                Said::Corrects => {
                    w!(out, " — *{}*", md(words));
                }
                Said::CorrectedBy | Said::Alert => {
                    w!(out, " — **{}**", md(words));
                }
            }
        }
        out.push('\n');
    }
    out.push('\n');
}

fn note(out: &mut String, note: &NoteSection) {
    match note {
        NoteSection::Missing => out.push_str("No integration note yet.\n\n"),
        NoteSection::Signed(n) => {
            w!(
                out,
                "{}  \n{}  \n{}\n\n",
                spans(&n.signed),
                spans(&n.hash),
                spans(&n.ed25519)
            );
            if let Some(r) = &n.reason {
                w!(out, "{}\n\n", md(r));
            }
            fenced(out, &n.text);
            for a in &n.addenda {
                w!(
                    out,
                    "#### {}\n\n{}  \n{}\n\n",
                    md(&a.heading),
                    spans(&a.hash),
                    spans(&a.ed25519)
                );
                fenced(out, &a.text);
            }
        }
        NoteSection::Draft { headline, body } => {
            w!(out, "**{headline}.** {}\n\n", md(body));
        }
    }
}

fn course_summary(out: &mut String, record: &Record, rules: &MeasureRules) {
    let cv = CourseView::new(record);
    out.push_str("## Course summary\n\n");
    if let Some(f) = &cv.safety_flag {
        w!(out, "**! SAFETY: {}**\n\n", md(&f.to_string()));
    }
    header(out, &["Field", "Value"], &[]);
    facts(out, &course_patient_facts(record));
    facts(out, &course_plan_facts(record, &cv));
    out.push('\n');
    out.push_str("### Goals\n\n");
    let goals = goals(record);
    if goals.is_empty() {
        out.push_str("None recorded.\n\n");
    } else {
        for (i, g) in goals.iter().enumerate() {
            w!(out, "{}. {}\n", i + 1, md(g));
        }
        out.push('\n');
    }

    out.push_str("### Outcome measures\n\n");
    if record.measures.is_empty() {
        out.push_str("No questionnaires recorded.\n\n");
    } else {
        table(out, &trend_table(&course_trends(record), rules));
        out.push('\n');
        table(out, &measure_table(record));
        out.push('\n');
        w!(out, "Bands: {}.\n\n", md(&bands(rules)));
    }

    out.push_str("### Sessions\n\n");
    match session_table(record) {
        Some(t) => {
            table(out, &t);
            out.push('\n');
        }
        None => out.push_str("No sessions.\n\n"),
    }
}

fn other_sessions(out: &mut String, record: &Record) {
    let others = sections::other_sessions(record);
    if others.is_empty() {
        return;
    }
    w!(out, "## Other sessions\n\n{}\n\n", md(OTHER_SESSIONS_INTRO));
    for s in &others {
        w!(
            out,
            "### {} (session #{}, {})\n\n",
            md(&s.heading),
            s.id,
            md(&s.clinician)
        );
        if s.entries.is_empty() {
            out.push_str("No entries.\n");
        }
        for (time, text) in &s.entries {
            w!(out, "- **{}** {}\n", md(time), md(text));
        }
        if let Some(c) = &s.corrected {
            w!(out, "\n{}\n", md(c));
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_chart_text_stays_text() {
        assert_eq!(
            md("<script>x</script> | *a* [l](u)\nnext"),
            r"\<script\>x\</script\> \| \*a\* \[l\](u) next"
        );
    }

    #[test]
    fn fences_outgrow_the_text() {
        let mut out = String::new();
        fenced(&mut out, "a ```` b");
        assert!(out.starts_with("`````text\n"), "{out}");
        assert!(out.ends_with("\n`````\n\n"), "{out}");
    }
}
