//! The chart's schema, as forward migrations. `PRAGMA user_version` holds how many have run.
//! Never edit a released migration: add a new one. One file because the migrations are one
//! ordered history, read together: each takes the chart from one version to the next, and
//! none changes once released.

/// kapchart's SQLite `application_id` ("KAPC"), so that kapchart knows its own files.
pub const APPLICATION_ID: i32 = 0x4B41_5043;

/// Each migration takes the chart from version `index` to `index + 1`.
pub const MIGRATIONS: &[&str] = &[
    V1,
    V2,
    V3,
    V4,
    V5_TEAM,
    V6_ED25519_SIGNATURES,
    REMS_QUEUE_INDEXES,
    V_SPEED_INDEXES,
    HOME_SCAN_INDEXES,
    HOME_LISTS_KEPT_BY_TRIGGERS,
    PATIENT_LIST_SEARCH,
    CHART_SEARCH,
    SIGNED_CHAIN,
    STOCK,
    CHART_IDENTITY,
    STOCK_HOLDING_KEPT_BY_TRIGGER,
    SYNC_LOG,
    CLINICIAN_IDENTIFIERS,
    SYNC_BASE,
];

/// The version that keys the audit chain: after its SQL, the store creates the chain key and
/// records it (`audit::install_chain_key`), in the same transaction.
pub const CHAIN_KEY_VERSION: i64 = 4;

/// The version from which every audit row is signed by its author (`SIGNED_CHAIN`), found by
/// the migration's place in the list (other migrations may come before or after it).
pub fn signed_chain_version() -> i64 {
    MIGRATIONS
        .iter()
        .position(|m| *m == SIGNED_CHAIN)
        .map_or(LATEST, |i| i as i64 + 1)
}

/// The schema version this kapchart writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// Version 1: clinicians, patients, sessions, entries and the audit trail. Every table is
/// append-only; triggers refuse UPDATE and DELETE so that nothing, kapchart included, can
/// change the record in place.
const V1: &str = r#"
CREATE TABLE clinicians (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL CHECK (length(trim(name)) > 0),
    created_at  INTEGER NOT NULL
);

CREATE TABLE patients (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL CHECK (length(trim(name)) > 0),
    dob         TEXT NOT NULL,
    mrn         TEXT,
    weight_kg   REAL CHECK (weight_kg IS NULL OR weight_kg > 0),
    created_at  INTEGER NOT NULL,
    created_by  INTEGER NOT NULL REFERENCES clinicians(id)
);

CREATE TABLE sessions (
    id                 INTEGER PRIMARY KEY,
    patient_id         INTEGER NOT NULL REFERENCES patients(id),
    kind               TEXT NOT NULL
        CHECK (kind IN ('intake', 'preparation', 'dosing', 'integration', 'follow-up')),
    started_at         INTEGER NOT NULL,
    started_offset     INTEGER NOT NULL,
    clinician_id       INTEGER NOT NULL REFERENCES clinicians(id),
    intention          TEXT,
    dosing_session_id  INTEGER REFERENCES sessions(id),
    CHECK ((kind = 'integration') = (dosing_session_id IS NOT NULL))
);
CREATE INDEX sessions_patient ON sessions(patient_id, started_at);
CREATE INDEX sessions_started ON sessions(started_at);

CREATE TABLE entries (
    id               INTEGER PRIMARY KEY,
    session_id       INTEGER NOT NULL REFERENCES sessions(id),
    kind             TEXT NOT NULL,
    payload          TEXT NOT NULL,
    event_at         INTEGER NOT NULL,
    event_offset     INTEGER NOT NULL,
    recorded_at      INTEGER NOT NULL,
    recorded_offset  INTEGER NOT NULL,
    author_id        INTEGER NOT NULL REFERENCES clinicians(id),
    flags            TEXT NOT NULL DEFAULT '[]',
    corrects         INTEGER REFERENCES entries(id),
    correction       TEXT CHECK (correction IN ('amend', 'strike')),
    reason           TEXT,
    CHECK ((corrects IS NULL) = (correction IS NULL)),
    CHECK (corrects IS NULL OR length(trim(reason)) > 0),
    CHECK ((kind = 'strike') = (correction IS 'strike'))
);
CREATE INDEX entries_session_event ON entries(session_id, event_at);
-- An entry is corrected at most once: a correction chain never forks.
CREATE UNIQUE INDEX entries_corrects ON entries(corrects) WHERE corrects IS NOT NULL;

