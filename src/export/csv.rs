//! The vitals flowsheet as CSV (RFC 4180: CRLF line endings, a header row, fields with a
//! comma, quote or line break in double quotes with quotes doubled; UTF-8 without a BOM).
//!
//! One row per reading that stands: amended originals and struck readings are left out, the
//! amending reading is in. Each protocol check that was missed or done late has a row of its
//! own at its due time, with no values, its words in `flags` and, for a late one, the entry
//! that closed it: the lapses are part of the record. A MOAA/S score within 3 minutes of an earlier reading joins its
//! row, as on the live screen (the row keeps the reading's entry id, author and times); a
//! score with no reading near it has a row of its own. Rows run session by session, in time
//! order. A CADSS-6 score or respiratory status within 3 minutes of a row joins it too
//! (`cadss6`, `resp`); one with no row near it has a row of its own.
//!
//! Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` as a formula. Text cells
//! (flags, author) that start with one of those (or with a tab or carriage return) get a
//! leading `'`; number cells never do (`t_plus_min` is negative before the first dose and
//! must stay a number).

use super::Record;
use super::report::{FlowRow, flow_rows_with_monitoring};
use crate::domain::entry::trim_number;
use crate::domain::notes::check_lapse;
use crate::domain::protocol::Check;
use crate::domain::since_dose::minutes_after;
use chrono::{DateTime, FixedOffset};

/// The header row, in column order.
/// `cadss6` (the CADSS-6 total) and `resp` (ok or depressed) come last, so the columns
/// before them keep their places for spreadsheets made before they were added.
pub const COLUMNS: [&str; 17] = [
    "session",
    "event_time",
    "recorded_time",
    "t_plus_min",
    "systolic",
    "diastolic",
    "hr",
    "spo2",
    "rr",
    "temp_c",
    "moaas",
    "flags",
    "author",
    "entry_id",
    "cadss6",
    "resp",
    // The MOAA/S score's own entry when it joined the reading's row (entry_id is the
    // reading's): a corrected score can be traced.
    "moaas_entry_id",
];

/// "2026-11-26T10:40:00+01:00".
fn iso(t: DateTime<FixedOffset>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// Quotes a field when it holds a comma, a double quote or a line break.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A text cell: defused against formula injection, then quoted as needed.
pub(crate) fn text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        field(&format!("'{s}"))
    } else {
        field(s)
    }
}

fn number<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn row(session: i64, first_dose: Option<DateTime<FixedOffset>>, r: &FlowRow<'_>) -> String {
    let e = r.entry();
    let v = r.signs();
    // Each flag's words once: entries joined on one row may share a mark (late entry).
    let mut flags: Vec<&str> = Vec::new();
    for f in r.flags() {
        if !flags.contains(&f.text.as_str()) {
            flags.push(&f.text);
        }
    }
    let cells = [
        session.to_string(),
        iso(r.at),
        iso(e.recorded_time),
        number(minutes_after(first_dose, r.at)),
        number(v.and_then(|v| v.bp).map(|bp| bp.systolic)),
        number(v.and_then(|v| v.bp).map(|bp| bp.diastolic)),
        number(v.and_then(|v| v.hr)),
        number(v.and_then(|v| v.spo2)),
        number(v.and_then(|v| v.rr)),
        v.and_then(|v| v.temp_c)
            .map(|t| trim_number(t, 1))
            .unwrap_or_default(),
        number(r.moaas()),
        text(&flags.join("; ")),
        text(&e.author),
        e.id.to_string(),
        number(r.cadss6_total()),
        r.respiration().unwrap_or_default().to_string(),
        number(r.sedation.map(|s| s.id)),
    ];
    cells.join(",")
}

/// A row for a protocol check missed or done late, at its due time.
fn lapse_row(session: i64, check: &Check, words: &str) -> String {
    let at = check.due;
    let mut cells = vec![String::new(); COLUMNS.len()];
    cells[0] = session.to_string();
    cells[1] = at.map(iso).unwrap_or_default();
    cells[3] = number(check.t_plus_min);
    cells[11] = text(words);
    cells[13] = number(check.status.closed_by());
    cells.join(",")
}

/// The vitals flowsheet of every session in `record`, header first, CRLF line endings.
pub fn vitals_csv(record: &Record) -> String {
    let mut out = COLUMNS.join(",");
    out.push_str("\r\n");
    for s in &record.sessions {
        let dose = s.first_dose;
        let mut rows: Vec<(Option<DateTime<FixedOffset>>, String)> =
            flow_rows_with_monitoring(&s.lines)
                .iter()
                .map(|r| (Some(r.at), row(s.session.id, dose, r)))
                .collect();
        for c in &s.checks {
            if let Some(words) = check_lapse(c) {
                rows.push((c.due, lapse_row(s.session.id, c, &words)));
            }
        }
        // In time order (stable: a reading comes before a lapse row at the same time).
        rows.sort_by_key(|(at, _)| *at);
        for (_, r) in rows {
            out.push_str(&r);
            out.push_str("\r\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_per_rfc_4180() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a, b"), "\"a, b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn text_cells_cannot_become_formulas() {
        assert_eq!(text("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(text("+1"), "'+1");
        assert_eq!(text("-2"), "'-2");
        assert_eq!(text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(text("Dr. Quinn"), "Dr. Quinn");
    }

    #[test]
    fn numbers_are_left_alone() {
        assert_eq!(number(Some(-10)), "-10");
        assert_eq!(number::<i64>(None), "");
    }
}
