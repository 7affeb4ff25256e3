//! The report as Markdown (CommonMark with GitHub tables), for pasting into other systems:
//! the same content as the HTML report without the charts. Chart text is escaped so it
//! cannot become markup (a typed `<script>`, `*`, `|` or `[link](...)` stays text); the
//! signed note and its addenda are fenced verbatim, so their SHA-256 can be checked.

use super::{
    CourseView, FlowRow, SessionView, bands_text, brief_entries, corrected_count, is_course,
    long_date, measures_with_change, short_date, signed, stamp,
};
use crate::domain::course::Note;
use crate::domain::discharge::{ALDRETE_ITEMS, aldrete_items};
use crate::domain::entry::trim_number;
use crate::domain::measures::{
    Instrument, MeasureRules, meaningful_change, needs_risk_assessment, trends,
};
use crate::domain::{FlagCode, SessionKind};
use crate::export::Record;
use std::fmt::Write;

macro_rules! w {
    ($out:expr, $($arg:tt)*) => {
        let _ = write!($out, $($arg)*);
    };
}

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
            c => out.push(c),
        }
    }
    out
}

/// A fenced block holding `text` exactly: the fence is longer than any run of backticks in
/// the text.
fn fenced(out: &mut String, text: &str) {
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

/// The Markdown report of `record`: for one session, the session in full; for several (a
/// course), the course summary, then each dosing session in full, then the other sessions
/// briefly. `rules` gives the PCL-5 cut-off named with the measures.
pub fn markdown(record: &Record, rules: &MeasureRules) -> String {
    let mut out = String::with_capacity(32 * 1024);
    let p = &record.patient;
    if is_course(record) {
        w!(out, "# KAP course record: {}\n\n", md(&p.name));
    } else {
        let v = SessionView::new(&record.sessions[0]);
        w!(
            out,
            "# KAP {} record: {}, {}\n\n",
            md(&v.title()),
            md(&p.name),
            md(&short_date(v.day()))
        );
    }
    w!(
        out,
        "Patient: **{}** · DOB {}{} · kapchart record exported at {}\n\n",
        md(&p.name),
        md(&short_date(p.dob)),
        p.mrn
            .as_deref()
            .map(|m| format!(" · MRN {}", md(m)))
            .unwrap_or_else(|| " · no MRN".into()),
        md(&stamp(record.exported))
    );
    if is_course(record) {
        course_summary(&mut out, record, rules);
        for s in record
            .sessions
            .iter()
            .filter(|s| s.session.kind == SessionKind::Dosing)
        {
            session(&mut out, record, &SessionView::new(s), 2);
        }
        other_sessions(&mut out, record);
    } else {
        session(&mut out, record, &SessionView::new(&record.sessions[0]), 2);
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn h(level: usize) -> String {
    "#".repeat(level)
}

fn session(out: &mut String, record: &Record, v: &SessionView<'_>, level: usize) {
    let s = &v.rec.session;
    let p = &record.patient;
    w!(
        out,
        "{} {} — {} (session #{})\n\n",
        h(level),
        md(&capitalised(&v.title())),
        md(&long_date(v.day())),
        s.id
    );
    header(out, &["Field", "Value"], &[]);
    row(out, &["Patient".into(), md(&p.name)]);
    row(
        out,
        &[
            "DOB".into(),
            md(&format!(
                "{} (age {} at the session)",
                short_date(p.dob),
                p.age_on(v.day())
            )),
        ],
    );
    row(
        out,
        &[
            "MRN".into(),
            md(p.mrn.as_deref().unwrap_or("none recorded")),
        ],
    );
    let mut kind = format!("{} (number {} of its kind)", s.kind, v.rec.number_in_course);
    if let (SessionKind::Dosing, Some(c)) = (s.kind, &record.course) {
        kind = format!(
            "dosing {} of {} planned",
            v.rec.number_in_course, c.planned_dosing
        );
    }
    row(
        out,
        &["Session".into(), md(&format!("{kind}; session #{}", s.id))],
    );
    row(out, &["Date".into(), md(&long_date(v.day()))]);
    row(
        out,
        &[
            "Start – end".into(),
            md(&format!("{} (times are {})", v.span(), v.utc_offset())),
        ],
    );
    row(out, &["Clinician(s)".into(), md(&v.clinicians.join(", "))]);
    if let Some(i) = &s.intention {
        row(out, &["Intention".into(), md(&format!("“{i}”"))]);
    }
    if let Some(d) = s.dosing_session_id {
        row(out, &["Integrates".into(), format!("dosing session #{d}")]);
    }
    out.push('\n');

    let sub = h(level + 1);
    if s.kind == SessionKind::Dosing || !v.doses().is_empty() {
        w!(out, "{sub} Doses\n\n");
        let doses = v.doses();
        if doses.is_empty() {
            out.push_str("No dose charted.\n\n");
        } else {
            header(
                out,
                &[
                    "Time", "T+", "Drug", "Dose", "Route", "Over", "Total mg", "Entry", "Author",
                ],
                &[3, 6],
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
                row(
                    out,
                    &[
                        md(&v.time(e.event_time)),
                        md(&v.t_plus(e.event_time)),
                        md(&d.drug),
                        md(&dose),
                        d.route.label().into(),
                        d.over_min.map(|m| format!("{m} min")).unwrap_or_default(),
                        format!("**{} mg**", trim_number(d.total_mg, 2)),
                        format!("#{}", e.id),
                        md(&e.author),
                    ],
                );
            }
            out.push('\n');
            let totals = v.dose_totals();
            if !totals.is_empty() {
                let t: Vec<String> = totals
                    .iter()
                    .map(|(drug, mg)| format!("{drug} {} mg", trim_number(*mg, 2)))
                    .collect();
                w!(out, "Total: {}\n\n", md(&t.join("; ")));
            }
        }
    }

    let rows = v.flow_rows();
    if !rows.is_empty() || s.kind == SessionKind::Dosing {
        w!(out, "{sub} Vitals flowsheet\n\n");
    }
    if rows.is_empty() {
        if s.kind == SessionKind::Dosing {
            out.push_str("No vitals charted.\n\n");
        }
    } else {
        header(
            out,
            &[
                "Time", "T+", "BP", "HR", "SpO2", "RR", "Temp °C", "MOAA/S", "Entry",
            ],
            &[2, 3, 4, 5, 6, 7],
        );
        for r in &rows {
            flow_row(out, v, r);
        }
        out.push_str(
            "\n! flagged when charted (alert or pre-dose caution; the flag's words are in the timeline). \
             † a corrected reading. Amended originals and struck readings are left out here and shown in \
             the timeline. A MOAA/S score within 3 minutes of a reading shares its row.\n\n",
        );
    }

    checks(out, v, &sub);

    let measures = v.measures();
    if !measures.is_empty() {
        w!(out, "{sub} Questionnaires\n\n");
        header(
            out,
            &["Time", "Measure", "Total", "Band", "Answers", "Entry"],
            &[2],
        );
        for (e, m) in measures {
            let mut band = md(&m.band);
            if needs_risk_assessment(m) {
                w!(
                    band,
                    " **! item 9 answered {}: structured risk assessment needed**",
                    m.items[8]
                );
            }
            let answers: Vec<String> = m.items.iter().map(u8::to_string).collect();
            row(
                out,
                &[
                    md(&v.time(e.event_time)),
                    m.instrument.name().into(),
                    m.total.to_string(),
                    band,
                    answers.join(" "),
                    format!("#{}", e.id),
                ],
            );
        }
        out.push('\n');
    }

    w!(out, "{sub} Timeline\n\n");
    let timeline = v.timeline();
    if timeline.is_empty() {
        out.push_str("No entries.\n\n");
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
        if let Some(c) = &r.corrects {
            w!(out, " — *{}*", md(c));
        }
        if let Some(s) = &r.struck {
            w!(out, " — **{}**", md(s));
        }
        if let Some(a) = &r.amended {
            w!(out, " — **{}**", md(a));
        }
        for f in &r.flags {
            w!(out, " — **{}**", md(f));
        }
        out.push('\n');
    }
    if !timeline.is_empty() {
        out.push('\n');
    }

    let d = v.discharge();
    if s.kind == SessionKind::Dosing || !d.is_empty() {
        w!(out, "{sub} Discharge\n\n");
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
                w!(
                    out,
                    "- Modified Aldrete: **{}/10**{}: {}\n",
                    a.total(),
                    md(&at),
                    md(&items.join("; "))
                );
            }
            None => out.push_str("- Modified Aldrete: not recorded\n"),
        }
        w!(
            out,
            "- Ride home: {}\n",
            d.state
                .ride
                .as_deref()
                .map(md)
                .unwrap_or_else(|| "not recorded".into())
        );
        w!(
            out,
            "- Ready to leave: {}\n",
            d.state
                .ready_at
                .map(|t| md(&format!("{} ({})", v.time(t), v.t_plus(t))))
                .unwrap_or_else(|| "not recorded".into())
        );
        let ended = match (&d.ended, s.ended) {
            (Some((at, end)), _) => {
                let reason = end
                    .reason
                    .as_deref()
                    .map(|r| format!("; ended against a discharge reminder, reason: {r}"))
                    .unwrap_or_else(|| "; no end reason needed".into());
                md(&format!("{} ({}){reason}", v.time(*at), v.t_plus(*at)))
            }
            (None, Some(at)) => md(&v.time(at)),
            (None, None) => "not ended".into(),
        };
        w!(out, "- Session ended: {ended}\n\n");
    }

    if s.kind == SessionKind::Dosing || v.rec.note.is_some() {
        w!(out, "{sub} Integration note\n\n");
        note(out, v.rec.note.as_ref(), level + 2);
    }
}

/// The protocol's checks of a dosing session, lapses in bold.
fn checks(out: &mut String, v: &SessionView<'_>, sub: &str) {
    let rows = v.check_rows();
    if rows.is_empty() {
        return;
    }
    w!(out, "{sub} Protocol checks\n\n");
    header(out, &["Check", "Due", "T+", "State", "Entry"], &[]);
    for r in rows {
        let state = if r.lapse {
            format!("**{}**", md(&r.state))
        } else {
            md(&r.state)
        };
        row(
            out,
            &[md(&r.check), md(&r.due), md(&r.t_plus), state, r.entry],
        );
    }
    w!(out, "\n{}\n\n", md(&v.check_summary()));
}

fn flow_row(out: &mut String, v: &SessionView<'_>, r: &FlowRow<'_>) {
    let signs = r.signs();
    let cell = |value: Option<String>, flagged: bool| match value {
        Some(x) if flagged => format!("**{} !**", md(&x)),
        Some(x) => md(&x),
        None => "–".into(),
    };
    let entry = r.entry();
    let mut id = format!("#{}", entry.id);
    if entry.corrects.is_some() {
        id.push_str(" †");
    }
    if r.has(FlagCode::Late) {
        id.push_str(" late");
    }
    row(
        out,
        &[
            md(&v.time(r.at)),
            md(&v.t_plus(r.at)),
            cell(
                signs
                    .and_then(|s| s.bp)
                    .map(|bp| format!("{}/{}", bp.systolic, bp.diastolic)),
                r.bp_flagged(),
            ),
            cell(
                signs.and_then(|s| s.hr).map(|x| x.to_string()),
                r.hr_flagged(),
            ),
            cell(
                signs.and_then(|s| s.spo2).map(|x| format!("{x}%")),
                r.has(FlagCode::Spo2Low),
            ),
            cell(
                signs.and_then(|s| s.rr).map(|x| x.to_string()),
                r.has(FlagCode::RrLow),
            ),
            cell(
                signs.and_then(|s| s.temp_c).map(|t| trim_number(t, 1)),
                false,
            ),
            cell(
                r.moaas().map(|m| m.to_string()),
                r.has(FlagCode::DeepSedation),
            ),
            id,
        ],
    );
}

fn note(out: &mut String, note: Option<&Note>, level: usize) {
    let Some(n) = note else {
        out.push_str("No integration note yet.\n\n");
        return;
    };
    match &n.signature {
        Some(sig) => {
            w!(
                out,
                "**Signed** by {} at {} · {} note #{}  \nSHA-256 of the signed text: `{}`\n\n",
                md(&sig.signer),
                md(&stamp(sig.signed)),
                md(&n.format.to_uppercase()),
                n.id,
                sig.sha256
            );
            if let Some(r) = &sig.reason {
                w!(out, "Signed with open items, reason: {}\n\n", md(r));
            }
            fenced(out, &sig.text);
            for (i, a) in n.addenda.iter().enumerate() {
                w!(
                    out,
                    "{} Addendum {} — {} at {}\n\nSHA-256: `{}`\n\n",
                    h(level),
                    i + 1,
                    md(&a.author),
                    md(&stamp(a.at)),
                    a.sha256
                );
                fenced(out, &a.text);
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
                "**DRAFT — not signed.** {} note #{} opened by {} at {}; {}. The draft text is left out of \
                 this record until the note is signed.\n\n",
                md(&n.format.to_uppercase()),
                n.id,
                md(&n.author),
                md(&stamp(n.created)),
                md(&saved)
            );
        }
    }
}

fn course_summary(out: &mut String, record: &Record, rules: &MeasureRules) {
    let p = &record.patient;
    let cv = CourseView::new(record);
    out.push_str("## Course summary\n\n");
    if let Some(f) = &cv.safety_flag {
        w!(out, "**! SAFETY: {}**\n\n", md(&f.to_string()));
    }
    header(out, &["Field", "Value"], &[]);
    row(out, &["Patient".into(), md(&p.name)]);
    row(
        out,
        &[
            "DOB".into(),
            md(&format!(
                "{} (age {} at export)",
                short_date(p.dob),
                p.age_on(record.exported.date_naive())
            )),
        ],
    );
    row(
        out,
        &[
            "MRN".into(),
            md(p.mrn.as_deref().unwrap_or("none recorded")),
        ],
    );
    let d = &record.details;
    if let Some(kg) = d.weight_kg.or(p.weight_kg) {
        row(
            out,
            &["Weight".into(), format!("{} kg", trim_number(kg, 1))],
        );
    }
    if !d.medications.is_empty() {
        row(out, &["Medications".into(), md(&d.medications.join("; "))]);
    }
    if let Some(c) = &d.emergency_contact {
        row(out, &["Emergency contact".into(), md(c)]);
    }
    if let Some(c) = &d.ride_contact {
        row(out, &["Usual ride home".into(), md(c)]);
    }
    row(
        out,
        &["Clinician(s)".into(), md(&record.clinicians.join(", "))],
    );
    match &record.course {
        Some(c) => row(
            out,
            &[
                "Course started".into(),
                md(&long_date(c.started.date_naive())),
            ],
        ),
        None => row(
            out,
            &["Course started".into(), "no course plan recorded".into()],
        ),
    }
    row(
        out,
        &["Planned dosing sessions".into(), cv.planned.to_string()],
    );
    row(
        out,
        &["Progress".into(), format!("**{}**", md(&cv.progress()))],
    );
    out.push('\n');
    let goals = record.course.as_ref().map(|c| &c.goals[..]).unwrap_or(&[]);
    out.push_str("### Goals\n\n");
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
        let points: Vec<_> = record
            .measures
            .iter()
            .map(|(_, at, m)| (*at, m.clone()))
            .collect();
        header(
            out,
            &["Measure", "Baseline", "Latest", "Change", "Note"],
            &[3],
        );
        for t in trends(&points) {
            let when = |p: Option<&(chrono::DateTime<chrono::FixedOffset>, u16)>| {
                p.map(|(at, total)| format!("{total} ({})", short_date(at.date_naive())))
                    .unwrap_or_default()
            };
            let change = t.change.unwrap_or(0);
            let mut note = format!("{} readings", t.points.len());
            if let Some(m) = meaningful_change(t.instrument, change) {
                note = format!("{note}; {m}");
            }
            row(
                out,
                &[
                    t.instrument.name().into(),
                    md(&when(t.points.first())),
                    md(&when(t.points.last())),
                    format!("**{}**", signed(change)),
                    md(&note),
                ],
            );
        }
        out.push('\n');
        header(
            out,
            &[
                "Date",
                "Measure",
                "Total",
                "Band",
                "Change from baseline",
                "Note",
            ],
            &[2, 4],
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
                w!(note, "**! item 9 answered {}**", m.items[8]);
            }
            w!(note, " (#{id})");
            row(
                out,
                &[
                    md(&at.format("%-d %b %Y %H:%M").to_string()),
                    m.instrument.name().into(),
                    m.total.to_string(),
                    md(&m.band),
                    if first { "–".into() } else { signed(change) },
                    note.trim().to_string(),
                ],
            );
        }
        out.push('\n');
        let bands: Vec<String> = Instrument::ALL
            .into_iter()
            .map(|i| format!("{} {}", i.name(), bands_text(i, rules)))
            .collect();
        w!(out, "Bands: {}.\n\n", md(&bands.join("; ")));
    }

    out.push_str("### Sessions\n\n");
    if record.sessions.is_empty() {
        out.push_str("No sessions.\n\n");
        return;
    }
    header(
        out,
        &[
            "#",
            "Session",
            "Date",
            "Time",
            "Clinician",
            "Entries",
            "Notes",
        ],
        &[5],
    );
    for s in &record.sessions {
        let v = SessionView::new(s);
        let mut notes = vec![if s.session.kind == SessionKind::Dosing {
            "in full below".to_string()
        } else {
            "briefly below".to_string()
        }];
        match &s.note {
            Some(n) if n.is_signed() => notes.push(match n.addenda.len() {
                0 => "note signed".into(),
                1 => "note signed, 1 addendum".into(),
                k => format!("note signed, {k} addenda"),
            }),
            Some(_) => notes.push("note: DRAFT, not signed".into()),
            None => {}
        }
        row(
            out,
            &[
                format!("#{}", s.session.id),
                md(&v.title()),
                md(&short_date(v.day())),
                md(&v.span()),
                md(&s.session.clinician),
                s.lines.len().to_string(),
                md(&notes.join("; ")),
            ],
        );
    }
    out.push('\n');
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
    out.push_str(
        "## Other sessions\n\nWhat stands in each non-dosing session, without vitals; corrections are \
         counted, not shown. Export a session on its own for its full timeline.\n\n",
    );
    for v in &others {
        let s = &v.rec.session;
        w!(
            out,
            "### {} — {}, {} (session #{}, {})\n\n",
            md(&capitalised(&v.title())),
            md(&long_date(v.day())),
            md(&v.span()),
            s.id,
            md(&s.clinician)
        );
        let entries = brief_entries(v);
        if entries.is_empty() {
            out.push_str("No entries.\n");
        }
        for (time, text) in entries {
            w!(out, "- **{}** {}\n", md(&time), md(&text));
        }
        let corrected = corrected_count(v);
        if corrected > 0 {
            w!(
                out,
                "\n{corrected} corrected (amended or struck) entries not shown.\n"
            );
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
