//! Where kapchart keeps things: the chart, the user's config and the log.

use directories::ProjectDirs;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub chart: PathBuf,
    pub demo_chart: PathBuf,
    pub config: PathBuf,
    pub log: PathBuf,
}

impl Paths {
    /// The platform's usual places (XDG on Linux), with `KAPCHART_DB` and `--db` taking
    /// precedence for the chart.
    pub fn resolve(db_flag: Option<PathBuf>) -> Paths {
        let dirs = ProjectDirs::from("org", "kapchart", "kapchart");
        let fallback = || PathBuf::from(".kapchart");
        let data = dirs
            .as_ref()
            .map(|d| d.data_dir().to_path_buf())
            .unwrap_or_else(fallback);
        let config = dirs
            .as_ref()
            .map(|d| d.config_dir().to_path_buf())
            .unwrap_or_else(fallback);
        let log_dir = dirs
            .as_ref()
            .map(|d| {
                d.state_dir()
                    .unwrap_or_else(|| d.data_local_dir())
                    .to_path_buf()
            })
            .unwrap_or_else(fallback);
        let env_db = std::env::var_os("KAPCHART_DB")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        Paths {
            chart: db_flag
                .clone()
                .or(env_db)
                .unwrap_or_else(|| data.join("chart.db")),
            demo_chart: db_flag.unwrap_or_else(|| data.join("demo.db")),
            config: std::env::var_os("KAPCHART_CONFIG")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| config.join("config.toml")),
            log: log_dir.join("kapchart.log"),
        }
    }
}
