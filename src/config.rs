//! kapchart's configuration: the defaults shipped in `assets/config.toml`, with the user's
//! own `config.toml` laid over them key by key.

use crate::domain::AlertThresholds;
use serde::Deserialize;
use std::path::Path;

/// The defaults, compiled in so that the binary stands alone.
pub const DEFAULT_CONFIG: &str = include_str!("../assets/config.toml");

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub alerts: AlertThresholds,
    pub entries: EntryRules,
    pub drugs: Drugs,
    pub chart: ChartSettings,
    pub protocol: crate::domain::protocol::ProtocolConfig,
    pub discharge: crate::domain::discharge::DischargeRules,
    pub measures: crate::domain::measures::MeasureRules,
    pub integration: crate::domain::integration::IntegrationRules,
    pub notes: NoteSettings,
    /// The Spravato REMS form, its deadline and the checks of a REMS session.
    pub rems: crate::domain::rems::RemsRules,
    pub lock: LockSettings,
    /// The controlled-substance log: the manner of a waste, the loss threshold, the
    /// beyond-use days of a kept vial.
    pub stock: StockSettings,
    /// The clinic's own identifiers: the system its MRNs are issued under.
    pub clinic: ClinicSettings,
    /// Where `kapchart sync` sends the chart, and in what bundles.
    pub sync: SyncSettings,
    /// Where a clinic's own note templates live (`templates/` beside config.toml); set by
    /// the caller, not read from the file.
    #[serde(skip)]
    pub templates_dir: Option<std::path::PathBuf>,
    /// Key overrides per context (`[keys.timeline] amend = "m"`); defaults are in the keymap.
    #[serde(default)]
    pub keys: crate::keys::KeyOverrides,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryRules {
    pub late_after_minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Drugs {
    pub known: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteSettings {
    /// The template a new integration note starts from: dap, soap or birp.
    pub format: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartSettings {
    pub busy_timeout_ms: u32,
    /// The least zxcvbn score (3-4) of a new passphrase (`domain::passphrase`); below 3 is
    /// refused when the configuration loads.
    pub min_passphrase_score: u8,
    /// The clinic's name: a passphrase built from it is weak (`domain::passphrase`).
    #[serde(default)]
    pub clinic: String,
}

/// `[stock]`: see `assets/config.toml` for each setting's source.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockSettings {
    pub waste_manner: String,
    pub significant_loss_mg: f64,
    pub multi_dose_beyond_use_days: u32,
}

/// `[clinic]`: see `assets/config.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClinicSettings {
    /// The URI MRNs are issued under (FHIR `Identifier.system`); empty when not set.
    pub mrn_system: String,
    /// The URI the clinic's staff ids are issued under; empty when not set.
    pub staff_id_system: String,
}

impl ClinicSettings {
    /// The MRN system, when the clinic set one.
    pub fn mrn_system(&self) -> Option<&str> {
        Some(self.mrn_system.trim()).filter(|s| !s.is_empty())
    }

    /// The staff id system, when the clinic set one.
    pub fn staff_id_system(&self) -> Option<&str> {
        Some(self.staff_id_system.trim()).filter(|s| !s.is_empty())
    }
}

/// `[sync]`: see `assets/config.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncSettings {
    /// The clinic's FHIR R4 base URL; empty when the clinic has not set one.
    pub server: String,
    /// Resources per transaction bundle.
    pub bundle_size: u32,
    /// Resources per transaction bundle to a server that takes some types only by create.
    pub create_bundle_size: u32,
    /// The system of every resource's business identifier; empty: the chart's URN.
    pub identifier_system: String,
    /// How long one request to the server may take, in seconds.
    pub timeout_seconds: u32,
}

impl SyncSettings {
    /// The identifier system the clinic set, if any.
    pub fn identifier_system(&self) -> Option<&str> {
        Some(self.identifier_system.trim()).filter(|s| !s.is_empty())
    }