CREATE TABLE audit (
    seq           INTEGER PRIMARY KEY,
    at            INTEGER NOT NULL,
    clinician_id  INTEGER,
    action        TEXT NOT NULL,
    object_kind   TEXT NOT NULL,
    object_id     INTEGER NOT NULL,
    content_hash  TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX audit_object ON audit(object_kind, object_id);

CREATE TRIGGER clinicians_no_update BEFORE UPDATE ON clinicians
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: clinicians cannot be changed'); END;
CREATE TRIGGER clinicians_no_delete BEFORE DELETE ON clinicians
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: clinicians cannot be deleted'); END;
CREATE TRIGGER patients_no_update BEFORE UPDATE ON patients
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: patients cannot be changed'); END;
CREATE TRIGGER patients_no_delete BEFORE DELETE ON patients
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: patients cannot be deleted'); END;
CREATE TRIGGER sessions_no_update BEFORE UPDATE ON sessions
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: sessions cannot be changed'); END;
CREATE TRIGGER sessions_no_delete BEFORE DELETE ON sessions
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: sessions cannot be deleted'); END;
CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: entries cannot be changed'); END;
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: entries cannot be deleted'); END;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: audit rows cannot be changed'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: audit rows cannot be deleted'); END;
"#;

/// Version 2: the course around the sessions. Patient details that change (weight, contacts,
/// medications) as new versions; courses with their plan and goals; integration notes with
/// their drafts, the signed text (locked) and addenda. All append-only.
const V2: &str = r#"
CREATE TABLE patient_details (
    id          INTEGER PRIMARY KEY,
    patient_id  INTEGER NOT NULL REFERENCES patients(id),
    details     TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    author_id   INTEGER NOT NULL REFERENCES clinicians(id)
);
CREATE INDEX patient_details_patient ON patient_details(patient_id, id);

CREATE TABLE courses (
    id              INTEGER PRIMARY KEY,
    patient_id      INTEGER NOT NULL REFERENCES patients(id),
    planned_dosing  INTEGER NOT NULL CHECK (planned_dosing > 0),
    goals           TEXT NOT NULL DEFAULT '[]',
    started_at      INTEGER NOT NULL,
    author_id       INTEGER NOT NULL REFERENCES clinicians(id)
);
CREATE INDEX courses_patient ON courses(patient_id, id);

CREATE TABLE notes (
    id                 INTEGER PRIMARY KEY,
    dosing_session_id  INTEGER NOT NULL UNIQUE REFERENCES sessions(id),
    format             TEXT NOT NULL CHECK (format IN ('dap', 'soap', 'birp')),
    created_at         INTEGER NOT NULL,
    author_id          INTEGER NOT NULL REFERENCES clinicians(id)
);

CREATE TABLE note_drafts (
    id        INTEGER PRIMARY KEY,
    note_id   INTEGER NOT NULL REFERENCES notes(id),
    text      TEXT NOT NULL,
    saved_at  INTEGER NOT NULL,
    author_id INTEGER NOT NULL REFERENCES clinicians(id)
);
CREATE INDEX note_drafts_note ON note_drafts(note_id, id);

CREATE TABLE note_signatures (
    id         INTEGER PRIMARY KEY,
    note_id    INTEGER NOT NULL UNIQUE REFERENCES notes(id),
    text       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    signer_id  INTEGER NOT NULL REFERENCES clinicians(id),
    signed_at  INTEGER NOT NULL,
    signed_offset INTEGER NOT NULL,
    reason     TEXT
);

CREATE TABLE note_addenda (
    id         INTEGER PRIMARY KEY,
    note_id    INTEGER NOT NULL REFERENCES note_signatures(note_id),
    text       TEXT NOT NULL CHECK (length(trim(text)) > 0),
    sha256     TEXT NOT NULL,
    author_id  INTEGER NOT NULL REFERENCES clinicians(id),
    at         INTEGER NOT NULL,
    at_offset  INTEGER NOT NULL
);
CREATE INDEX note_addenda_note ON note_addenda(note_id, id);

-- A signed note takes no more drafts: after signing, only addenda.
CREATE TRIGGER note_drafts_after_signing BEFORE INSERT ON note_drafts
WHEN EXISTS (SELECT 1 FROM note_signatures WHERE note_id = NEW.note_id)
BEGIN SELECT RAISE(ABORT, 'kapchart note is signed: add an addendum instead'); END;
CREATE TRIGGER patient_details_no_update BEFORE UPDATE ON patient_details
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: patient details cannot be changed'); END;
CREATE TRIGGER patient_details_no_delete BEFORE DELETE ON patient_details
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: patient details cannot be deleted'); END;
CREATE TRIGGER courses_no_update BEFORE UPDATE ON courses
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: courses cannot be changed'); END;
CREATE TRIGGER courses_no_delete BEFORE DELETE ON courses
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: courses cannot be deleted'); END;
CREATE TRIGGER notes_no_update BEFORE UPDATE ON notes
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: notes cannot be changed'); END;
CREATE TRIGGER notes_no_delete BEFORE DELETE ON notes
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: notes cannot be deleted'); END;
CREATE TRIGGER note_drafts_no_update BEFORE UPDATE ON note_drafts
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: note drafts cannot be changed'); END;
CREATE TRIGGER note_drafts_no_delete BEFORE DELETE ON note_drafts
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: note drafts cannot be deleted'); END;
CREATE TRIGGER note_signatures_no_update BEFORE UPDATE ON note_signatures
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: note signatures cannot be changed'); END;
CREATE TRIGGER note_signatures_no_delete BEFORE DELETE ON note_signatures
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: note signatures cannot be deleted'); END;
CREATE TRIGGER note_addenda_no_update BEFORE UPDATE ON note_addenda
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: note addenda cannot be changed'); END;
CREATE TRIGGER note_addenda_no_delete BEFORE DELETE ON note_addenda
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: note addenda cannot be deleted'); END;
"#;

/// Version 3: a covering index of session-end entries, which every session list looks up
/// per session (a plain (session_id, kind) index was measured and not chosen by SQLite; this
/// one is: all sessions of a ten-year chart in 47-69 ms instead of 391 ms, BENCHMARKS.md).
const V3: &str = r#"
CREATE INDEX entries_session_end ON entries(session_id, event_at, event_offset)
    WHERE kind = 'session-end';
"#;

/// Version 4: the chain key, a random secret that keys the audit chain's HMAC from here on.
/// One row, append-only like every table; its value is written by the store, not by SQL.
const V4: &str = r#"
CREATE TABLE chain_key (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    secret      BLOB NOT NULL CHECK (length(secret) = 32),
    keyed_from  INTEGER NOT NULL CHECK (keyed_from > 0),
    created_at  INTEGER NOT NULL
);
CREATE TRIGGER chain_key_no_update BEFORE UPDATE ON chain_key
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: the chain key cannot be changed'); END;
CREATE TRIGGER chain_key_no_delete BEFORE DELETE ON chain_key
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: the chain key cannot be deleted'); END;
"#;

/// Version 5: the clinic's team. Each clinician's role, credentials and public keys (X25519
/// receives the chart key, Ed25519 verifies their signatures), and removals from the team
/// with who removed them and why. A clinician is never deleted and their row never changes:
/// entries keep their author after a removal. The private keys are not here: they are in
/// the keyring beside the chart, wrapped under each clinician's passphrase.
const V5_TEAM: &str = r#"
CREATE TABLE team_members (
    id              INTEGER PRIMARY KEY,
    clinician_id    INTEGER NOT NULL UNIQUE REFERENCES clinicians(id),
    role            TEXT NOT NULL
        CHECK (role IN ('prescriber', 'therapist', 'nurse', 'monitor', 'admin')),
    credentials     TEXT,
    x25519_public   BLOB NOT NULL CHECK (length(x25519_public) = 32),
    ed25519_public  BLOB NOT NULL CHECK (length(ed25519_public) = 32),
    added_at        INTEGER NOT NULL,
    added_by        INTEGER REFERENCES clinicians(id)
);

CREATE TABLE team_removals (
    id            INTEGER PRIMARY KEY,
    clinician_id  INTEGER NOT NULL UNIQUE REFERENCES team_members(clinician_id),
    removed_at    INTEGER NOT NULL,
    removed_by    INTEGER NOT NULL REFERENCES clinicians(id),
    reason        TEXT NOT NULL CHECK (length(trim(reason)) > 0)
);

CREATE TRIGGER team_members_no_update BEFORE UPDATE ON team_members
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: team members cannot be changed'); END;
CREATE TRIGGER team_members_no_delete BEFORE DELETE ON team_members
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: team members cannot be deleted'); END;
CREATE TRIGGER team_removals_no_update BEFORE UPDATE ON team_removals
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: team removals cannot be changed'); END;
CREATE TRIGGER team_removals_no_delete BEFORE DELETE ON team_removals
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: team removals cannot be deleted'); END;
"#;

/// Version 6: signatures that name who. Each note signature and addendum signed since this
/// version carries its signer's Ed25519 signature over the signed statement (note, hash of
/// the text, signer id, name and public key, time: `domain::signature`), with the public key
/// it was made with and the version of the message signed. One row per note signature or
/// addendum, written in the same transaction; append-only like every table. Notes signed
/// before have no row here and keep their SHA-256 alone: `ed25519_signatures_from` records,
/// once, the last note signature and addendum the chart held when it took this version, so
/// that a signature from later without its Ed25519 row is found missing.
const V6_ED25519_SIGNATURES: &str = r#"
CREATE TABLE ed25519_signatures (
    id                 INTEGER PRIMARY KEY,
    note_signature_id  INTEGER UNIQUE REFERENCES note_signatures(id),
    addendum_id        INTEGER UNIQUE REFERENCES note_addenda(id),
    message_version    INTEGER NOT NULL CHECK (message_version >= 1),
    signer_public      BLOB NOT NULL CHECK (length(signer_public) = 32),
    signature          BLOB NOT NULL CHECK (length(signature) = 64),
    CHECK ((note_signature_id IS NULL) <> (addendum_id IS NULL))
);

CREATE TABLE ed25519_signatures_from (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    note_signature_id  INTEGER NOT NULL,
    addendum_id        INTEGER NOT NULL
);
INSERT INTO ed25519_signatures_from (id, note_signature_id, addendum_id) VALUES (
    1,
    (SELECT coalesce(max(id), 0) FROM note_signatures),
    (SELECT coalesce(max(id), 0) FROM note_addenda)
);

CREATE TRIGGER ed25519_signatures_from_no_update BEFORE UPDATE ON ed25519_signatures_from
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: where signatures start cannot be changed'); END;
CREATE TRIGGER ed25519_signatures_from_no_delete BEFORE DELETE ON ed25519_signatures_from
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: where signatures start cannot be deleted'); END;
CREATE TRIGGER ed25519_signatures_no_update BEFORE UPDATE ON ed25519_signatures
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: signatures cannot be changed'); END;
CREATE TRIGGER ed25519_signatures_no_delete BEFORE DELETE ON ed25519_signatures
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: signatures cannot be deleted'); END;
"#;

/// The Spravato REMS queue's indexes: doses by drug (an expression index on the payload's
/// drug, so that finding the sessions that gave esketamine reads no payload), and REMS
/// submission entries by session. The home screen counts the forms still due with one
/// statement over them (`store::rems`).
const REMS_QUEUE_INDEXES: &str = r#"
CREATE INDEX entries_dose_drug ON entries(json_extract(payload, '$.drug'), session_id)
    WHERE kind = 'dose';
CREATE INDEX entries_rems_submitted ON entries(session_id) WHERE kind = 'rems-submitted';
"#;

/// The home screen's reads by index: which integration sessions name a dosing session, so
/// the integrations still to do are found without reading every session of a ten-year chart
/// (BENCHMARKS.md section 2).
const V_SPEED_INDEXES: &str = r#"
CREATE INDEX sessions_dosing ON sessions(dosing_session_id)
    WHERE dosing_session_id IS NOT NULL;
"#;

/// The home screen's two anti-joins read indexes only (BENCHMARKS.md, issue 13 section 2):
/// `sessions_kind` finds the dosing sessions without reading any other session's row (the
/// integrations still to do), and `sessions_ids` lists every session's id in order without
/// reading the sessions' rows, the left side of the merge that finds the open sessions.
const HOME_SCAN_INDEXES: &str = r#"
CREATE INDEX sessions_kind ON sessions(kind, started_at);
CREATE INDEX sessions_ids ON sessions(id);
"#;

/// The home screen's two lists that no index can give without walking every session, kept by
/// triggers in the same transaction as the write, as an index is (BENCHMARKS.md, issue 13
/// third pass):
///
/// - `open_sessions`: the sessions with no session-end entry that stands (one no entry
///   corrects), the same rule as a session's end everywhere else (`SESSION_COLUMNS` in
///   `store::queries`). A session is listed when it starts, leaves when an end is charted
///   that stands, and comes back when the end that stood is struck and no other end stands
///   (an amended end is itself a session-end entry, so the session stays ended).
/// - `integrations_awaited`: the dosing sessions no integration session names yet. Sessions
///   are never changed or deleted, so a dosing session leaves it once, when the first
///   integration session naming it starts.
///
/// They are not the record: the record stays append-only, and these two tables are derived
/// from it (their rows are added and removed by the triggers below, nothing else). This
/// migration fills them from the record; `verify` recomputes them from the record and names
/// every session where they disagree (`store::integrity`).
///
/// And `entries_dose_drug_time`: the REMS doses with their time and kind, so that counting
/// the forms due reads the index alone. `entries_dose_drug` was not covering: SQLite reads the
/// row for a column the query names outside the indexed expression (`kind`, the dose's time).
const HOME_LISTS_KEPT_BY_TRIGGERS: &str = r#"
CREATE INDEX entries_dose_drug_time
    ON entries(json_extract(payload, '$.drug'), session_id, event_at, event_offset, kind)
    WHERE kind = 'dose';

CREATE TABLE open_sessions (
    session_id  INTEGER PRIMARY KEY REFERENCES sessions(id)
);
CREATE TABLE integrations_awaited (
    dosing_session_id  INTEGER PRIMARY KEY REFERENCES sessions(id)
);

INSERT INTO open_sessions (session_id)
    SELECT id FROM sessions
    EXCEPT
    SELECT e.session_id FROM entries e WHERE e.kind = 'session-end'
       AND NOT EXISTS (SELECT 1 FROM entries x WHERE x.corrects = e.id);
INSERT INTO integrations_awaited (dosing_session_id)
    SELECT s.id FROM sessions s WHERE s.kind = 'dosing'
       AND NOT EXISTS (SELECT 1 FROM sessions i WHERE i.dosing_session_id = s.id);

CREATE TRIGGER open_sessions_session_started AFTER INSERT ON sessions
BEGIN
    INSERT INTO open_sessions (session_id) SELECT NEW.id
     WHERE NOT EXISTS (SELECT 1 FROM entries e WHERE e.session_id = NEW.id
                          AND e.kind = 'session-end'
                          AND NOT EXISTS (SELECT 1 FROM entries x WHERE x.corrects = e.id));
END;
CREATE TRIGGER open_sessions_session_ended AFTER INSERT ON entries
WHEN NEW.kind = 'session-end'
BEGIN
    DELETE FROM open_sessions WHERE session_id = NEW.session_id
       AND NOT EXISTS (SELECT 1 FROM entries x WHERE x.corrects = NEW.id);
END;
CREATE TRIGGER open_sessions_end_corrected AFTER INSERT ON entries
WHEN NEW.corrects IS NOT NULL
 AND (SELECT kind FROM entries WHERE id = NEW.corrects) = 'session-end'
BEGIN
    INSERT OR IGNORE INTO open_sessions (session_id)
    SELECT c.session_id FROM entries c WHERE c.id = NEW.corrects
       AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = c.session_id)
       AND NOT EXISTS (SELECT 1 FROM entries e WHERE e.session_id = c.session_id
                          AND e.kind = 'session-end'
                          AND NOT EXISTS (SELECT 1 FROM entries x WHERE x.corrects = e.id));
