//! The chart's search index: the words of every entry, note and addendum, in FTS5 tables
//! inside the encrypted chart (migration `CHART_SEARCH`). It is derived data, not the record:
//! written by the store in the same transaction as what it indexes, filled from the record
//! when a chart takes it on, recomputed by `verify` (which names where it disagrees, and how
//! to rebuild it, without finding the record damaged) and rebuilt from the record by
//! [`Chart::rebuild_search_index`].
//!
//! - `entry_search`: one row per entry, its rowid the entry's id, its text the line the
//!   timeline shows (`domain::search::entry_text`).
//! - `note_search`: one row per note with text, its rowid the note's id, its text the note as
//!   it stands (the signed text, else the latest draft): replaced when a draft is saved.
//! - `addendum_search`: one row per addendum, its rowid the addendum's id.
//!
//! What a search means (every typed word begins a word of the text) is
//! `domain::search::Words`; this module only asks FTS5 for it.

use super::{Chart, Result, from_stored, schema};
use crate::domain::search::{self, Found, Hit};
use crate::domain::{EntryId, EntryStatus, PatientId, Payload};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

/// The index's tables, and what each indexes.
const TABLES: [(&str, &str); 3] = [
    ("entry_search", "entries"),
    ("note_search", "notes"),
    ("addendum_search", "addenda"),
];

/// The shadow tables FTS5 keeps for each index table.
const SHADOWS: [&str; 5] = ["_data", "_idx", "_content", "_docsize", "_config"];

/// What `verify` and the command line say to do about an index that disagrees.
pub const REBUILD: &str = "kapchart search --rebuild-index";

/// Whether a schema object (a table or an FTS5 shadow table) is the search index's.
pub(super) fn is_index_object(name: &str) -> bool {
    TABLES.iter().any(|(table, _)| {
        name == *table
            || name
                .strip_prefix(table)
                .is_some_and(|rest| SHADOWS.contains(&rest))
    })
}

/// Whether a line of SQLite's integrity check is about one of the index's tables.
pub(super) fn names_index_table(line: &str) -> bool {
    TABLES.iter().any(|(table, _)| {
        line.match_indices(table).any(|(at, _)| {
            let after = line[at + table.len()..].chars().next();
            let before = line[..at].chars().next_back();
            !after.is_some_and(char::is_alphanumeric)
                && !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    })
}

/// An entry's row, as it is written with the entry.
pub(super) fn index_entry(
    conn: &Connection,
    id: EntryId,
    payload: &Payload,
    correction: Option<(EntryId, &str)>,
) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT INTO entry_search (rowid, text) VALUES (?1, ?2)")?
        .execute(params![id, search::entry_text(payload, correction)])?;
    Ok(())
}

/// A note's row, replaced by its text as it now stands.
pub(super) fn index_note(conn: &Connection, note: i64, text: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM note_search WHERE rowid = ?1")?
        .execute([note])?;
    conn.prepare_cached("INSERT INTO note_search (rowid, text) VALUES (?1, ?2)")?
        .execute(params![note, text])?;
    Ok(())
}

/// An addendum's row, as it is written with the addendum.
pub(super) fn index_addendum(conn: &Connection, id: i64, text: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT INTO addendum_search (rowid, text) VALUES (?1, ?2)")?
        .execute(params![id, text])?;
    Ok(())
}

/// Every entry's indexed text as the record gives it, in id order: None for an entry whose
/// content no longer decodes (verify reports it; the index leaves it out).
fn each_entry_text(
    conn: &Connection,
    mut each: impl FnMut(i64, Option<String>) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare("SELECT id, payload, corrects, reason FROM entries ORDER BY id")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let payload: Option<String> = r.get(1).ok();
        let corrects: Option<i64> = r.get(2).ok().flatten();
        let reason: Option<String> = r.get(3).ok().flatten();
        let text = payload
            .and_then(|p| serde_json::from_str::<Payload>(&p).ok())
            .map(|p| search::entry_text(&p, corrects.zip(reason.as_deref())));
        each(id, text)?;
    }
    Ok(())
}

