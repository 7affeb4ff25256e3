//! The keyring: `NAME.keyring` beside the chart. The chart is encrypted with a random
//! 256-bit key; the keyring holds that key sealed to each clinician, and each clinician's
//! private keys wrapped under their own passphrase (see `crypto`). Names and roles are in
//! the clear, for the sign-in list; nothing in it is patient data.
//!
//! It is written whole and atomically (temporary file, fsync, rename, fsync of the folder)
//! and is private (0600). A change that re-keys the chart writes `NAME.keyring.new` first;
//! opening tries the keyring, then `.new` (see `Chart::open_as`).

pub(crate) mod crypto;

use super::{Result, StoreError, files};
use crate::domain::team::{Role, TeamMember, matching};
use crypto::{KdfParams, PrivateKeys, Sealed, Secret32, Wrap, WrapHeader, from_hex, to_hex};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The keyring's file format.
pub const FORMAT: u32 = 1;

pub fn path_of(chart: &Path) -> PathBuf {
    files::sibling(chart, ".keyring")
}

/// Where a re-key writes the keyring for the new chart key before the chart is re-keyed.
pub fn new_path_of(chart: &Path) -> PathBuf {
    files::sibling(chart, ".keyring.new")
}

/// The old keyring kept while `clinician add` commits (see `Chart::add_team_member`).
pub fn kept_path_of(chart: &Path) -> PathBuf {
    files::sibling(chart, ".keyring.kept")
}

/// One clinician's line in the keyring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub agreement_public: [u8; 32],
    pub signing_public: [u8; 32],
    pub wrap: Wrap,
    pub chart_key: Sealed,
}

/// What one clinician's passphrase opens: their private keys and the chart key.
pub struct Unlocked {
    pub keys: PrivateKeys,
    pub chart_key: Secret32,
}

impl Entry {
    fn header(&self) -> WrapHeader<'_> {
        WrapHeader {
            format: FORMAT,
            clinician_id: self.id,
            name: &self.name,
            agreement_public: self.agreement_public,
            signing_public: self.signing_public,
        }
    }

    /// A new entry: `keys` wrapped under `passphrase`, `chart_key` sealed to them.
    pub fn new(
        id: i64,
        name: &str,
        role: Role,
        keys: &PrivateKeys,
        passphrase: &str,
        chart_key: &[u8; 32],
    ) -> Result<Entry> {
        let agreement_public = keys.agreement_public();
        let signing_public = keys.signing_public();
        let header = WrapHeader {
            format: FORMAT,
            clinician_id: id,
            name,
            agreement_public,
            signing_public,
        };
        let wrap = crypto::wrap(keys, passphrase, &header, KdfParams::OWASP).map_err(invalid)?;
        let sealed = crypto::seal(chart_key, id, &agreement_public).map_err(invalid)?;
        Ok(Entry {
            id,
            name: name.to_string(),
            role,
            agreement_public,
            signing_public,
            wrap,
            chart_key: sealed,
        })
    }

    /// Opens this entry with `passphrase`; None when it does not fit.
    pub fn unlock(&self, passphrase: &str) -> Result<Option<Unlocked>> {
        let Some(keys) = crypto::unwrap(&self.wrap, passphrase, &self.header()).map_err(invalid)?
        else {
            return Ok(None);
        };
        Ok(crypto::unseal(&self.chart_key, self.id, &keys)
            .map(|chart_key| Unlocked { keys, chart_key }))
    }

    /// The same clinician with `keys` wrapped under a new passphrase (new salt and nonce).
    pub fn rewrapped(&self, keys: &PrivateKeys, passphrase: &str) -> Result<Entry> {
        let wrap =
            crypto::wrap(keys, passphrase, &self.header(), KdfParams::OWASP).map_err(invalid)?;
        Ok(Entry {
            wrap,
            ..self.clone()
        })
    }

    /// The same clinician with `chart_key` sealed to them instead.
    pub fn resealed(&self, chart_key: &[u8; 32]) -> Result<Entry> {
        let sealed = crypto::seal(chart_key, self.id, &self.agreement_public).map_err(invalid)?;
        Ok(Entry {
            chart_key: sealed,
            ..self.clone()
        })
    }
}

