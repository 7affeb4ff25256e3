//! The chart's schema, as forward migrations. `PRAGMA user_version` holds how many have run.
//! Never edit a released migration: add a new one.

/// kapchart's SQLite `application_id` ("KAPC"), so that kapchart knows its own files.
pub const APPLICATION_ID: i32 = 0x4B41_5043;

/// Each migration takes the chart from version `index` to `index + 1`.
pub const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V_SPEED_INDEXES];

/// The version that keys the audit chain: after its SQL, the store creates the chain key and
/// records it (`audit::install_chain_key`), in the same transaction.
pub const CHAIN_KEY_VERSION: i64 = 4;

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

/// The home screen's reads by index: which integration sessions name a dosing session, so
/// the integrations still to do are found without reading every session of a ten-year chart
/// (BENCHMARKS.md section 2).
const V_SPEED_INDEXES: &str = r#"
CREATE INDEX sessions_dosing ON sessions(dosing_session_id)
    WHERE dosing_session_id IS NOT NULL;
"#;
