//! The home screen's patient list, read a page at a time by index: in the list's order (name,
//! case aside, then id), from just after the last patient shown (keyset paging: no page reads
//! the patients before it), filtered by what the clinician typed (`domain::patient_filter`).
//! Three characters or more are found by the `patient_search` trigram index, one or two by
//! the prefix indexes of `patient_words` (a word of the name or MRN that begins with them).

use super::queries::patient_from_row;
use super::{Chart, Result};
use crate::domain::patient_filter::PatientFilter;
use crate::domain::{Patient, PatientId};
use rusqlite::types::Value;

const COLUMNS: &str = "p.id, p.name, p.dob, p.mrn, p.weight_kg";
const ORDER: &str = "ORDER BY p.name COLLATE NOCASE, p.id";
/// Patients after the one the last page ended with, in the list's order (name, then id).
/// Written so that SQLite seeks the name index to the name (a row value with a collation
/// was read from the index's start instead).
const AFTER: &str = "p.name COLLATE NOCASE >= ? AND (p.name COLLATE NOCASE > ? OR p.id > ?)";

/// A read of the list as SQL and its values, in order.
struct ListRead {
    sql: String,
    values: Vec<Value>,
}

/// The read of up to `limit` patients under `filter`, after `after` in the list's order.
/// None when nothing can match.
fn list_read(filter: &PatientFilter, after: Option<&Patient>, limit: usize) -> Option<ListRead> {
    let mut values = Vec::new();
    let mut conditions = Vec::new();
    let from = match filter {
        PatientFilter::Nothing => return None,
        PatientFilter::All => "patients p".to_string(),
        PatientFilter::Contains(text) => {
            // One quoted phrase: FTS5's operators, quotes and stars inside are only text.
            values.push(Value::Text(format!("\"{}\"", text.replace('"', "\"\""))));
            conditions.push("patient_search MATCH ?");
            "patient_search s CROSS JOIN patients p ON p.id = s.rowid".to_string()
        }
        PatientFilter::Begins(text) => {
            // A word of the name or MRN that begins with the text: FTS5's prefix query on
            // `patient_words`, served by its one- and two-character prefix indexes. The text
            // is letters and digits only (`PatientFilter::typed`), so it is one word.
            values.push(Value::Text(format!("\"{}\" *", text.replace('"', "\"\""))));
            conditions.push("patient_words MATCH ?");
            "patient_words w CROSS JOIN patients p ON p.id = w.rowid".to_string()
        }
    };
    if let Some(last) = after {
        conditions.push(AFTER);
        values.push(Value::Text(last.name.clone()));
        values.push(Value::Text(last.name.clone()));
        values.push(Value::Integer(last.id));
    }
    let mut sql = format!("SELECT {COLUMNS} FROM {from}");
    if !conditions.is_empty() {
        sql.push_str(&format!(" WHERE {}", conditions.join(" AND ")));
    }
    sql.push_str(&format!(" {ORDER} LIMIT ?"));
    values.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
    Some(ListRead { sql, values })
}

