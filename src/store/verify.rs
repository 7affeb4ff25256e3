//! `verify`: every check of the chart in one read transaction, and what it found.

use super::{Chart, Result, SignatureCheck, audit, search_index, team};

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// `PRAGMA integrity_check` output: `["ok"]` for a sound file.
    pub integrity: Vec<String>,
    /// Audit rows that verified, in order, before any break.
    pub audit_rows: i64,
    pub first_break: Option<audit::Break>,
    /// The first audit row whose author's signature does not hold.
    pub first_bad_signature: Option<audit::Break>,
    /// Audit rows whose author's signature verified, and rows from before the chart signed.
    pub signed_rows: u64,
    pub rows_before_signing: u64,
    /// The team's certificates, back to the root.
    pub team: team::TeamCheck,
    /// Keyring entries the team does not certify, and removals not finished.
    pub keyring: Vec<String>,
    /// Signed notes and addenda whose text no longer matches their SHA-256.
    pub broken_signatures: Vec<String>,
    /// The Ed25519 signatures: who signed what, how many carry none (signed before), and
    /// each one that does not verify.
    pub signatures: SignatureCheck,
    /// Triggers, tables or indexes that differ from what kapchart's migrations build.
    pub schema_problems: Vec<String>,
    /// Stored rows whose content no longer decodes.
    pub undecodable: Vec<String>,
    /// Sessions where the home screen's kept lists (open sessions, integrations awaited)
    /// disagree with the record.
    pub kept_lists: Vec<String>,
    /// Where the patient search index, derived from the patients, disagrees with them.
    pub patient_search: Vec<String>,
    /// Where the search index of entries, notes and addenda disagrees with the record. Not
    /// damage to the record: it is rebuilt from the record (`Chart::rebuild_search_index`).
    pub search_index: Vec<String>,
    /// The newest audit row, to anchor outside the file.
    pub head: Option<audit::Head>,
}

impl VerifyReport {
    /// Nothing found: neither damage nor a search index that disagrees with the record.
    pub fn is_ok(&self) -> bool {
        self.problems().is_empty() && self.search_index.is_empty()
    }

    /// Every problem found with the record, one line each, most fundamental first (the
    /// search index, which is rebuilt rather than restored, is apart: `search_index`).
    pub fn problems(&self) -> Vec<String> {
        let mut out = self.damage();
        out.extend(self.keyring.iter().cloned());
        out
    }

    /// The problems of the record itself: what marks the chart damaged and stops writes.
    /// (The keyring's are not: the next change to the team seals the chart key only to the
    /// keys the team certifies, which is what mends them.)
    pub fn damage(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.integrity != ["ok"] {
            out.push(format!(
                "the chart file is damaged: {}",
                self.integrity.join("; ")
            ));
        }
        out.extend(self.schema_problems.iter().map(|p| format!("schema: {p}")));
        if let Some(b) = &self.first_break {
            out.push(format!(
                "audit trail broken at sequence number {}: {}",
                b.seq, b.why
            ));
        }
        if let Some(b) = &self.first_bad_signature {
            out.push(format!(
                "signature broken at sequence number {}: {}",
                b.seq, b.why
            ));
        }
        out.extend(self.team.problems.iter().cloned());
        out.extend(
            self.broken_signatures
                .iter()
                .map(|s| format!("{s}: its text no longer matches its signature (SHA-256)")),
        );
        out.extend(self.signatures.problems.iter().cloned());
        out.extend(self.undecodable.iter().cloned());
        out.extend(
            self.kept_lists
                .iter()
                .map(|p| format!("home screen lists: {p}")),
        );
        out.extend(self.patient_search.iter().cloned());
        out
    }
}

impl Chart {
    /// Runs `PRAGMA integrity_check`, compares the schema with kapchart's, walks the audit
    /// chain, recomputes every signature, decodes every stored payload and recomputes the
    /// home screen's kept lists from the record.
    pub fn verify(&self) -> Result<VerifyReport> {
        self.verify_checking(audit::RowSignatures::Check)
    }

