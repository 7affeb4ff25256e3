//! The chain walk: every audit row's hash recomputed in order (and its signature checked
//! against the team's keys), the first break named, then every stored row checked to be
//! covered by the chain.

use super::{AuditFields, GENESIS, Head, ObjectKind, chain_key, content_hash, hash_at};
use rusqlite::{Connection, OptionalExtension};

/// The first place where the audit trail does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// The sequence number of the first bad audit row, or of the row after which the
    /// trail breaks off.
    pub seq: i64,
    pub why: String,
}

/// What a walk of the chain found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Walk {
    /// Rows that held, in order, before any break.
    pub rows: i64,
    pub first_break: Option<Break>,
    /// The first row whose signature does not hold (or that lacks one it must carry).
    pub first_bad_signature: Option<Break>,
    /// Rows whose signature was checked.
    pub signed: u64,
    /// Rows from before the chart began signing (their hash chain alone holds them).
    pub before_signing: u64,
    /// The last row walked that held: where a later check may start.
    pub last: Option<Head>,
}

/// Where signing starts: the first audit row that must be signed, and the last team member
/// recorded before certificates (None for a chart that has not taken the migration).
pub fn signed_from(conn: &Connection) -> rusqlite::Result<Option<(i64, i64)>> {
    let exists: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'signed_from')",
        )?
        .query_row([], |r| r.get(0))?;
    if !exists {
        return Ok(None);
    }
    conn.prepare_cached("SELECT audit_seq, team_member FROM signed_from WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
}

/// Whether a walk checks the rows' Ed25519 signatures. Only the benchmarks skip them, to
/// time the chain walk alone beside the whole `verify` on the same chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowSignatures {
    Check,
    Skip,
}

/// Walks the whole chain, checking every signature against `team` (unless `signatures`
/// says to skip them), then checks that every stored row is covered by it.
pub fn walk(
    conn: &Connection,
    team: &crate::store::chain::TeamKeys,
    signatures: RowSignatures,
) -> rusqlite::Result<Walk> {
    let mut walk = walk_in(conn, None, team, signatures)?;
    if walk.first_break.is_some() {
        return Ok(walk);
    }
    // Every row must be in the trail: a row slipped in behind kapchart's back is not.
    for kind in ObjectKind::ALL {
        let sql = format!(
            "SELECT t.id FROM {} t WHERE NOT EXISTS
               (SELECT 1 FROM audit a WHERE a.object_kind = ?1 AND a.object_id = t.id)
             ORDER BY t.id LIMIT 1",
            kind.table()
        );
        let stray: Option<i64> = conn
            .query_row(&sql, [kind.as_str()], |r| r.get(0))
            .optional()?;
        if let Some(id) = stray {
            walk.first_break = Some(Break {
                seq: walk.rows,
                why: format!(
                    "{} {id} is not in the audit trail (written behind kapchart's back)",
                    kind.as_str()
                ),
            });
            return Ok(walk);
        }
    }
    Ok(walk)
}

/// Walks the chain from the row after `after` (from the first row when None) to the newest:
/// each row follows from the one before, its hash covers its fields, the row it records
/// still has the content it had, and (from where the chart began signing) its signature
/// verifies with its clinician's key in `team`. `after` itself must still be in the chart
/// with its hash. The check on open walks from the last head it checked.
pub fn walk_after(
    conn: &Connection,
    after: Option<&Head>,
    team: &crate::store::chain::TeamKeys,
) -> rusqlite::Result<Walk> {
    walk_in(conn, after, team, RowSignatures::Check)
}