END;

CREATE TRIGGER integrations_awaited_dosing_started AFTER INSERT ON sessions
WHEN NEW.kind = 'dosing'
BEGIN
    INSERT INTO integrations_awaited (dosing_session_id) SELECT NEW.id
     WHERE NOT EXISTS (SELECT 1 FROM sessions i WHERE i.dosing_session_id = NEW.id);
END;
CREATE TRIGGER integrations_awaited_integration_started AFTER INSERT ON sessions
WHEN NEW.dosing_session_id IS NOT NULL
BEGIN
    DELETE FROM integrations_awaited WHERE dosing_session_id = NEW.dosing_session_id;
END;
"#;

/// The home screen's patient list, read a page at a time and filtered as the clinician types
/// (`store::patient_list`). `patients_by_name` is the list's order (name, case aside, then
/// id), read from where the last page stopped. `patient_search` finds the names and MRNs that
/// contain three or more typed characters, by FTS5's trigram index (case folded, accents
/// kept); `patient_words` those with a word that begins with one or two (FTS5's unicode61
/// words, case folded, accents kept, with prefix indexes of one and two characters).
///
/// `patient_search` and `patient_words` are derived data, not the record: indexes over
/// `patients` (their external content; they keep no copy of the names), filled here from the
/// patients already charted and kept by triggers as patients are added. A patient's name and MRN never change (patients
/// are append-only; later details carry weight, contacts and medications only), so adding is
/// the only change it follows. `kapchart verify` reports it when it disagrees with the
/// patients (`Chart::patient_search_problems`).
pub const PATIENT_LIST_SEARCH: &str = r#"
CREATE INDEX patients_by_name ON patients(name COLLATE NOCASE, id);
CREATE VIRTUAL TABLE patient_search USING fts5(
    name, mrn, content = 'patients', content_rowid = 'id', tokenize = 'trigram'
);
CREATE TRIGGER patient_search_on_add AFTER INSERT ON patients
BEGIN INSERT INTO patient_search (rowid, name, mrn) VALUES (NEW.id, NEW.name, NEW.mrn); END;
INSERT INTO patient_search (patient_search) VALUES ('rebuild');
CREATE VIRTUAL TABLE patient_words USING fts5(
    name, mrn, content = 'patients', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 0', prefix = '1 2'
);
CREATE TRIGGER patient_words_on_add AFTER INSERT ON patients
BEGIN INSERT INTO patient_words (rowid, name, mrn) VALUES (NEW.id, NEW.name, NEW.mrn); END;
INSERT INTO patient_words (patient_words) VALUES ('rebuild');
"#;