    /// Refuses an identifier system that is not an absolute URI (R4 Identifier.system is a
    /// `uri`: https://hl7.org/fhir/R4/datatypes-definitions.html#Identifier.system).
    fn validate(&self) -> Result<(), String> {
        let Some(system) = self.identifier_system() else {
            return Ok(());
        };
        let scheme = system.split_once(':').map(|(s, _)| s).unwrap_or("");
        let absolute = !scheme.is_empty()
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if absolute && !system.chars().any(|c| c.is_whitespace() || c.is_control()) {
            Ok(())
        } else {
            Err(format!(
                "[sync] identifier_system = {system:?} is not an absolute URI; expected one such as \"urn:oid:1.2.840.99999.7\" or \"https://clinic.example/fhir/kapchart-id\", or \"\" for the chart's own URN"
            ))
        }
    }
}

/// The chart screen's lock (HIPAA 45 CFR 164.312(a)(2)(iii), automatic logoff; addressable,
/// so each clinic sets the wait).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockSettings {
    /// How long without a key press before the screen locks: "300s" or "5m".
    #[serde(deserialize_with = "idle_text")]
    pub after_idle: String,
}

/// The wait as written; anything but text (`false`, `0`) is refused naming the setting.
fn idle_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match toml::Value::deserialize(d)? {
        toml::Value::String(s) => Ok(s),
        other => Err(serde::de::Error::custom(format!(
            "[lock] after_idle = {other} is not a wait kapchart can use; expected text such as \"5m\" or \"300s\" (the lock cannot be turned off)"
        ))),
    }
}

/// The longest `[lock] after_idle` a clinic may set: the lock may be slowed, never turned off.
pub const LONGEST_IDLE: std::time::Duration = std::time::Duration::from_secs(60 * 60);

impl LockSettings {
    /// The wait, once the configuration loaded (it refuses a wait it cannot read).
    pub fn after_idle(&self) -> std::time::Duration {
        parse_idle(&self.after_idle).unwrap_or(LONGEST_IDLE)
    }
}

