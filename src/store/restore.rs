//! Restores: never over a chart unless told to, never while another kapchart has the chart
//! open, and never touching the backup itself. The backup's bytes are copied beside the
//! chart and only the copy is opened, checked and (if it is from an older kapchart)
//! updated; the chart it replaces keeps a name of its own that no earlier file had.

use super::backup::{CopyReport, RowCounts, verify_copy};
use super::lock::ChartLock;
use super::{ChartSecret, Result, StoreError, copy_secret, files, key, keyring};

use rusqlite::Connection;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// What a restore is asked to do, and by whom.
pub struct RestoreRequest<'a> {
    pub backup: &'a Path,
    pub chart: &'a Path,
    /// Who restores: an admin of the live chart (where it has a team), on the backup's team
    /// too (with the same keys), who signs the restore entry in the restored chart.
    pub who: &'a str,
    /// Their passphrase for the live chart.
    pub passphrase: &'a str,
    /// Their passphrase for the backup (the one they had when it was made).
    pub backup_passphrase: &'a str,
    pub replace: bool,
    pub stamp: &'a str,
    /// Why, when the backup's team includes someone removed since (their removal is then
    /// applied again in the restored chart).
    pub reason: Option<&'a str>,
    pub now: chrono::DateTime<chrono::FixedOffset>,
}

/// What a restore did.
pub struct Restored {
    pub report: CopyReport,
    /// Where the replaced chart went.
    pub kept: Option<PathBuf>,
    /// Clinicians removed from the live chart since the backup, removed again.
    pub removed_again: Vec<String>,
}

/// The live chart as a restore sees it: who signed in, and what must outlive the restore.
struct Live {
    /// Removals: (clinician id, name, when, by whom, why).
    removals: Vec<(i64, String, i64, String, String)>,
    /// The highest id each table had issued.
    id_floors: serde_json::Map<String, serde_json::Value>,
    head: Option<super::audit::Head>,
    root: Option<String>,
    signing_public: Option<[u8; 32]>,
}

/// The tables whose ids a user sees or a record points at: after a restore, ids continue
/// above the highest the replaced chart issued, so an id once printed never names another row.
const ID_TABLES: [&str; 10] = [
    "clinicians",
    "patients",
    "patient_details",
    "courses",
    "sessions",
    "entries",
    "notes",
    "note_drafts",
    "note_signatures",
    "note_addenda",
];

/// Signs `who` in to the live chart (which this process holds alone): they must be an admin
/// who stands on its team. Nothing is asked of a chart without a team (from before keyrings).
fn sign_in_to_live(chart_path: &Path, who: &str, passphrase: &str) -> Result<Option<Live>> {
    let Some(ring) = keyring::read(&keyring::path_of(chart_path))? else {
        return Ok(None);
    };
    let entry = ring.find(who).map_err(|_| StoreError::WrongSignIn)?;
    let unlocked = entry.unlock(passphrase)?.ok_or(StoreError::WrongSignIn)?;
    let signing_public = unlocked.keys.signing_public();
    let chart = super::Chart::open_unlocked(
        chart_path,
        &ChartSecret::Raw(unlocked.chart_key.clone()),
        5000,
    )?;
    let member = chart.member(entry.id)?.ok_or(StoreError::WrongSignIn)?;
    if member.removed.is_some() || !member.role.manages_team() {
        return Err(StoreError::SignIn(format!(
            "a restore replaces the chart, which only an admin of its team may do; {} is {}; the chart was not touched",
            member.name,
            if member.removed.is_some() {
                "removed from the team".to_string()
            } else {
                format!("a {}", member.role)
            }
        )));
    }
    if member.signing_public != signing_public {
        return Err(StoreError::WrongSignIn);
    }
    let conn = chart.raw_connection();
    let mut removals = Vec::new();
    {
        let mut stmt = conn
            .prepare(
                "SELECT r.clinician_id, c.name, r.removed_at, b.name, r.reason
                   FROM team_removals r JOIN clinicians c ON c.id = r.clinician_id
                   JOIN clinicians b ON b.id = r.removed_by ORDER BY r.id",
            )
            .map_err(|e| chart.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| chart.err(e))?;
        removals.extend(rows);
    }
    let mut id_floors = serde_json::Map::new();
    for table in ID_TABLES {
        let max: i64 = conn
            .query_row(
                &format!("SELECT coalesce(max(id), 0) FROM {table}"),
                [],
                |r| r.get(0),
            )
            .map_err(|e| chart.err(e))?;
        let floor: i64 = conn
            .query_row(
                &format!(
                    "SELECT coalesce(max(CAST(json_extract(id_floors, '$.{table}') AS INTEGER)), 0) FROM restores"
                ),
                [],
                |r| r.get(0),
            )
            .unwrap_or(0);
        id_floors.insert(table.to_string(), max.max(floor).into());
    }
    Ok(Some(Live {
        removals,
        id_floors,
        head: chart.head()?,
        root: chart.root()?,
        signing_public: Some(signing_public),
    }))
}

