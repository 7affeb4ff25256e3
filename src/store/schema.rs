//! The chart's schema, as forward migrations. `PRAGMA user_version` holds how many have run.
//! Never edit a released migration: add a new one.

/// kapchart's SQLite `application_id` ("KAPC"), so that kapchart knows its own files.
pub const APPLICATION_ID: i32 = 0x4B41_5043;

/// Each migration takes the chart from version `index` to `index + 1`.
pub const MIGRATIONS: &[&str] = &[V1];

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