impl Chart {
    /// Up to `limit` patients of the home screen's list under `filter`, in its order (name,
    /// case aside, then id), starting after `after` (from the first when None).
    pub fn patient_page(
        &self,
        filter: &PatientFilter,
        after: Option<&Patient>,
        limit: usize,
    ) -> Result<Vec<Patient>> {
        let Some(read) = list_read(filter, after, limit) else {
            return Ok(Vec::new());
        };
        let mut stmt = self
            .conn
            .prepare_cached(&read.sql)
            .map_err(|e| self.err(e))?;
        stmt.query_map(rusqlite::params_from_iter(read.values), patient_from_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))
    }

    /// How many patients the chart holds.
    pub fn patient_count(&self) -> Result<usize> {
        self.conn
            .prepare_cached("SELECT count(*) FROM patients")
            .and_then(|mut stmt| stmt.query_row([], |r| r.get::<_, i64>(0)))
            .map(|n| usize::try_from(n).unwrap_or(0))
            .map_err(|e| self.err(e))
    }

    /// The patients with these ids, as charted at intake (unknown ids are left out).
    pub fn patients_with_ids(&self, ids: &[PatientId]) -> Result<Vec<Patient>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name, dob, mrn, weight_kg FROM patients p WHERE id = ?1")
            .map_err(|e| self.err(e))?;
        let mut found = Vec::new();
        for id in ids {
            let mut rows = stmt
                .query_map([id], patient_from_row)
                .map_err(|e| self.err(e))?;
            if let Some(p) = rows.next() {
                found.push(p.map_err(|e| self.err(e))?);
            }
        }
        Ok(found)
    }

    /// SQLite's plan (EXPLAIN QUERY PLAN details) for reading a page after `after` under
    /// `filter`, so that tests can hold the list's reads to their indexes.
    pub fn patient_page_plan(
        &self,
        filter: &PatientFilter,
        after: Option<&Patient>,
    ) -> Result<Vec<String>> {
        let Some(read) = list_read(filter, after, 50) else {
            return Ok(Vec::new());
        };
        let mut stmt = self
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", read.sql))
            .map_err(|e| self.err(e))?;
        stmt.query_map(rusqlite::params_from_iter(read.values), |r| {
            r.get::<_, String>(3)
        })
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(|e| self.err(e))
    }

    /// Where the patient search index (derived from the patients, not the record) disagrees
    /// with the patients: an indexed patient the chart does not hold, a patient not indexed,
    /// or a patient their own name or MRN does not find. Reads only, so a chart on read-only
    /// media is checked too.
    pub fn patient_search_problems(&self) -> Result<Vec<String>> {
        let ids = |sql: &str| -> Result<Vec<i64>> {
            let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
            stmt.query_map([], |r| r.get(0))
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| self.err(e))
        };
        let mut problems = Vec::new();
        let indexed: bool = self
            .conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'patient_search')",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        if !indexed {
            // A chart from before the index: the schema check says what is missing.
            return Ok(problems);
        }
        let say = |problems: &mut Vec<String>, ids: Vec<i64>, what: &str| {
            if !ids.is_empty() {
                let listed: Vec<String> = ids.iter().take(10).map(i64::to_string).collect();
                problems.push(format!(
                    "the patient search index {what}: {}{} (derived data, not the record: \
                     the home screen's filter may miss or show the wrong patients)",
                    listed.join(", "),
                    if ids.len() > 10 { ", ..." } else { "" }
                ));
            }
        };
        for table in ["patient_search", "patient_words"] {
            say(
                &mut problems,
                ids(&format!(
                    "SELECT id FROM {table}_docsize EXCEPT SELECT id FROM patients ORDER BY 1"
                ))?,
                "lists patients the chart does not hold",
            );
            say(
                &mut problems,
                ids(&format!(
                    "SELECT id FROM patients EXCEPT SELECT id FROM {table}_docsize ORDER BY 1"
                ))?,
                "leaves out patients",
            );
        }
        let mut unfound = Vec::new();
        for column in ["name", "mrn"] {
            unfound.extend(ids(&format!(
                "SELECT p.id FROM patients p WHERE length(p.{column}) >= 3
                 AND p.id NOT IN (SELECT rowid FROM patient_search
                     WHERE patient_search MATCH '\"' || replace(p.{column}, '\"', '\"\"') || '\"')"
            ))?);
        }
        // Each patient by the first letter of their name's first word, as one typed key finds
        // them (the word index's one-character prefix index).
        unfound.extend(ids(
            "SELECT p.id FROM patients p
              WHERE substr(p.name, 1, 1) GLOB '[A-Za-z0-9]'
                AND p.id NOT IN (SELECT rowid FROM patient_words
                     WHERE patient_words MATCH '\"' || substr(p.name, 1, 1) || '\" *')",
        )?);
        unfound.sort_unstable();
        unfound.dedup();
        say(
            &mut problems,
            unfound,
            "does not find patients by their own name or MRN",
        );
        Ok(problems)
    }
}