/// Restores a backup as the chart: the backup is verified first; an existing chart is only
/// replaced with `replace`, by an admin of it, and is then kept beside it as
/// `NAME.replaced-STAMP` (or `-2`, `-3`, ... when that name is taken; never deleted, never
/// overwritten).
///
/// The restored chart records the restore as a signed entry of the restoring admin (who,
/// when, the backup's head, the replaced chart's head and where it was kept, why, the
/// removals applied again, and the ids the replaced chart had issued, above which ids
/// continue). A backup whose team includes someone removed from the live chart since is
/// refused unless a reason is given; then the removal is applied again and the restored
/// chart re-keyed, so that their passphrase does not open it.
///
/// A backup with a keyring (`BACKUP.keyring`) opens with the passphrases of the team as it
/// was when it was made; its keyring is put in place as `NAME.keyring.new` before the chart
/// is, and takes the keyring's name after, so that a kill between the two leaves a chart
/// that opens (see `Chart::open_as`). A backup from before keyrings opens with its
/// passphrase; the replaced chart's keyring then goes aside with it.
pub fn restore(req: &RestoreRequest<'_>) -> Result<Restored> {
    let (backup, chart_path) = (req.backup, req.chart);
    if !backup.is_file() {
        return Err(StoreError::NoBackup(backup.to_path_buf()));
    }
    if chart_path.exists() && !req.replace {
        return Err(StoreError::Invalid(format!(
            "a chart already exists at {}; kapchart will not overwrite it (use --replace to keep it aside as a .replaced copy and restore over it)",
            chart_path.display()
        )));
    }
    let dir = chart_path.parent().unwrap_or(Path::new("."));
    files::create_private_dirs(dir).map_err(|source| StoreError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    // No other kapchart may have the chart open from here to the end: one that did would
    // go on writing into the replaced file.
    let _lock = ChartLock::exclusive(chart_path)?;
    super::pause::pause_point("restore");
    files::remove_stale_restores(chart_path);
    let live = if chart_path.exists() {
        sign_in_to_live(chart_path, req.who, req.passphrase).map_err(|e| match e {
            StoreError::WrongSignIn => StoreError::SignIn(format!(
                "a restore replaces the chart, which needs an admin of it: this clinician and passphrase do not open {} (KAPCHART_CLINICIAN and KAPCHART_PASSPHRASE sign in to the chart; KAPCHART_BACKUP_PASSPHRASE to the backup when it differs); the chart was not touched",
                chart_path.display()
            )),
            other => other,
        })?
    } else {
        None
    };
    let backup_ring = keyring::read(&keyring::path_of(backup))?;
    let (secret, backup_keys) = copy_unlocked(backup, req.who, req.backup_passphrase).map_err(|e| match e {
        StoreError::WrongSignIn => StoreError::Invalid(format!(
            "this clinician and passphrase do not open the backup {} (a backup opens with the passphrases of the team as it was when it was made; set KAPCHART_BACKUP_PASSPHRASE when it differs from the chart's); the chart was not touched",
            backup.display()
        )),
        StoreError::SignIn(why) => StoreError::SignIn(format!(
            "the backup {}: {why}; the chart was not touched",
            backup.display()
        )),
        other => other,
    })?;
    let incoming = files::reserve_beside(chart_path, ".restoring")?;
    let prepared = copy_backup(backup, &incoming)
        .and_then(|()| verify_copy(&incoming, &secret, RowCounts::default()));
    let mut restored_head = match prepared {
        Ok(report) => report.verify.head,
        Err(e) => {
            files::remove_new_chart(&incoming);
            return Err(about_the_backup(e, backup, &incoming));
        }
    };
    let discard = |e: StoreError| {
        files::remove_new_chart(&incoming);
        for suffix in [".keyring", ".keyring.new", ".lock", ".checked"] {
            let _ = std::fs::remove_file(files::sibling(&incoming, suffix));
        }
        e
    };
    // The restore entry and the removals applied again, written into the copy before it
    // takes the chart's place.
    let mut removed_again = Vec::new();
    let mut ring = backup_ring.clone();
    if let Some(keys) = backup_keys {
        let mut copy = super::Chart::open_unlocked(&incoming, &secret, 5000).map_err(discard)?;
        let entry_id = backup_ring
            .as_ref()
            .and_then(|r| r.find(req.who).ok().map(|e| e.id))
            .unwrap_or(0);
        let me = copy.member(entry_id).map_err(discard)?.ok_or_else(|| {
            discard(StoreError::SignIn(
                "the clinician who restores is not on the backup's team; the chart was not touched"
                    .into(),
            ))
        })?;
        if let Some(live) = &live {
            if live.signing_public.is_some_and(|k| k != me.signing_public) {
                return Err(discard(StoreError::SignIn(format!(
                    "{} of the backup is not the admin signed in to the chart (their keys differ); the chart was not touched",
                    me.name
                ))));
            }
            let backup_root = copy.root().map_err(discard)?;
            if let (Some(a), Some(b)) = (&live.root, &backup_root)
                && a != b
            {
                return Err(discard(StoreError::Invalid(format!(
                    "the backup {} is of another chart (its root is {b}, the chart's {a}); the chart was not touched",
                    backup.display()
                ))));
            }
        }
        let standing: Vec<(i64, String)> = copy
            .team_members()
            .map_err(discard)?
            .into_iter()
            .filter(|m| m.removed.is_none())
            .map(|m| (m.id, m.name))
            .collect();
        let since: Vec<&(i64, String, i64, String, String)> = live
            .as_ref()
            .map(|l| {
                l.removals
                    .iter()
                    .filter(|r| standing.iter().any(|(id, _)| *id == r.0))
                    .collect()
            })
            .unwrap_or_default();
        let reason = req.reason.map(str::trim).filter(|r| !r.is_empty());
        if !since.is_empty() && reason.is_none() {
            let names: Vec<String> = since
                .iter()
                .map(|r| format!("{} (clinician {})", r.1, r.0))
                .collect();
            return Err(discard(StoreError::Invalid(format!(
                "the backup's team includes {} removed from the chart since it was made; restoring it would give them the chart back: give --reason TEXT to restore it and remove them again; the chart was not touched",
                names.join(", ")
            ))));
        }
        copy.keys = Some(keys);
        copy.clinician = crate::domain::Clinician {
            id: me.id,
            name: me.name.clone(),
        };
        copy.alone = true;
        copy.path = incoming.clone();
        let set_aside_name = chart_path
            .exists()
            .then(|| planned_aside(chart_path, req.stamp));
        let applied: Vec<serde_json::Value> = since
            .iter()
            .map(|r| serde_json::json!({ "clinician_id": r.0, "name": r.1 }))
            .collect();
        let floors = live
            .as_ref()
            .map(|l| serde_json::Value::Object(l.id_floors.clone()).to_string())
            .unwrap_or_else(|| "{}".into());
        let backup_head = copy
            .head()
            .map_err(discard)?
            .map_or_else(|| "none".to_string(), |h| h.to_string());
        let replaced_head = live
            .as_ref()
            .and_then(|l| l.head.as_ref())
            .map(ToString::to_string);
        let by = me.id;
        let now = req.now;
        let removals: Vec<(i64, String)> = since
            .iter()
            .map(|r| {
                (
                    r.0,
                    format!(
                        "removed on {} by {}: {}; removed again when a backup from before was restored: {}",
                        super::from_stored(r.2, 0).format("%Y-%m-%d %H:%M UTC"),
                        r.3,
                        r.4,
                        reason.unwrap_or_default()
                    ),
                )
            })
            .collect();
        copy.write(|tx| {
            tx.execute(
                "INSERT INTO restores (at, by_id, backup_head, replaced_head, set_aside, reason, removals_applied, id_floors)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                rusqlite::params![
                    now.timestamp_millis(),
                    by,
                    backup_head,
                    replaced_head,
                    set_aside_name.as_ref().map(|p| p.display().to_string()),
                    reason,
                    serde_json::Value::Array(applied).to_string(),
                    floors
                ],
            )?;
            let id = tx.last_insert_rowid();
            tx.record(
                now.timestamp_millis(),
                by,
                "chart.restore",
                super::audit::ObjectKind::Restore,
                id,
            )?;
            for (clinician, why) in &removals {
                tx.execute(
                    "INSERT INTO team_removals (clinician_id, removed_at, removed_by, reason)
                     VALUES (?1, ?2, ?3, ?4)",
                    rusqlite::params![clinician, now.timestamp_millis(), by, why],
                )?;
                let row = tx.last_insert_rowid();
                tx.record(
                    now.timestamp_millis(),
                    by,
                    "team.remove",
                    super::audit::ObjectKind::TeamRemoval,
                    row,
                )?;
            }
            Ok(())
        })
        .map_err(discard)?;
        restored_head = copy.head().map_err(discard)?;
        removed_again = since.iter().map(|r| r.1.clone()).collect();
        if !removals.is_empty() {
            // Their passphrase must not open the restored chart: a new chart key, sealed to
            // the standing team only.
            if let Some(r) = &backup_ring {
                keyring::write(&keyring::path_of(&incoming), r).map_err(discard)?;
            }
            copy.finish_removals().map_err(discard)?;
            ring = keyring::read(&keyring::path_of(&incoming)).map_err(discard)?;
        }
    }
    let secret = match &ring {
        Some(r) if backup_ring.as_ref() != Some(r) => {
            let entry = r.find(req.who).map_err(discard)?;
            let unlocked = entry
                .unlock(req.backup_passphrase)
                .map_err(discard)?
                .ok_or_else(|| discard(StoreError::WrongSignIn))?;
            ChartSecret::Raw(unlocked.chart_key)
        }
        _ => secret,
    };
    for suffix in [".keyring", ".keyring.new", ".lock", ".checked"] {
        let _ = std::fs::remove_file(files::sibling(&incoming, suffix));
    }
    let mut kept = None;
    if chart_path.exists() {
        match set_aside(chart_path, req.who, req.passphrase, req.stamp) {
            Ok(aside) => kept = Some(aside),
            Err(e) => {
                files::remove_new_chart(&incoming);
                return Err(e);
            }
        }
    }
    // The keyring journal: the restored chart's keyring, or an empty one that says "no
    // keyring".
    let ring_path = keyring::path_of(chart_path);
    let new_path = keyring::new_path_of(chart_path);
    let journal = ring.clone().unwrap_or_default();
    if let Err(e) = keyring::write(&new_path, &journal) {
        files::remove_new_chart(&incoming);
        return Err(e);
    }
    // Whichever chart a kill leaves in place is the one checked: the replaced chart at the
    // head it was last checked at, or the restored one at its own.
    let heads: Vec<super::audit::Head> = super::integrity::read_checked(chart_path)
        .into_iter()
        .chain(restored_head.clone())
        .collect();
    super::integrity::keep_checked_heads(chart_path, &heads);
    std::fs::rename(&incoming, chart_path).map_err(|source| StoreError::Io {
        path: chart_path.to_path_buf(),
        source,
    })?;
    files::sync_dir(dir);
    if ring.is_some() {
        keyring::promote(&new_path, &ring_path)?;
    } else {
        let _ = std::fs::remove_file(&ring_path);
        let _ = std::fs::remove_file(&new_path);
        files::sync_dir(dir);
    }
    let report = verify_copy(chart_path, &secret, RowCounts::default())?;
    // The restored chart verified whole: the next open checks from its head, and the damage
    // marks of the chart it replaced go (its keyring, with its own, was replaced too).
    if let Some(head) = &report.verify.head {
        super::integrity::keep_checked(chart_path, head);
    }
    let _ = std::fs::remove_file(super::damage_mark(chart_path));
    Ok(Restored {
        report,
        kept,
        removed_again,
    })
}