/// Each note's text as it stands (signed, else the latest draft), and each addendum's: the
/// rows of `note_search` and `addendum_search` the record gives, in id order.
const NOTE_TEXTS: &str = "SELECT n.id, coalesce(
        (SELECT text FROM note_signatures WHERE note_id = n.id),
        (SELECT text FROM note_drafts WHERE note_id = n.id ORDER BY id DESC LIMIT 1))
     FROM notes n ORDER BY n.id";
const ADDENDUM_TEXTS: &str = "SELECT id, text FROM note_addenda ORDER BY id";

/// Creates the index's tables (after dropping whatever stands in their place, shadow tables
/// included) and fills them from the record. Returns how many rows it holds.
pub(super) fn rebuild(conn: &Connection) -> rusqlite::Result<usize> {
    for (table, _) in TABLES {
        conn.execute_batch(&format!("DROP TABLE IF EXISTS {table}"))?;
        for shadow in SHADOWS {
            conn.execute_batch(&format!("DROP TABLE IF EXISTS {table}{shadow}"))?;
        }
    }
    conn.execute_batch(schema::CHART_SEARCH)?;
    fill(conn)
}

/// Fills the (empty) index from the record. Returns how many rows it holds.
pub(super) fn fill(conn: &Connection) -> rusqlite::Result<usize> {
    let mut rows = 0;
    {
        let mut insert = conn.prepare("INSERT INTO entry_search (rowid, text) VALUES (?1, ?2)")?;
        each_entry_text(conn, |id, text| {
            if let Some(text) = text {
                insert.execute(params![id, text])?;
                rows += 1;
            }
            Ok(())
        })?;
    }
    for (read, table) in [
        (NOTE_TEXTS, "note_search"),
        (ADDENDUM_TEXTS, "addendum_search"),
    ] {
        let mut stmt = conn.prepare(read)?;
        let mut insert = conn.prepare(&format!(
            "INSERT INTO {table} (rowid, text) VALUES (?1, ?2)"
        ))?;
        let mut found = stmt.query([])?;
        while let Some(r) = found.next()? {
            let text: Option<String> = r.get(1)?;
            if let Some(text) = text {
                insert.execute(params![r.get::<_, i64>(0)?, text])?;
                rows += 1;
            }
        }
    }
    Ok(rows)
}

/// `term*` for each word, all of them: each typed word begins a word of the text. The
/// words are letters and digits only (`domain::search::Words`); quoted all the same, so
/// that nothing in them is ever read as FTS5 syntax.
fn match_expression(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{}\" *", w.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// What the three reads of a search select, and what they join, for entries, notes and
/// addenda: `f` is the index table, `s` the session, `p` the patient.
const ENTRY_COLUMNS: &str = "e.id, e.session_id, s.kind, s.patient_id, p.name,
        e.event_at, e.event_offset, c.name, f.text, x.id, x.correction";
const ENTRY_JOINS: &str = "JOIN patients p ON p.id = s.patient_id
     JOIN clinicians c ON c.id = e.author_id
     LEFT JOIN entries x ON x.corrects = e.id";
const NOTE_COLUMNS: &str = "n.id, n.dosing_session_id, s.kind, s.patient_id, p.name,
        coalesce(g.signed_at, d.saved_at), coalesce(g.signed_offset, s.started_offset),
        coalesce(gc.name, dc.name), f.text, g.id IS NOT NULL";
const NOTE_JOINS: &str = "JOIN patients p ON p.id = s.patient_id
     LEFT JOIN note_signatures g ON g.note_id = n.id
     LEFT JOIN clinicians gc ON gc.id = g.signer_id
     LEFT JOIN note_drafts d ON d.id = (SELECT max(id) FROM note_drafts WHERE note_id = n.id)
     LEFT JOIN clinicians dc ON dc.id = d.author_id";
const ADDENDUM_COLUMNS: &str = "a.id, a.note_id, n.dosing_session_id, s.kind, s.patient_id,
        p.name, a.at, a.at_offset, c.name, f.text";
const ADDENDUM_JOINS: &str = "JOIN patients p ON p.id = s.patient_id
     JOIN clinicians c ON c.id = a.author_id";

/// What a search reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    Entries,
    Notes,
    Addenda,
}