/// The chart's search index (`store::search_index`): the words of every entry (the line the
/// timeline shows for it), every note as it stands and every addendum, in FTS5 tables with
/// unicode61 words (case folded, accents kept; letters and digits make words). Each row's
/// rowid is the id of what it indexes. They keep their own copy of the text, inside the
/// encrypted chart like everything else.
///
/// Derived data, not the record: written by the store in the same transaction as what it
/// indexes, and filled from the record when a chart takes this version on (the store does it
/// after this SQL: an entry's text is derived in Rust, `domain::search::entry_text`).
/// `kapchart verify` names where it disagrees with the record without finding the record
/// damaged, and `kapchart search --rebuild-index` builds it again from this SQL.
pub const CHART_SEARCH: &str = r#"
CREATE VIRTUAL TABLE entry_search USING fts5(
    text, tokenize = "unicode61 remove_diacritics 0 categories 'L* N*'"
);
CREATE VIRTUAL TABLE note_search USING fts5(
    text, tokenize = "unicode61 remove_diacritics 0 categories 'L* N*'"
);
CREATE VIRTUAL TABLE addendum_search USING fts5(
    text, tokenize = "unicode61 remove_diacritics 0 categories 'L* N*'"
);
"#;

/// Proof that holds against anyone who can open the chart (`store::chain`, `store::team`):
///
/// - `audit.signature`: from here on, every audit row carries an Ed25519 signature by the
///   clinician it names, over its fields (its content's hash and its place in the chain).
///   `signed_from` records, once, the first row that must be signed and the last team
///   member recorded before certificates; rows and members before them keep what they had.
/// - `team_certificates`: each member's public keys, signed by the admin who added them; the
///   first admin certifies their own, and their key's fingerprint is the chart's root.
/// - `restores`: each restore, as a signed row of the restored chart (who, when, the
///   backup's head, the replaced chart's head and where it was set aside, why, the removals
///   applied again, and the ids the replaced chart had issued, above which ids continue).
/// - `damage_acknowledgements`: an admin's acknowledgement of the problems `verify` found,
///   after which writes go on (the problems stay in the record and in `verify`'s report).
///
/// All append-only, like every table.
pub const SIGNED_CHAIN: &str = r#"
ALTER TABLE audit ADD COLUMN signature BLOB CHECK (signature IS NULL OR length(signature) = 64);