fn walk_in(
    conn: &Connection,
    after: Option<&Head>,
    team: &crate::store::chain::TeamKeys,
    signatures: RowSignatures,
) -> rusqlite::Result<Walk> {
    let key = chain_key(conn)?;
    let keyed = crate::store::user_version(conn)? >= crate::store::schema::CHAIN_KEY_VERSION;
    let mut walk = Walk::default();
    if keyed && key.is_none() {
        walk.first_break = Some(Break {
            seq: 1,
            why: "the chart's chain key is missing (removed behind kapchart's back)".into(),
        });
        return Ok(walk);
    }
    let signing_from = signed_from(conn)?.map_or(i64::MAX, |(seq, _)| seq);
    let (mut expected_seq, mut expected_prev) = match after {
        None => (1, GENESIS.to_string()),
        Some(h) => match hash_at(conn, h.seq)? {
            Some(found) if found == h.hash => (h.seq + 1, h.hash.clone()),
            _ => {
                walk.first_break = Some(Break {
                    seq: h.seq,
                    why: format!(
                        "the chart no longer holds the head it held when it was last checked ({h}): rows were removed or rewritten since"
                    ),
                });
                return Ok(walk);
            }
        },
    };
    walk.last = after.cloned();
    let mut stmt = conn.prepare_cached(
        "SELECT seq, at, clinician_id, action, object_kind, object_id, content_hash, prev_hash, hash, signature
         FROM audit WHERE seq >= ?1 ORDER BY seq",
    )?;
    let mut rows = stmt.query([expected_seq])?;
    let mut verifier = crate::store::chain::Verifier::new();
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let action: String = row.get(3)?;
        let object_kind: String = row.get(4)?;
        let object_id: i64 = row.get(5)?;
        let stored_content: String = row.get(6)?;
        let prev_hash: String = row.get(7)?;
        let hash: String = row.get(8)?;
        let clinician_id: Option<i64> = row.get(2)?;
        let fields = AuditFields {
            seq,
            at_ms: row.get(1)?,
            clinician_id,
            action: &action,
            object_kind: &object_kind,
            object_id,
            content_hash: &stored_content,
            prev_hash: &prev_hash,
        };
        let broken = |why: String| Some(Break { seq, why });
        if seq != expected_seq {
            walk.first_break = broken(format!(
                "expected audit row {expected_seq} here, found {seq} (rows missing)"
            ));
            break;
        }
        if prev_hash != expected_prev {
            walk.first_break = broken("does not follow from the row before it".into());
            break;
        }
        let text = fields.text();
        if fields.hash_of_text(&text, key.as_ref()) != hash {
            walk.first_break = broken("its own fields were changed".into());
            break;
        }
        // The keyed part starts with the key's own row, which pins where it starts.
        if key.as_ref().is_some_and(|k| k.keyed_from == seq) && object_kind != "chain-key" {
            walk.first_break =
                broken("the keyed audit trail does not start with the chain key".into());
            break;
        }
        let Some(kind) = ObjectKind::parse(&object_kind) else {
            walk.first_break = broken(format!("records an unknown kind of row '{object_kind}'"));
            break;
        };
        // A backup names the audit row its copy ends at: always an earlier one.
        if kind == ObjectKind::Chart && object_id >= seq {
            walk.first_break = broken(format!(
                "names audit row {object_id}, which is not before it"
            ));
            break;
        }
        match content_hash(conn, kind, object_id)? {
            None => {
                walk.first_break = broken(format!("{object_kind} {object_id} is missing"));
                break;
            }
            Some(h) if h != stored_content => {
                walk.first_break = broken(format!(
                    "{object_kind} {object_id} was changed after it was written"
                ));
                break;
            }
            Some(_) => {}
        }
        if seq < signing_from {
            walk.before_signing += 1;
        } else if signatures == RowSignatures::Check {
            check_signature(
                &mut verifier,
                &fields,
                row.get_ref(9)?.as_blob_or_null()?,
                team,
            );
        }
        walk.last = Some(Head {
            seq,
            hash: hash.clone(),
        });
        expected_prev = hash;
        expected_seq += 1;
        walk.rows += 1;
    }
    walk.signed = verifier.checked;
    walk.first_bad_signature = verifier.finish().map(|(seq, why)| Break { seq, why });
    Ok(walk)
}

/// Queues one signed row's check, or fails it at once when it cannot be checked.
fn check_signature(
    verifier: &mut crate::store::chain::Verifier,
    fields: &AuditFields<'_>,
    signature: Option<&[u8]>,
    team: &crate::store::chain::TeamKeys,
) {
    let seq = fields.seq;
    let what = |name: &str| {
        format!(
            "audit row {seq} ({} of {} {}{name})",
            fields.action, fields.object_kind, fields.object_id
        )
    };
    let Some(clinician) = fields.clinician_id else {
        verifier.fail(
            seq,
            format!(
                "{}: it names no clinician, and every row since the chart began signing is signed by its author",
                what("")
            ),
        );
        return;
    };
    let Some(member) = team.get(&clinician) else {
        verifier.fail(
            seq,
            format!(
                "{}: its author, clinician {clinician}, has no key recorded on the team",
                what("")
            ),
        );
        return;
    };
    let by = format!(" by {} (clinician {clinician})", member.name);
    let Some(signature) = signature else {
        verifier.fail(seq, format!("{}: its signature is missing", what(&by)));
        return;
    };
    if !member.trusted {
        verifier.fail(
            seq,
            format!(
                "{}: its author's keys are not certified by the team",
                what(&by)
            ),
        );
        return;
    }
    if member.removed_at_seq.is_some_and(|removed| seq > removed) {
        verifier.fail(
            seq,
            format!(
                "{}: signed after its author was removed from the team",
                what(&by)
            ),
        );
        return;
    }
    verifier.push(seq, || what(&by), fields, signature, member);
}