/// The read of one kind, newest first, at most `?2` rows; `?1` is the match. It walks the
/// index newest first (by rowid: the order things were written) and stops at the limit. For
/// one patient (`?3`), the rowids found are held to their entries, notes or addenda, listed
/// once from their sessions by index (a list SQLite probes through a Bloom filter); the `+`
/// keeps that list from being handed to FTS5 as rowids to look up one by one, each lookup
/// reading the whole word list of a word most entries hold (seconds for `bp`, measured:
/// BENCHMARKS.md).
fn hits_sql(what: Read, one_patient: bool) -> String {
    let (columns, joins, index, from, theirs) = match what {
        Read::Entries => (
            ENTRY_COLUMNS,
            ENTRY_JOINS,
            "entry_search",
            "entry_search f CROSS JOIN entries e ON e.id = f.rowid
             CROSS JOIN sessions s ON s.id = e.session_id",
            "SELECT e2.id FROM sessions s2 JOIN entries e2 ON e2.session_id = s2.id
              WHERE s2.patient_id = ?3",
        ),
        Read::Notes => (
            NOTE_COLUMNS,
            NOTE_JOINS,
            "note_search",
            "note_search f CROSS JOIN notes n ON n.id = f.rowid
             CROSS JOIN sessions s ON s.id = n.dosing_session_id",
            "SELECT n2.id FROM sessions s2 JOIN notes n2 ON n2.dosing_session_id = s2.id
              WHERE s2.patient_id = ?3",
        ),
        Read::Addenda => (
            ADDENDUM_COLUMNS,
            ADDENDUM_JOINS,
            "addendum_search",
            "addendum_search f CROSS JOIN note_addenda a ON a.id = f.rowid
             CROSS JOIN notes n ON n.id = a.note_id
             CROSS JOIN sessions s ON s.id = n.dosing_session_id",
            "SELECT a2.id FROM sessions s2 JOIN notes n2 ON n2.dosing_session_id = s2.id
               JOIN note_addenda a2 ON a2.note_id = n2.id WHERE s2.patient_id = ?3",
        ),
    };
    let scope = if one_patient {
        format!("AND +f.rowid IN ({theirs})")
    } else {
        String::new()
    };
    format!(
        "SELECT {columns} FROM {from} {joins}
         WHERE {index} MATCH ?1 {scope} ORDER BY f.rowid DESC LIMIT ?2"
    )
}

/// A read's values: the match, the limit, and the patient when there is one.
fn values(expression: &str, limit: i64, patient: Option<PatientId>) -> Vec<Value> {
    let mut values = vec![Value::Text(expression.to_string()), Value::Integer(limit)];
    values.extend(patient.map(Value::Integer));
    values
}

fn session_kind(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<crate::domain::SessionKind> {
    let kind: String = r.get(i)?;
    kind.parse().map_err(|e: String| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
    })
}

/// Ids where the index and the record disagree: how many, and the first few.
#[derive(Default)]
struct Ids {
    count: usize,
    first: Vec<i64>,
}

impl Ids {
    fn add(&mut self, id: i64) {
        self.count += 1;
        if self.first.len() < 10 {
            self.first.push(id);
        }
    }

    /// "4, 9, 12", or "4, 9, ... (1,204 in all)".
    fn listed(&self) -> String {
        let shown: Vec<String> = self.first.iter().map(i64::to_string).collect();
        if self.count > self.first.len() {
            format!("{}, ... ({} in all)", shown.join(", "), self.count)
        } else {
            shown.join(", ")
        }
    }
}

#[derive(Default)]
struct Disagreements {
    left_out: Ids,
    extra: Ids,
    differ: Ids,
}

/// What a search found, newest first, and whether more was found than `limit`.
pub struct Hits {
    pub hits: Vec<Hit>,
    pub more: bool,
}