/// "300s", "5m" (spaces allowed before the unit) as a wait from 1 s to [`LONGEST_IDLE`].
fn parse_idle(text: &str) -> Result<std::time::Duration, String> {
    let refuse = || {
        format!(
            "[lock] after_idle = \"{text}\" is not a wait kapchart can use; expected seconds or minutes from \"1s\" to \"60m\", e.g. \"5m\" or \"300s\" (the lock cannot be turned off)"
        )
    };
    let t = text.trim();
    let (number, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = number.parse().map_err(|_| refuse())?;
    let secs = match unit.trim() {
        "s" => n,
        "m" => n.checked_mul(60).ok_or_else(refuse)?,
        _ => return Err(refuse()),
    };
    let wait = std::time::Duration::from_secs(secs);
    if secs == 0 || wait > LONGEST_IDLE {
        return Err(refuse());
    }
    Ok(wait)
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config {path} is not valid: {message}")]
    Invalid { path: String, message: String },
}

impl Default for Config {
    fn default() -> Self {
        Config::from_layers(None).expect("the shipped assets/config.toml is valid")
    }
}

impl Config {
    /// Loads the defaults and, when `user` exists, lays it over them. A missing user file is
    /// not an error; an unreadable or invalid one is.
    pub fn load(user: Option<&Path>) -> Result<Config, ConfigError> {
        let Some(path) = user.filter(|p| p.exists()) else {
            return Config::from_layers(None);
        };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Config::from_layers(Some((&path.display().to_string(), &text)))
    }

    /// The defaults with `user` (name, TOML text) laid over them.
    pub fn from_layers(user: Option<(&str, &str)>) -> Result<Config, ConfigError> {
        let invalid = |path: &str, message: String| ConfigError::Invalid {
            path: path.to_string(),
            message,
        };
        // A rule broken by the settings as laid over: named in the user's file, if any.
        let here =
            |message: String| invalid(user.map_or("assets/config.toml", |(p, _)| p), message);
        let mut merged: toml::Table = DEFAULT_CONFIG
            .parse()
            .map_err(|e: toml::de::Error| invalid("assets/config.toml", e.to_string()))?;
        if let Some((path, text)) = user {
            let overrides: toml::Table = text
                .parse()
                .map_err(|e: toml::de::Error| invalid(path, e.message().to_string()))?;
            merge(&mut merged, overrides);
            toml::Value::Table(merged)
                .try_into::<Config>()
                .map_err(|e| invalid(path, e.message().to_string()))
        } else {
            toml::Value::Table(merged)
                .try_into::<Config>()
                .map_err(|e| invalid("assets/config.toml", e.message().to_string()))
        }
        .map(Config::normalised)
        .and_then(|c| match c.alerts.doses.check(&c.drugs.known) {
            Ok(()) => Ok(c),
            Err(message) => Err(here(message)),
        })
        .and_then(|c| match c.rems.validate() {
            Ok(()) => Ok(c),
            Err(message) => Err(here(message)),
        })
        .and_then(|c| {
            let least = crate::domain::passphrase::LEAST_MIN_SCORE;
            if (least..=4).contains(&c.chart.min_passphrase_score) {
                Ok(c)
            } else {
                Err(here(format!(
                        "[chart] min_passphrase_score = {} is not accepted; expected {least} or 4 (a clinic may ask for stronger passphrases than {least}, never weaker)",
                        c.chart.min_passphrase_score
                    )))
            }
        })
        .and_then(|c| {
            if ["dap", "soap", "birp"].contains(&c.notes.format.as_str()) {
                Ok(c)
            } else {
                Err(here(format!(
                        "[notes] format = \"{}\" is not a template; expected dap, soap or birp",
                        c.notes.format
                    )))
            }
        })
        .and_then(|c| match c.sync.validate() {
            Ok(()) => Ok(c),
            Err(message) => Err(here(message)),
        })
        .and_then(|c| match parse_idle(&c.lock.after_idle) {
            Ok(_) => Ok(c),
            Err(message) => Err(here(message)),
        })
    }

    fn normalised(mut self) -> Config {
        self.notes.format = self.notes.format.trim().to_lowercase();
        for d in &mut self.drugs.known {
            *d = d.trim().to_lowercase();
        }
        self
    }

    pub fn late_after(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.entries.late_after_minutes))
    }

    /// The rules a session is charted under: alert levels, the late-entry mark, the protocol's
    /// schedule and clock drugs, and the discharge reminders.
    pub fn session_rules(&self) -> crate::domain::chart::SessionRules {
        crate::domain::chart::SessionRules {
            alerts: self.alerts.clone(),
            late_after: self.late_after(),
            protocol: self.protocol.clone(),
            discharge: self.discharge.clone(),
            rems: self.rems.clone(),
        }
    }

    /// What a quick-entry line is parsed against under this configuration: the drugs it
    /// knows, their dose ceilings and the questionnaires' bands, for a patient weighing
    /// `weight_kg`, typed at `now`. Every line charted, previewed or amended is read so.
    pub fn parse_context<Tz: chrono::TimeZone>(
        &self,
        now: chrono::DateTime<Tz>,
        weight_kg: Option<f64>,
    ) -> crate::domain::grammar::ParseContext<'_, Tz> {
        crate::domain::grammar::ParseContext {
            now,
            weight_kg,
            drugs: &self.drugs.known,
            doses: &self.alerts.doses,
            measures: &self.measures,
        }
    }
}