fn invalid(e: String) -> StoreError {
    StoreError::Invalid(e)
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Keyring {
    pub entries: Vec<Entry>,
    /// Damage found in the chart (`Chart::mark_damaged`): kept here as well as in the mark
    /// beside the chart, so that removing that file does not clear it.
    pub damage: Vec<String>,
}

impl Keyring {
    pub fn members(&self) -> Vec<TeamMember> {
        self.entries
            .iter()
            .map(|e| TeamMember {
                id: e.id,
                name: e.name.clone(),
                role: e.role,
            })
            .collect()
    }

    /// The entry `who` names (an id or a name, any case). With `who` empty, the team's only
    /// clinician. Refuses an unknown or ambiguous `who` naming the team.
    pub fn find(&self, who: &str) -> Result<&Entry> {
        let members = self.members();
        let list = || {
            members
                .iter()
                .map(|m| format!("{} {} ({})", m.id, m.name, m.role))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if who.trim().is_empty() {
            return match self.entries.as_slice() {
                [only] => Ok(only),
                _ => Err(StoreError::SignIn(format!(
                    "this chart's team has {} clinicians; say who is signing in (KAPCHART_CLINICIAN=ID or NAME): {}",
                    self.entries.len(),
                    list()
                ))),
            };
        }
        match matching(&members, who).as_slice() {
            [one] => {
                self.entries.iter().find(|e| e.id == one.id).ok_or_else(|| {
                    StoreError::SignIn("the keyring changed while reading it".into())
                })
            }
            [] => Err(StoreError::SignIn(format!(
                "no clinician '{}' on this chart's team; the team: {}",
                who.trim(),
                list()
            ))),
            several => Err(StoreError::SignIn(format!(
                "more than one clinician is named '{}' (ids {}); sign in with the id",
                who.trim(),
                several
                    .iter()
                    .map(|m| m.id.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    pub fn to_json(&self) -> String {
        let file = KeyringFile {
            format: FORMAT,
            about: "kapchart keyring: the chart key sealed to each clinician; private keys wrapped under each clinician's passphrase",
            clinicians: self.entries.iter().map(EntryFile::from).collect(),
            damage: self.damage.clone(),
        };
        serde_json::to_string_pretty(&file).unwrap_or_default()
    }

    pub fn from_json(text: &str, path: &Path) -> Result<Keyring> {
        let bad = |why: String| {
            StoreError::Invalid(format!(
                "the keyring {} cannot be read ({why}); restore it with its chart from a backup",
                path.display()
            ))
        };
        let file: KeyringFileIn = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        if file.format != FORMAT {
            return Err(bad(format!(
                "format {} is not one this kapchart reads (it reads {FORMAT}); update kapchart",
                file.format
            )));
        }
        let entries = file
            .clinicians
            .into_iter()
            .map(|e| {
                e.into_entry()
                    .ok_or_else(|| bad("a clinician's keys are malformed".into()))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Keyring {
            entries,
            damage: file.damage,
        })
    }
}

/// Reads the keyring at `path`; None when there is none.
pub fn read(path: &Path) -> Result<Option<Keyring>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Keyring::from_json(&text, path).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StoreError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Writes `keyring` to `path` atomically and durably: a private temporary file beside it,
/// fsync, rename over `path`, fsync of the folder. A kill leaves the old file or the new.
pub fn write(path: &Path, keyring: &Keyring) -> Result<()> {
    use std::io::Write;
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| StoreError::Io { path: p, source }
    };
    let temp = files::sibling(path, &format!(".tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    files::create_private_file(&temp)?;
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&temp)
            .map_err(io(&temp))?;
        f.write_all(keyring.to_json().as_bytes())
            .map_err(io(&temp))?;
        f.sync_all().map_err(io(&temp))?;
        std::fs::rename(&temp, path).map_err(io(path))
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written?;
    files::sync_dir(path.parent().unwrap_or(Path::new(".")));
    Ok(())
}

/// Removes the temporary files (`NAME.keyring.tmp-PID`, `NAME.keyring.new.tmp-PID`) that a
/// kapchart killed while writing a keyring left beside the chart. Only while no kapchart can
/// be writing one: the caller holds the chart's lock (no restore or re-key under way) and
/// this takes the keyring writer's lock without waiting, doing nothing when it is held.
pub fn remove_stale_temporaries(chart: &Path) {
    let Ok(_writing) = super::lock::keyring_writer(chart, std::time::Duration::ZERO) else {
        return;
    };
    let Some(name) = chart.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let dir = match chart.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(listing) = std::fs::read_dir(dir) else {
        return;
    };
    let prefixes = [
        format!("{name}.keyring.tmp-"),
        format!("{name}.keyring.new.tmp-"),
    ];
    for entry in listing.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        if prefixes.iter().any(|p| file.starts_with(p.as_str())) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Records `damage` in the keyring beside `chart` (empty: clears it), under the keyring
/// writer's lock.
pub fn set_damage(chart: &Path, damage: &[String]) -> Result<()> {
    let _writing = super::lock::keyring_writer(chart, std::time::Duration::from_secs(5))?;
    let path = path_of(chart);
    let Some(mut ring) = read(&path)? else {
        return Ok(());
    };
    if ring.damage == damage {
        return Ok(());
    }
    ring.damage = damage.to_vec();
    write(&path, &ring)
}

/// Moves `from` over `to` durably (the `.new` journal taking the keyring's place).
pub fn promote(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(|source| StoreError::Io {
        path: to.to_path_buf(),
        source,
    })?;
    files::sync_dir(to.parent().unwrap_or(Path::new(".")));
    Ok(())
}

#[derive(Serialize)]
struct KeyringFile<'a> {
    format: u32,
    about: &'a str,
    clinicians: Vec<EntryFile>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    damage: Vec<String>,
}

#[derive(Deserialize)]
struct KeyringFileIn {
    format: u32,
    clinicians: Vec<EntryFile>,
    #[serde(default)]
    damage: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct EntryFile {
    id: i64,
    name: String,
    role: Role,
    x25519_public: String,
    ed25519_public: String,
    kdf: String,
    kdf_params: KdfParams,
    salt: String,
    nonce: String,
    wrapped_private_keys: String,
    chart_key_ephemeral: String,
    chart_key_nonce: String,
    chart_key_sealed: String,
}

impl From<&Entry> for EntryFile {
    fn from(e: &Entry) -> Self {
        EntryFile {
            id: e.id,
            name: e.name.clone(),
            role: e.role,
            x25519_public: to_hex(&e.agreement_public),
            ed25519_public: to_hex(&e.signing_public),
            kdf: "argon2id".into(),
            kdf_params: e.wrap.kdf,
            salt: to_hex(&e.wrap.salt),
            nonce: to_hex(&e.wrap.nonce),
            wrapped_private_keys: to_hex(&e.wrap.sealed),
            chart_key_ephemeral: to_hex(&e.chart_key.ephemeral),
            chart_key_nonce: to_hex(&e.chart_key.nonce),
            chart_key_sealed: to_hex(&e.chart_key.sealed),
        }
    }
}

fn array<const N: usize>(hex: &str) -> Option<[u8; N]> {
    from_hex(hex)?.try_into().ok()
}

impl EntryFile {
    fn into_entry(self) -> Option<Entry> {
        if self.kdf != "argon2id" {
            return None;
        }
        Some(Entry {
            id: self.id,
            name: self.name,
            role: self.role,
            agreement_public: array(&self.x25519_public)?,
            signing_public: array(&self.ed25519_public)?,
            wrap: Wrap {
                kdf: self.kdf_params,
                salt: array(&self.salt)?,
                nonce: array(&self.nonce)?,
                sealed: from_hex(&self.wrapped_private_keys)?,
            },
            chart_key: Sealed {
                ephemeral: array(&self.chart_key_ephemeral)?,
                nonce: array(&self.chart_key_nonce)?,
                sealed: from_hex(&self.chart_key_sealed)?,
            },
        })
    }
}