    /// `verify` without checking any Ed25519 signature (the audit rows' and the notes'):
    /// what the chain walk and the other checks cost alone, which the benchmarks time beside
    /// the whole `verify` on the same chart. Who may use it: the benchmarks (benches/verify.rs)
    /// and the test that holds it to differing from `verify` in the signatures only
    /// (tests/verify_sides.rs). Never a user's check, nor a use case's.
    #[doc(hidden)]
    pub fn verify_without_signatures(&self) -> Result<VerifyReport> {
        self.verify_checking(audit::RowSignatures::Skip)
    }

    fn verify_checking(&self, signatures: audit::RowSignatures) -> Result<VerifyReport> {
        // One read transaction: every check, and the head printed, see the same chart while
        // other processes go on writing.
        let snapshot = self.conn.is_autocommit();
        if snapshot {
            self.conn
                .execute_batch("BEGIN DEFERRED")
                .map_err(|e| self.err(e))?;
        }
        let report = self.verify_now(signatures);
        if snapshot {
            let _ = self.conn.execute_batch("COMMIT");
        }
        report
    }

    fn verify_now(&self, signatures: audit::RowSignatures) -> Result<VerifyReport> {
        let integrity = match self.integrity_lines(None) {
            Ok(lines) => lines,
            // An FTS5 table of the search index that lost a table of its own stops SQLite's
            // check of the whole file: the rest is checked table by table (the index's
            // problems are named by `search_index_problems`).
            Err(_) if self.search_index_tables_differ()? => {
                let mut lines = Vec::new();
                for table in self.tables_beside_the_search_index()? {
                    lines.extend(
                        self.integrity_lines(Some(&table))
                            .map_err(|e| self.err(e))?
                            .into_iter()
                            .filter(|l| l != "ok"),
                    );
                }
                if lines.is_empty() {
                    lines.push("ok".into());
                }
                lines
            }
            Err(e) => return Err(self.err(e)),
        };
        let team = self.check_team()?;
        let walk = audit::walk(&self.conn, &team.keys, signatures).map_err(|e| self.err(e))?;
        let keyring = self.keyring_problems(&team)?;
        // SQLite checks the FTS5 tables' word lists too: those of the search index are the
        // index's problems, not the file's.
        let (search_integrity, mut integrity): (Vec<String>, Vec<String>) = integrity
            .into_iter()
            .partition(|line| search_index::names_index_table(line));
        if integrity.is_empty() {
            integrity.push("ok".into());
        }
        Ok(VerifyReport {
            integrity,
            audit_rows: walk.rows,
            first_break: walk.first_break,
            first_bad_signature: walk.first_bad_signature,
            signed_rows: walk.signed,
            rows_before_signing: walk.before_signing,
            team,
            keyring,
            broken_signatures: self.broken_signatures()?,
            signatures: match signatures {
                audit::RowSignatures::Check => self.check_ed25519_signatures()?,
                audit::RowSignatures::Skip => Default::default(),
            },
            schema_problems: self.schema_problems()?,
            undecodable: self.undecodable_rows()?,
            kept_lists: self.kept_lists_disagreeing()?,
            patient_search: self.patient_search_problems()?,
            search_index: self.search_index_problems(&search_integrity)?,
            head: self.head()?,
        })
    }

    /// `PRAGMA integrity_check`, of the whole file or of one table.
    fn integrity_lines(&self, table: Option<&str>) -> rusqlite::Result<Vec<String>> {
        let mut lines = Vec::new();
        let sql = match table {
            Some(t) => format!("PRAGMA integrity_check(\"{}\")", t.replace('"', "\"\"")),
            None => "PRAGMA integrity_check".to_string(),
        };
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            lines.push(r.get::<_, String>(0)?);
        }
        Ok(lines)
    }

    /// The newest audit row.
    pub fn head(&self) -> Result<Option<audit::Head>> {
        audit::head(&self.conn).map_err(|e| self.err(e))
    }

    /// Whether the chart still holds `head`: the audit row at its sequence number has its
    /// hash. (Whether the chain up to it holds is `verify`'s to say.)
    pub fn holds_head(&self, head: &audit::Head) -> Result<bool> {
        let found = audit::hash_at(&self.conn, head.seq).map_err(|e| self.err(e))?;
        Ok(found.as_deref() == Some(head.hash.as_str()))
    }
}