impl Chart {
    /// The entries, notes and addenda where every word of `words` begins a word of the text
    /// (`domain::search::Words`), of one patient or of all, newest first: at most `limit`,
    /// the most recently written when more match.
    pub fn search(
        &self,
        words: &[String],
        patient: Option<PatientId>,
        limit: usize,
    ) -> Result<Hits> {
        if words.is_empty() || limit == 0 {
            return Ok(Hits {
                hits: Vec::new(),
                more: false,
            });
        }
        let expression = match_expression(words);
        let take = i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1);
        let read = |what: Read,
                    map: &dyn Fn(&rusqlite::Row<'_>) -> rusqlite::Result<Hit>|
         -> Result<Vec<Hit>> {
            let sql = hits_sql(what, patient.is_some());
            let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
            stmt.query_map(params_from_iter(values(&expression, take, patient)), |r| {
                map(r)
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))
        };
        let entries = read(Read::Entries, &|r| {
            let by: Option<i64> = r.get(9)?;
            let how: Option<String> = r.get(10)?;
            let status = match (by, how.as_deref()) {
                (Some(by), Some("strike")) => EntryStatus::Struck { by },
                (Some(by), _) => EntryStatus::Amended { by },
                (None, _) => EntryStatus::Current,
            };
            Ok(Hit {
                found: Found::Entry {
                    id: r.get(0)?,
                    status,
                },
                session: r.get(1)?,
                session_kind: session_kind(r, 2)?,
                patient: r.get(3)?,
                patient_name: r.get(4)?,
                at: from_stored(r.get(5)?, r.get(6)?),
                author: r.get(7)?,
                text: r.get(8)?,
            })
        })?;
        let notes = read(Read::Notes, &|r| {
            Ok(Hit {
                found: Found::Note {
                    id: r.get(0)?,
                    signed: r.get(9)?,
                },
                session: r.get(1)?,
                session_kind: session_kind(r, 2)?,
                patient: r.get(3)?,
                patient_name: r.get(4)?,
                at: from_stored(r.get::<_, Option<i64>>(5)?.unwrap_or(0), r.get(6)?),
                author: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
                text: r.get(8)?,
            })
        })?;
        let addenda = read(Read::Addenda, &|r| {
            Ok(Hit {
                found: Found::Addendum {
                    id: r.get(0)?,
                    note: r.get(1)?,
                },
                session: r.get(2)?,
                session_kind: session_kind(r, 3)?,
                patient: r.get(4)?,
                patient_name: r.get(5)?,
                at: from_stored(r.get(6)?, r.get(7)?),
                author: r.get(8)?,
                text: r.get(9)?,
            })
        })?;
        let more = [&entries, &notes, &addenda].iter().any(|h| h.len() > limit);
        let mut hits: Vec<Hit> = entries
            .into_iter()
            .take(limit)
            .chain(notes.into_iter().take(limit))
            .chain(addenda.into_iter().take(limit))
            .collect();
        hits.sort_by_key(|h| std::cmp::Reverse(h.at));
        let more = more || hits.len() > limit;
        hits.truncate(limit);
        Ok(Hits { hits, more })
    }