CREATE TABLE signed_from (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    audit_seq    INTEGER NOT NULL,
    team_member  INTEGER NOT NULL
);
INSERT INTO signed_from (id, audit_seq, team_member) VALUES (
    1,
    (SELECT coalesce(max(seq), 0) + 1 FROM audit),
    (SELECT coalesce(max(id), 0) FROM team_members)
);

CREATE TABLE team_certificates (
    id               INTEGER PRIMARY KEY,
    member_id        INTEGER NOT NULL UNIQUE REFERENCES team_members(id),
    certified_by     INTEGER NOT NULL REFERENCES clinicians(id),
    message_version  INTEGER NOT NULL CHECK (message_version >= 1),
    signature        BLOB NOT NULL CHECK (length(signature) = 64)
);

CREATE TABLE restores (
    id                INTEGER PRIMARY KEY,
    at                INTEGER NOT NULL,
    by_id             INTEGER NOT NULL REFERENCES clinicians(id),
    backup_head       TEXT NOT NULL,
    replaced_head     TEXT,
    set_aside         TEXT,
    reason            TEXT,
    removals_applied  TEXT NOT NULL DEFAULT '[]',
    id_floors         TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE damage_acknowledgements (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    by_id     INTEGER NOT NULL REFERENCES clinicians(id),
    problems  TEXT NOT NULL,
    reason    TEXT NOT NULL CHECK (length(trim(reason)) > 0)
);

CREATE TRIGGER signed_from_no_update BEFORE UPDATE ON signed_from
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: where signing starts cannot be changed'); END;
CREATE TRIGGER signed_from_no_delete BEFORE DELETE ON signed_from
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: where signing starts cannot be deleted'); END;
CREATE TRIGGER team_certificates_no_update BEFORE UPDATE ON team_certificates
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: certificates cannot be changed'); END;
CREATE TRIGGER team_certificates_no_delete BEFORE DELETE ON team_certificates
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: certificates cannot be deleted'); END;
CREATE TRIGGER restores_no_update BEFORE UPDATE ON restores
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: restores cannot be changed'); END;
CREATE TRIGGER restores_no_delete BEFORE DELETE ON restores
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: restores cannot be deleted'); END;
CREATE TRIGGER damage_acknowledgements_no_update BEFORE UPDATE ON damage_acknowledgements
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: acknowledgements cannot be changed'); END;
CREATE TRIGGER damage_acknowledgements_no_delete BEFORE DELETE ON damage_acknowledgements
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: acknowledgements cannot be deleted'); END;
"#;

/// The controlled-substance stock (`store::stock`, `domain::stock`; 21 CFR 1304.22(c)):
///
/// - `stock`: each stock record (a receipt, an open, a keep, a count, an inventory), signed
///   and audited like an entry; a wrong one is struck by a later row with a reason.
/// - `stock_containers`: the containers a receipt brought in, one row each (shown as `V12`),
///   with the drug, lot and content they were received with.
/// - `stock_movements`: every movement of every container, in mg (+ in, - out), pointing at
///   the stock record or the chart entry behind it (a dose, a waste, the correction that gave
///   a draw back). A container's balance is the sum of its movements.
///
/// All append-only, like every table.
pub const STOCK: &str = r#"
CREATE TABLE stock (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL,
    payload          TEXT NOT NULL,
    event_at         INTEGER NOT NULL,
    event_offset     INTEGER NOT NULL,
    recorded_at      INTEGER NOT NULL,
    recorded_offset  INTEGER NOT NULL,
    author_id        INTEGER NOT NULL REFERENCES clinicians(id),
    strikes          INTEGER REFERENCES stock(id),
    reason           TEXT,
    CHECK ((kind = 'strike') = (strikes IS NOT NULL)),
    CHECK (strikes IS NULL OR length(trim(reason)) > 0)
);
CREATE UNIQUE INDEX stock_strikes ON stock(strikes) WHERE strikes IS NOT NULL;
CREATE INDEX stock_by_kind ON stock(kind, event_at);

CREATE TABLE stock_containers (
    id          INTEGER PRIMARY KEY,
    receipt_id  INTEGER NOT NULL REFERENCES stock(id),
    number      INTEGER NOT NULL CHECK (number >= 1),
    drug        TEXT NOT NULL,
    lot         TEXT NOT NULL,
    content_mg  REAL NOT NULL CHECK (content_mg > 0),
    UNIQUE (receipt_id, number)
);
CREATE INDEX stock_containers_by_drug ON stock_containers(drug, lot);

CREATE TABLE stock_movements (
    id            INTEGER PRIMARY KEY,
    container_id  INTEGER NOT NULL REFERENCES stock_containers(id),
    kind          TEXT NOT NULL
        CHECK (kind IN ('received', 'opened', 'administered', 'wasted', 'kept', 'counted', 'given-back')),
    change_mg     REAL NOT NULL,
    event_at      INTEGER NOT NULL,
    event_offset  INTEGER NOT NULL,
    author_id     INTEGER NOT NULL REFERENCES clinicians(id),
    entry_id      INTEGER REFERENCES entries(id),
    stock_id      INTEGER REFERENCES stock(id),
    note          TEXT,
    CHECK ((entry_id IS NULL) != (stock_id IS NULL))
);
CREATE INDEX stock_movements_by_container ON stock_movements(container_id, event_at);
CREATE INDEX stock_movements_by_time ON stock_movements(event_at);
CREATE INDEX stock_movements_by_entry ON stock_movements(entry_id) WHERE entry_id IS NOT NULL;
CREATE INDEX stock_movements_by_stock ON stock_movements(stock_id) WHERE stock_id IS NOT NULL;

CREATE TRIGGER stock_no_update BEFORE UPDATE ON stock
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: stock records cannot be changed'); END;
CREATE TRIGGER stock_no_delete BEFORE DELETE ON stock
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: stock records cannot be deleted'); END;
CREATE TRIGGER stock_containers_no_update BEFORE UPDATE ON stock_containers
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: containers cannot be changed'); END;
CREATE TRIGGER stock_containers_no_delete BEFORE DELETE ON stock_containers
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: containers cannot be deleted'); END;
CREATE TRIGGER stock_movements_no_update BEFORE UPDATE ON stock_movements
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: stock movements cannot be changed'); END;
CREATE TRIGGER stock_movements_no_delete BEFORE DELETE ON stock_movements
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: stock movements cannot be deleted'); END;
"#;

/// The chart's UUID (`domain::identity`): one row, written when the chart is created, never
/// changed. A chart made before this has none and derives its UUID from the first link of its
/// audit chain (`Store::chart_uuid`), so every copy of it agrees.
pub const CHART_IDENTITY: &str = r#"
CREATE TABLE chart_identity (
    one         INTEGER PRIMARY KEY CHECK (one = 1),
    uuid        TEXT NOT NULL CHECK (length(uuid) = 36),
    created_at  INTEGER NOT NULL
);
CREATE TRIGGER chart_identity_no_update BEFORE UPDATE ON chart_identity
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: the chart identity cannot be changed'); END;
CREATE TRIGGER chart_identity_no_delete BEFORE DELETE ON chart_identity
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: the chart identity cannot be deleted'); END;
"#;

/// What `kapchart sync` sent to a clinic's FHIR server: one row per resource the server
/// acknowledged, with the SHA-256 of the content sent, the server's id and version for it,
/// and the chart's audit head when it was sent. A resource whose content has the hash of its
/// newest row for that server is not sent again. Append-only, like every table.
pub const SYNC_LOG: &str = r#"
CREATE TABLE sync_log (
    id            INTEGER PRIMARY KEY,
    server        TEXT NOT NULL,
    resource      TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    server_id     TEXT NOT NULL,
    version       TEXT,
    sent_at       INTEGER NOT NULL,
    head_seq      INTEGER NOT NULL,
    head_hash     TEXT NOT NULL,
    author_id     INTEGER NOT NULL REFERENCES clinicians(id)
);
CREATE INDEX sync_log_resource ON sync_log(server, resource, id);
CREATE TRIGGER sync_log_no_update BEFORE UPDATE ON sync_log
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: the sync log cannot be changed'); END;
CREATE TRIGGER sync_log_no_delete BEFORE DELETE ON sync_log
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: the sync log cannot be deleted'); END;
"#;

/// Where the chart stood when a sync last left a server holding all of it (`domain::sync::
/// Base`): the audit head read before the sync built the record, when it built it, and the
/// fingerprint of kapchart's version and the clinic's config. The next sync rebuilds only the
/// patients the audit rows after that head name, and the few whose record depends on the
/// clock. Append-only; the newest row for a server is the one that counts.
pub const SYNC_BASE: &str = r#"
CREATE TABLE sync_base (
    id            INTEGER PRIMARY KEY,
    server        TEXT NOT NULL,
    head_seq      INTEGER NOT NULL,
    head_hash     TEXT NOT NULL,
    built_at      INTEGER NOT NULL,
    fingerprint   TEXT NOT NULL,
    author_id     INTEGER NOT NULL REFERENCES clinicians(id)
);
CREATE INDEX sync_base_server ON sync_base(server, id);
CREATE TRIGGER sync_base_no_update BEFORE UPDATE ON sync_base
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: the sync base cannot be changed'); END;
CREATE TRIGGER sync_base_no_delete BEFORE DELETE ON sync_base
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: the sync base cannot be deleted'); END;
"#;

/// The containers holding something, kept beside the record by a trigger (like the home
/// screen's lists): the Stock screen, `stock show` and a dose line without `vial` read this
/// list instead of summing every movement of the chart's history. Not part of the record:
/// `verify` recomputes it from the movements and names any container where it disagrees.
pub const STOCK_HOLDING_KEPT_BY_TRIGGER: &str = r#"
CREATE TABLE stock_holding (
    container_id  INTEGER PRIMARY KEY REFERENCES stock_containers(id)
);
INSERT INTO stock_holding (container_id)
    SELECT container_id FROM stock_movements GROUP BY container_id HAVING sum(change_mg) > 0.0005;
CREATE TRIGGER stock_holding_kept AFTER INSERT ON stock_movements
BEGIN
    DELETE FROM stock_holding WHERE container_id = NEW.container_id;
    INSERT INTO stock_holding (container_id) SELECT NEW.container_id
     WHERE (SELECT sum(change_mg) FROM stock_movements WHERE container_id = NEW.container_id) > 0.0005;
END;
"#;

/// A clinician's identifiers outside the chart (`domain::npi`): their NPI and the clinic's
/// staff id, recorded by an admin, each row audited and signed. The newest row of a kind
/// stands for the clinician; an empty value withdraws it. Append-only, like every table.
pub const CLINICIAN_IDENTIFIERS: &str = r#"
CREATE TABLE clinician_identifiers (
    id            INTEGER PRIMARY KEY,
    clinician_id  INTEGER NOT NULL REFERENCES clinicians(id),
    kind          TEXT NOT NULL CHECK (kind IN ('npi', 'staff')),
    value         TEXT NOT NULL,
    recorded_at   INTEGER NOT NULL,
    author_id     INTEGER NOT NULL REFERENCES clinicians(id)
);
CREATE INDEX clinician_identifiers_of ON clinician_identifiers(clinician_id, kind, id);
CREATE TRIGGER clinician_identifiers_no_update BEFORE UPDATE ON clinician_identifiers
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: clinician identifiers cannot be changed'); END;
CREATE TRIGGER clinician_identifiers_no_delete BEFORE DELETE ON clinician_identifiers
BEGIN SELECT RAISE(ABORT, 'kapchart chart is append-only: clinician identifiers cannot be deleted'); END;
"#;
