//! A container's finished form and strength, as 21 CFR 1304.22(c) asks them recorded
//! ("10 mg/mL", "10-mL vial"): a vial of solution, or a single-use device holding a fixed
//! amount (Spravato: 28 mg per nasal device, clinical.md section 2).

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "form", rename_all = "kebab-case")]
pub enum Presentation {
    /// A vial of solution: its strength and the volume it holds.
    Vial { mg_per_ml: f64, ml: f64 },
    /// A single-use device holding `mg` (drawn whole).
    Device { mg: f64 },
}

impl Presentation {
    /// What one full container holds, in mg.
    pub fn content_mg(&self) -> f64 {
        match *self {
            Presentation::Vial { mg_per_ml, ml } => mg_per_ml * ml,
            Presentation::Device { mg } => mg,
        }
    }

    /// The volume `mg` of this solution takes, for a vial.
    pub fn ml_of(&self, mg: f64) -> Option<f64> {
        match *self {
            Presentation::Vial { mg_per_ml, .. } if mg_per_ml > 0.0 => Some(mg / mg_per_ml),
            _ => None,
        }
    }

    pub fn is_device(&self) -> bool {
        matches!(self, Presentation::Device { .. })
    }
}

impl fmt::Display for Presentation {
    /// "50 mg/mL, 10 mL vial" or "28 mg device".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::domain::entry::trim_number;
        match *self {
            Presentation::Vial { mg_per_ml, ml } => write!(
                f,
                "{} mg/mL, {} mL vial",
                trim_number(mg_per_ml, 3),
                trim_number(ml, 3)
            ),
            Presentation::Device { mg } => write!(f, "{} mg device", trim_number(mg, 3)),
        }
    }
}

fn positive(text: &str) -> Option<f64> {
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0 && *v < 1.0e6)
}

/// `50mg/mL` (a solution) or `28mg` (a device); spaces and case do not matter.
pub fn parse_strength(text: &str) -> Result<StrengthText, String> {
    let t: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    let bad = || {
        format!(
            "the strength '{text}' is not understood: give mg per mL for a vial (50mg/mL) or mg per device (28mg)"
        )
    };
    if let Some(n) = t.strip_suffix("mg/ml") {
        return positive(n).map(StrengthText::PerMl).ok_or_else(bad);
    }
    if let Some(n) = t.strip_suffix("mg") {
        return positive(n).map(StrengthText::PerDevice).ok_or_else(bad);
    }
    Err(bad())
}

/// A strength as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StrengthText {
    PerMl(f64),
    PerDevice(f64),
}

/// `10mL` (or `10ml`, `10 mL`).
pub fn parse_volume(text: &str) -> Result<f64, String> {
    let t: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    t.strip_suffix("ml")
        .and_then(positive)
        .ok_or_else(|| format!("the volume '{text}' is not understood: give it in mL, like 10mL"))
}

/// `2027-06`: the expiry printed on the container, year and month.
pub fn parse_expiry(text: &str) -> Result<String, String> {
    let bad =
        || format!("the expiry '{text}' is not understood: give year and month, like 2027-06");
    let (y, m) = text.trim().split_once('-').ok_or_else(bad)?;
    let year: u32 = y.parse().map_err(|_| bad())?;
    let month: u32 = m.parse().map_err(|_| bad())?;
    if y.len() != 4 || !(2000..=2100).contains(&year) || !(1..=12).contains(&month) {
        return Err(bad());
    }
    Ok(format!("{year:04}-{month:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strengths_volumes_and_expiries_read_as_printed() {
        assert_eq!(parse_strength("50mg/mL"), Ok(StrengthText::PerMl(50.0)));
        assert_eq!(parse_strength("100 mg/ml"), Ok(StrengthText::PerMl(100.0)));
        assert_eq!(parse_strength("28mg"), Ok(StrengthText::PerDevice(28.0)));
        for bad in ["50", "mg/mL", "-5mg/mL", "50mcg/mL", "0mg", "NaNmg"] {
            let e = parse_strength(bad).unwrap_err();
            assert!(e.contains(bad) && e.contains("50mg/mL"), "{e}");
        }
        assert_eq!(parse_volume("10mL"), Ok(10.0));
        assert!(parse_volume("10").unwrap_err().contains("10mL"));
        assert_eq!(parse_expiry("2027-6"), Ok("2027-06".into()));
        for bad in ["2027", "27-06", "2027-13", "June 2027"] {
            assert!(parse_expiry(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_vial_holds_strength_times_volume() {
        let v = Presentation::Vial {
            mg_per_ml: 50.0,
            ml: 10.0,
        };
        assert_eq!(v.content_mg(), 500.0);
        assert_eq!(v.ml_of(35.0), Some(0.7));
        assert_eq!(v.to_string(), "50 mg/mL, 10 mL vial");
        let d = Presentation::Device { mg: 28.0 };
        assert_eq!(d.content_mg(), 28.0);
        assert_eq!(d.ml_of(28.0), None);
        assert_eq!(d.to_string(), "28 mg device");
    }
}