/// The name the replaced chart will be kept under (the first free `.replaced-STAMP[-N]`).
fn planned_aside(chart: &Path, stamp: &str) -> PathBuf {
    let first = files::sibling(chart, &format!(".replaced-{stamp}"));
    if !first.exists() {
        return first;
    }
    (2..10_000)
        .map(|n| files::sibling(chart, &format!(".replaced-{stamp}-{n}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

/// The key of a backup, and the keys of `who` in its keyring (None for a backup from
/// before keyrings, which opens with its passphrase).
fn copy_unlocked(
    copy: &Path,
    who: &str,
    passphrase: &str,
) -> Result<(ChartSecret, Option<keyring::crypto::PrivateKeys>)> {
    match keyring::read(&keyring::path_of(copy))? {
        Some(ring) => {
            let entry = ring.find(who)?;
            let unlocked = entry.unlock(passphrase)?.ok_or(StoreError::WrongSignIn)?;
            Ok((ChartSecret::Raw(unlocked.chart_key), Some(unlocked.keys)))
        }
        None => Ok((ChartSecret::passphrase(passphrase), None)),
    }
}

/// Copies the backup's bytes (and a `-wal` beside it, if it has one) into `to`, which is
/// new and private (0600): the backup's own mode bits are not copied.
fn copy_backup(backup: &Path, to: &Path) -> Result<()> {
    for suffix in ["", "-wal"] {
        let from = files::sibling(backup, suffix);
        let into = files::sibling(to, suffix);
        if suffix == "-wal" && !from.exists() {
            continue;
        }
        if suffix == "-wal" {
            files::create_private_file(&into)?;
        }
        let mut source = File::open(&from).map_err(|source| StoreError::Io {
            path: from.clone(),
            source,
        })?;
        let io = |source| StoreError::Io {
            path: into.clone(),
            source,
        };
        let mut target = OpenOptions::new().write(true).open(&into).map_err(io)?;
        std::io::copy(&mut source, &mut target).map_err(io)?;
        target.sync_all().map_err(io)?;
    }
    Ok(())
}

/// Gives the chart being replaced its `.replaced-STAMP` name, with its WAL. A WAL left by a
/// killed kapchart is first folded into the chart (it holds committed entries); one that
/// cannot be (another passphrase, damage) goes with it, so the restored chart never reads a
/// WAL that was not written for it.
fn set_aside(chart: &Path, who: &str, passphrase: &str, stamp: &str) -> Result<PathBuf> {
    fold_wal(chart, who, passphrase);
    let aside = files::keep_aside(chart, &format!(".replaced-{stamp}"))?;
    // Its keyring goes with it (a copy: the chart's own stays until the restored one's
    // keyring takes its place).
    let ring = keyring::path_of(chart);
    if ring.exists() {
        let kept_ring = keyring::path_of(&aside);
        std::fs::copy(&ring, &kept_ring).map_err(|source| StoreError::Io {
            path: kept_ring.clone(),
            source,
        })?;
    }
    let wal = files::sibling(chart, "-wal");
    if wal.exists() {
        let kept_wal = files::sibling(&aside, "-wal");
        std::fs::hard_link(&wal, &kept_wal)
            .or_else(|_| std::fs::copy(&wal, &kept_wal).map(|_| ()))
            .map_err(|source| StoreError::Io {
                path: kept_wal.clone(),
                source,
            })?;
    }
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(files::sibling(chart, suffix));
    }
    Ok(aside)
}

/// Checkpoints a WAL left beside the chart into it; best effort (see `set_aside`).
fn fold_wal(chart: &Path, who: &str, passphrase: &str) {
    let wal = files::sibling(chart, "-wal");
    if std::fs::metadata(&wal).map_or(true, |m| m.len() == 0) {
        return;
    }
    let Ok(conn) = Connection::open(chart) else {
        return;
    };
    let secret = match copy_secret(chart, who, passphrase) {
        Ok(s) => s,
        Err(_) => ChartSecret::passphrase(passphrase),
    };
    if key(&conn, &secret).is_ok() {
        let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    }
}

/// An error met while checking the copy, said about the backup the user named.
fn about_the_backup(e: StoreError, backup: &Path, copy: &Path) -> StoreError {
    let shown = backup.display();
    let message = match e {
        StoreError::WrongPassphrase => format!(
            "the backup {shown} does not open with this passphrase, or is not a kapchart backup"
        ),
        StoreError::Corrupt { detail, .. } => {
            format!("the backup {shown} is damaged ({detail})")
        }
        StoreError::NewerSchema { .. } | StoreError::DiskFull(_) | StoreError::ReadOnly(_) => {
            return e;
        }
        other => format!(
            "the backup {shown} cannot be restored: {}",
            other
                .to_string()
                .replace(&copy.display().to_string(), &shown.to_string())
        ),
    };
    StoreError::Invalid(format!("{message}; the chart was not touched"))
}