/// Lays `over` onto `base`: tables merge key by key, anything else replaces.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_defaults_load() {
        let c = Config::default();
        assert_eq!(c.alerts.systolic_at_or_above, 160);
        assert_eq!(c.alerts.predose_systolic_above, 140);
        assert_eq!(c.entries.late_after_minutes, 10);
        assert!(c.drugs.known.iter().any(|d| d == "ketamine"));
    }

    #[test]
    fn user_config_overrides_one_key_and_keeps_the_rest() {
        let c = Config::from_layers(Some(("mine.toml", "[alerts]\nspo2_below = 90\n"))).unwrap();
        assert_eq!(c.alerts.spo2_below, 90);
        assert_eq!(c.alerts.hr_above, 120);
    }

    #[test]
    fn a_misspelt_key_is_named() {
        let err = Config::from_layers(Some(("mine.toml", "[alerts]\nspo2_bellow = 90\n")))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("mine.toml") && err.contains("spo2_bellow"),
            "{err}"
        );
    }

    #[test]
    fn a_clinic_may_raise_the_passphrase_score_but_not_lower_it_below_three() {
        let c = Config::from_layers(Some(("mine.toml", "[chart]\nmin_passphrase_score = 4\n")))
            .unwrap();
        assert_eq!(c.chart.min_passphrase_score, 4);
        for low in [0, 1, 2] {
            let err = Config::from_layers(Some((
                "mine.toml",
                &format!("[chart]\nmin_passphrase_score = {low}\n"),
            )))
            .unwrap_err()
            .to_string();
            assert!(
                err.contains(&format!("min_passphrase_score = {low}"))
                    && err.contains("never weaker"),
                "{err}"
            );
        }
    }

    #[test]
    fn dose_levels_load_override_and_refuse_misspelt_keys() {
        use crate::domain::entry::Route;
        let c = Config::default();
        let im = c.alerts.doses.for_drug("ketamine", Route::IM).unwrap();
        assert_eq!(im.alert_above_mg, Some(150.0));
        assert!(c.alerts.doses.for_drug("midazolam", Route::IV).is_some());
        let c = Config::from_layers(Some((
            "mine.toml",
            "[alerts.doses.ketamine.IM]\nalert_above_mg = 200\n",
        )))
        .unwrap();
        let im = c.alerts.doses.for_drug("ketamine", Route::IM).unwrap();
        assert_eq!(
            (im.alert_above_mg, im.refuse_above_mg),
            (Some(200.0), Some(1500.0))
        );
        for (bad, named) in [
            (
                "[alerts.doses.ketamine.IM]\nalert_above_mgs = 1\n",
                "alert_above_mgs",
            ),
            ("[alerts.doses.ketamin.IM]\nalert_above_mg = 1\n", "ketamin"),
            ("[alerts.doses.ketamine.IMM]\nalert_above_mg = 1\n", "IMM"),
            (
                "[alerts.doses.ketamine.IM]\nrefuse_above_mg = 100\n",
                "below alert_above_mg",
            ),
        ] {
            let err = Config::from_layers(Some(("mine.toml", bad)))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("mine.toml") && err.contains(named),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn the_lock_waits_five_minutes_unless_a_clinic_says_otherwise() {
        use std::time::Duration;
        assert_eq!(
            Config::default().lock.after_idle(),
            Duration::from_secs(300)
        );
        for (written, secs) in [
            ("2s", 2),
            ("300s", 300),
            ("5m", 300),
            (" 10 m ", 600),
            ("60m", 3600),
        ] {
            let toml = format!("[lock]\nafter_idle = \"{written}\"\n");
            let c = Config::from_layers(Some(("mine.toml", &toml))).unwrap();
            assert_eq!(c.lock.after_idle(), Duration::from_secs(secs), "{written}");
        }
    }

    #[test]
    fn a_lock_wait_that_is_off_or_unreadable_is_refused_naming_the_setting() {
        for bad in [
            "0s",
            "0m",
            "off",
            "",
            "5",
            "5h",
            "61m",
            "3601s",
            "-5s",
            "1.5m",
            "99999999999999999999m",
        ] {
            let toml = format!("[lock]\nafter_idle = \"{bad}\"\n");
            let err = Config::from_layers(Some(("mine.toml", &toml)))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("mine.toml")
                    && err.contains("[lock] after_idle")
                    && err.contains("\"5m\""),
                "{bad}: {err}"
            );
        }
        for bad in ["false", "0", "300"] {
            let toml = format!("[lock]\nafter_idle = {bad}\n");
            let err = Config::from_layers(Some(("mine.toml", &toml)))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("mine.toml")
                    && err.contains("[lock] after_idle")
                    && err.contains("\"5m\""),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn an_identifier_system_must_be_an_absolute_uri() {
        let default = Config::from_layers(None).unwrap();
        assert_eq!(default.sync.identifier_system(), None);
        for good in ["urn:oid:1.2.840.99999.7", "https://clinic.example/fhir/id"] {
            let c = Config::from_layers(Some((
                "c.toml",
                &format!("[sync]\nidentifier_system = \"{good}\"\n"),
            )))
            .unwrap();
            assert_eq!(c.sync.identifier_system(), Some(good));
        }
        for bad in ["clinic ids", "1.2.3", "https://clinic.example/a b", ":x"] {
            let e = Config::from_layers(Some((
                "c.toml",
                &format!("[sync]\nidentifier_system = \"{bad}\"\n"),
            )))
            .unwrap_err()
            .to_string();
            assert!(
                e.contains("[sync] identifier_system") && e.contains("not an absolute URI"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn a_wrong_type_is_named() {
        let err = Config::from_layers(Some(("mine.toml", "[alerts]\nhr_above = \"high\"\n")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("mine.toml"), "{err}");
    }
}