    /// SQLite's plan (EXPLAIN QUERY PLAN details) for the entries a search reads, so that
    /// tests can hold it to the index.
    pub fn search_plan(&self, patient: Option<PatientId>) -> Result<Vec<String>> {
        let sql = format!(
            "EXPLAIN QUERY PLAN {}",
            hits_sql(Read::Entries, patient.is_some())
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        stmt.query_map(params_from_iter(values("\"a\" *", 10, patient)), |r| {
            r.get::<_, String>(3)
        })
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(|e| self.err(e))
    }

    /// Builds the search index again from the record, in one transaction, with an audit row
    /// (`search.rebuild` of the chart). Returns how many entries, notes and addenda it holds.
    pub fn rebuild_search_index(
        &mut self,
        now: chrono::DateTime<chrono::FixedOffset>,
    ) -> Result<usize> {
        let clinician = self.clinician.id;
        self.write(|tx| {
            let rows = rebuild(tx)?;
            let head: i64 =
                tx.query_row("SELECT coalesce(max(seq), 0) FROM audit", [], |r| r.get(0))?;
            tx.record(
                now.timestamp_millis(),
                clinician,
                "search.rebuild",
                super::audit::ObjectKind::Chart,
                head,
            )?;
            Ok(rows)
        })
    }

    /// Whether the search index's tables differ from those kapchart's migrations build.
    pub(super) fn search_index_tables_differ(&self) -> Result<bool> {
        Ok(self
            .schema_differences()?
            .iter()
            .any(|(name, _)| is_index_object(name)))
    }

    /// The chart's tables other than the search index's.
    pub(super) fn tables_beside_the_search_index(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .map_err(|e| self.err(e))?;
        let names = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))?;
        Ok(names.into_iter().filter(|n| !is_index_object(n)).collect())
    }

    /// Where the search index disagrees with the record, one line each, saying how to
    /// rebuild it: its tables missing or changed, its word lists not those of its texts
    /// (`integrity` holds SQLite's own check of them), an entry, note or addendum it leaves out,
    /// holds without the record holding it, or holds with other text. Reads only.
    pub fn search_index_problems(&self, integrity: &[String]) -> Result<Vec<String>> {
        let say = |what: String| {
            format!(
                "the search index {what} (derived data, not the record: searches may miss or \
                 show the wrong text; rebuild it with `{REBUILD}`)"
            )
        };
        let mut problems: Vec<String> = self
            .schema_differences()?
            .into_iter()
            .filter(|(name, _)| is_index_object(name))
            .map(|(_, what)| say(format!("does not have kapchart's tables: {what}")))
            .collect();
        // Tables that are not kapchart's cannot be compared with the record.
        let tables_differ = !problems.is_empty();
        problems.extend(
            integrity
                .iter()
                .map(|line| say(format!("is damaged: {line}"))),
        );
        let present: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'
                   AND name IN ('entry_search', 'note_search', 'addendum_search')
                   AND sql LIKE 'CREATE VIRTUAL TABLE%'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        if present < 3 || tables_differ {
            return Ok(problems);
        }
        for (table, what) in TABLES {
            let found = self.compare(table, |each| match table {
                "entry_search" => each_entry_text(&self.conn, |id, text| match text {
                    Some(text) => each(id, &text),
                    None => Ok(()),
                }),
                _ => {
                    let read = if table == "note_search" {
                        NOTE_TEXTS
                    } else {
                        ADDENDUM_TEXTS
                    };
                    let mut stmt = self.conn.prepare(read)?;
                    let mut rows = stmt.query([])?;
                    while let Some(r) = rows.next()? {
                        if let Some(text) = r.get::<_, Option<String>>(1)? {
                            each(r.get(0)?, &text)?;
                        }
                    }
                    Ok(())
                }
            });
            let found = match found {
                Ok(found) => found,
                // What cannot be read is said, as the rest of verify goes on.
                Err(e) => {
                    problems.push(say(format!("cannot be read: {e}")));
                    continue;
                }
            };
            for (ids, said) in [
                (found.left_out, format!("leaves out {what}")),
                (found.extra, format!("lists {what} the chart does not hold")),
                (
                    found.differ,
                    format!("holds other text than the record for {what}"),
                ),
            ] {
                if ids.count > 0 {
                    problems.push(say(format!("{said}: {}", ids.listed())));
                }
            }
        }
        Ok(problems)
    }

    /// Walks the record's texts (`expected`, in id order) beside the index table's rows (in
    /// rowid order), keeping only the ids where they disagree: memory stays the same however
    /// large the chart.
    fn compare(
        &self,
        table: &str,
        expected: impl FnOnce(&mut dyn FnMut(i64, &str) -> rusqlite::Result<()>) -> rusqlite::Result<()>,
    ) -> rusqlite::Result<Disagreements> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT rowid, text FROM {table} ORDER BY rowid"))?;
        let mut indexed = stmt.query([])?;
        let next =
            |rows: &mut rusqlite::Rows<'_>| -> rusqlite::Result<Option<(i64, Option<String>)>> {
                match rows.next()? {
                    Some(r) => Ok(Some((r.get(0)?, r.get(1)?))),
                    None => Ok(None),
                }
            };
        let mut found = Disagreements::default();
        let mut pending = next(&mut indexed)?;
        expected(&mut |id, text| {
            while let Some((row, _)) = &pending {
                if *row >= id {
                    break;
                }
                found.extra.add(*row);
                pending = next(&mut indexed)?;
            }
            match &pending {
                Some((row, held)) if *row == id => {
                    if held.as_deref() != Some(text) {
                        found.differ.add(id);
                    }
                    pending = next(&mut indexed)?;
                }
                _ => found.left_out.add(id),
            }
            Ok(())
        })?;
        while let Some((row, _)) = pending {
            found.extra.add(row);
            pending = next(&mut indexed)?;
        }
        Ok(found)
    }

    /// The text the index holds for an entry (None when it holds none), for tests.
    #[doc(hidden)]
    pub fn indexed_entry_text(&self, id: EntryId) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT text FROM entry_search WHERE rowid = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }
}
