//! The vital signs a protocol round asks for, and the signs a reading charted: a small set,
//! so that a round is done only when its readings hold every sign it asks for, and a round
//! charted in part says which are missing.

use crate::domain::VitalSigns;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// One vital sign a round may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sign {
    Bp,
    Hr,
    Spo2,
    Rr,
    Temp,
}

impl Sign {
    pub const ALL: [Sign; 5] = [Sign::Bp, Sign::Hr, Sign::Spo2, Sign::Rr, Sign::Temp];

    /// As written in `[protocol] vitals_round` (the quick-entry keywords).
    pub fn name(self) -> &'static str {
        match self {
            Sign::Bp => "bp",
            Sign::Hr => "hr",
            Sign::Spo2 => "spo2",
            Sign::Rr => "rr",
            Sign::Temp => "temp",
        }
    }

    /// As shown to the clinician: "BP", "HR", "SpO2", "RR", "temp".
    pub fn label(self) -> &'static str {
        match self {
            Sign::Bp => "BP",
            Sign::Hr => "HR",
            Sign::Spo2 => "SpO2",
            Sign::Rr => "RR",
            Sign::Temp => "temp",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }

    pub fn from_name(name: &str) -> Option<Sign> {
        let n = name.trim().to_ascii_lowercase();
        Sign::ALL.into_iter().find(|s| s.name() == n)
    }
}

/// A set of vital signs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Signs(u8);

impl Signs {
    pub const NONE: Signs = Signs(0);

    pub fn of(signs: &[Sign]) -> Signs {
        Signs(signs.iter().fold(0, |acc, s| acc | s.bit()))
    }

    /// The signs a vitals entry holds.
    pub fn charted_in(v: &VitalSigns) -> Signs {
        let mut out = Signs::NONE;
        for (present, sign) in [
            (v.bp.is_some(), Sign::Bp),
            (v.hr.is_some(), Sign::Hr),
            (v.spo2.is_some(), Sign::Spo2),
            (v.rr.is_some(), Sign::Rr),
            (v.temp_c.is_some(), Sign::Temp),
        ] {
            if present {
                out = out.with(sign);
            }
        }
        out
    }

    pub fn with(self, sign: Sign) -> Signs {
        Signs(self.0 | sign.bit())
    }

    pub fn contains(self, sign: Sign) -> bool {
        self.0 & sign.bit() != 0
    }

    pub fn union(self, other: Signs) -> Signs {
        Signs(self.0 | other.0)
    }

    pub fn intersection(self, other: Signs) -> Signs {
        Signs(self.0 & other.0)
    }

    /// The signs of `self` that `other` does not hold.
    pub fn without(self, other: Signs) -> Signs {
        Signs(self.0 & !other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every sign of `other` is in `self`.
    pub fn covers(self, other: Signs) -> bool {
        other.without(self).is_empty()
    }

    pub fn iter(self) -> impl Iterator<Item = Sign> {
        Sign::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// The labels, "BP, HR, SpO2".
    pub fn labels(self) -> Vec<&'static str> {
        self.iter().map(Sign::label).collect()
    }
}

impl fmt::Display for Signs {
    /// "BP, HR and SpO2".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let labels = self.labels();
        match labels.as_slice() {
            [] => Ok(()),
            [one] => f.write_str(one),
            [rest @ .., last] => write!(f, "{} and {last}", rest.join(", ")),
        }
    }
}

impl Serialize for Signs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(Sign::name))
    }
}

impl<'de> Deserialize<'de> for Signs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Signs, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        let mut out = Signs::NONE;
        for n in &names {
            let sign = Sign::from_name(n).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "\"{n}\" is not a vital sign; expected bp, hr, spo2, rr or temp"
                ))
            })?;
            out = out.with(sign);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_reads_as_a_clinician_writes_it() {
        let all = Signs::of(&[Sign::Bp, Sign::Hr, Sign::Spo2]);
        assert_eq!(all.to_string(), "BP, HR and SpO2");
        let spo2 = Signs::of(&[Sign::Spo2]);
        assert_eq!(all.without(spo2).to_string(), "BP and HR");
        assert!(all.covers(spo2) && !spo2.covers(all));
        assert_eq!(Signs::NONE.to_string(), "");
    }

    #[test]
    fn names_round_trip_and_unknown_ones_are_refused() {
        let s: Signs = serde_json::from_str(r#"["spo2","BP"]"#).unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), r#"["bp","spo2"]"#);
        let err = serde_json::from_str::<Signs>(r#"["pulse"]"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"pulse\" is not a vital sign"), "{err}");
    }
}
