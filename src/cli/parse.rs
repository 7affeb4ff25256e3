//! What the command line's values mean: dates, weights, the flags shared by several commands.

use crate::app::Second;
use chrono::NaiveDate;
use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct JsonFlag {
    /// Machine-readable output
    #[arg(long)]
    pub(crate) json: bool,
}

pub(crate) fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("'{s}' is not a date; expected YYYY-MM-DD, e.g. 1984-03-21"))
}

pub(crate) fn parse_weight(s: &str) -> Result<f64, String> {
    let kg: f64 = s
        .trim()
        .trim_end_matches("kg")
        .parse()
        .map_err(|_| format!("'{s}' is not a weight; expected kilograms, e.g. 72.5"))?;
    if kg.is_finite() && kg > 0.0 && kg < 700.0 {
        Ok(kg)
    } else {
        Err(format!(
            "{s} kg is not plausible; expected kilograms between 0 and 700"
        ))
    }
}

/// A flag that says a second record is meant.
pub(crate) fn second(meant: bool) -> Second {
    if meant { Second::Meant } else { Second::Refuse }
}

/// A container's id as `kapchart stock show` lists it: `V12`.
pub fn parse_container(s: &str) -> Result<crate::domain::stock::ContainerId, String> {
    crate::domain::stock::ContainerId::parse(s.trim()).ok_or_else(|| {
        format!(
            "'{s}' is not a container id; expected one like V12 (kapchart stock show lists them)"
        )
    })
}
