//! Dose plausibility levels, per drug and route. A dose above the alert level is charted
//! with a flag for the clinician to weigh; a dose above the ceiling is refused as a likely
//! typo (`dose ketamine 10000mg IM`), the way `hr 0` is. The levels are defaults in
//! `assets/config.toml` (`[alerts.doses.DRUG.ROUTE]`), each with its source; a clinic sets
//! its own. kapchart never decides a dose.
//!
//! mg levels compare the dose's total in mg; mg/kg levels compare doses given in mg/kg (the
//! entry carries the weight they were worked out from).

use super::entry::{Dose, DoseUnit, Route, trim_number};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The levels for one drug by one route; a level left out is not checked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteLevels {
    /// Flag a dose whose total is above this (mg).
    pub alert_above_mg: Option<f64>,
    /// Flag a dose given in mg/kg above this (mg/kg).
    pub alert_above_mg_per_kg: Option<f64>,
    /// Refuse, as a likely typo, a dose whose total is above this (mg).
    pub refuse_above_mg: Option<f64>,
    /// Refuse, as a likely typo, a dose given in mg/kg above this (mg/kg).
    pub refuse_above_mg_per_kg: Option<f64>,
    /// The drug comes in single-use devices of this many mg (Spravato: 28 mg per intranasal
    /// device): a dose must be a whole number of devices, and the entry counts them.
    pub device_mg: Option<f64>,
    /// The rest between devices, in minutes (Spravato: 5). A device charted sooner after
    /// the previous one is marked, for the clinician to see; nothing is refused.
    pub device_rest_min: Option<u32>,
}

/// Drug name (as in `[drugs] known`) → route (IV, IM, IN, SL, PO) → levels.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DoseLevels(pub BTreeMap<String, BTreeMap<String, RouteLevels>>);

/// How a dose compares with one level: the amount, the level and its unit, as shown.
struct Above {
    amount: f64,
    level: f64,
    unit: &'static str,
}

impl DoseLevels {
    /// The levels for this drug and route, if the clinic set any.
    pub fn for_drug(&self, drug: &str, route: Route) -> Option<&RouteLevels> {
        self.0
            .iter()
            .find(|(d, _)| d.trim().eq_ignore_ascii_case(drug.trim()))?
            .1
            .iter()
            .find(|(r, _)| r.trim().eq_ignore_ascii_case(route.label()))
            .map(|(_, l)| l)
    }

    fn above(
        &self,
        d: &Dose,
        mg: fn(&RouteLevels) -> Option<f64>,
        per_kg: fn(&RouteLevels) -> Option<f64>,
    ) -> Option<Above> {
        let levels = self.for_drug(&d.drug, d.route)?;
        if d.unit == DoseUnit::MgPerKg
            && let Some(level) = per_kg(levels)
            && d.amount > level
        {
            return Some(Above {
                amount: d.amount,
                level,
                unit: "mg/kg",
            });
        }
        mg(levels)
            .filter(|level| d.total_mg > *level)
            .map(|level| Above {
                amount: d.total_mg,
                level,
                unit: "mg",
            })
    }

    /// The alert text for a dose above its alert level.
    pub fn alert(&self, d: &Dose) -> Option<String> {
        let a = self.above(d, |l| l.alert_above_mg, |l| l.alert_above_mg_per_kg)?;
        Some(format!(
            "{} {} {} {} above the alert level of {} {} {}",
            d.drug,
            trim_number(a.amount, 3),
            a.unit,
            d.route.label(),
            trim_number(a.level, 3),
            a.unit,
            d.route.label()
        ))
    }

    /// Why a dose is refused as a likely typo: above its ceiling, with the level named.
    pub fn refusal(&self, d: &Dose) -> Option<String> {
        let a = self.above(d, |l| l.refuse_above_mg, |l| l.refuse_above_mg_per_kg)?;
        Some(format!(
            "{} {} {} {} is above the {} {} {} ceiling set for a likely typo; check the amount \
             (a clinic that means it raises [alerts.doses.{}.{}] in its config)",
            d.drug,
            trim_number(a.amount, 3),
            a.unit,
            d.route.label(),
            trim_number(a.level, 3),
            a.unit,
            d.route.label(),
            d.drug,
            d.route.label()
        ))
    }

    /// Checks the levels against the drugs the chart knows: each drug known, each route one
    /// of IV, IM, IN, SL, PO, each level above zero, each ceiling at or above its alert level.
    pub fn check(&self, known_drugs: &[String]) -> Result<(), String> {
        for (drug, routes) in &self.0 {
            if !known_drugs
                .iter()
                .any(|k| k.trim().eq_ignore_ascii_case(drug.trim()))
            {
                return Err(format!(
                    "[alerts.doses.{drug}] is not a drug in [drugs] known ({})",
                    known_drugs.join(", ")
                ));
            }
            for (route, l) in routes {
                if !Route::ALL
                    .iter()
                    .any(|r| r.label().eq_ignore_ascii_case(route.trim()))
                {
                    return Err(format!(
                        "[alerts.doses.{drug}] route {route} is not a route; expected IV, IM, IN, SL or PO"
                    ));
                }
                let at = format!("[alerts.doses.{drug}.{route}]");
                for (name, v) in [
                    ("alert_above_mg", l.alert_above_mg),
                    ("alert_above_mg_per_kg", l.alert_above_mg_per_kg),
                    ("refuse_above_mg", l.refuse_above_mg),
                    ("refuse_above_mg_per_kg", l.refuse_above_mg_per_kg),
                    ("device_mg", l.device_mg),
                    ("device_rest_min", l.device_rest_min.map(f64::from)),
                ] {
                    if let Some(v) = v
                        && !(v.is_finite() && v > 0.0)
                    {
                        return Err(format!("{at} {name} = {v} must be above zero"));
                    }
                }
                for (alert, ceiling, unit) in [
                    (l.alert_above_mg, l.refuse_above_mg, "mg"),
                    (
                        l.alert_above_mg_per_kg,
                        l.refuse_above_mg_per_kg,
                        "mg_per_kg",
                    ),
                ] {
                    if let (Some(a), Some(c)) = (alert, ceiling)
                        && c < a
                    {
                        return Err(format!(
                            "{at} refuse_above_{unit} = {c} is below alert_above_{unit} = {a}; \
                             the ceiling must be at or above the alert level"
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels() -> DoseLevels {
        let toml = r#"
            [ketamine.IM]
            alert_above_mg = 150
            refuse_above_mg = 1500
            [ketamine.IV]
            alert_above_mg_per_kg = 1.0
            refuse_above_mg_per_kg = 5.0
        "#;
        toml::from_str(toml).unwrap()
    }

    fn dose(amount: f64, unit: DoseUnit, route: Route) -> Dose {
        let weight = (unit == DoseUnit::MgPerKg).then_some(70.0);
        Dose {
            drug: "ketamine".into(),
            amount,
            unit,
            route,
            over_min: None,
            total_mg: amount * weight.unwrap_or(1.0),
            weight_kg: weight,
            devices: None,
            lot: None,
            vial: None,
            drawn: Vec::new(),
        }
    }

    #[test]
    fn alert_and_ceiling_at_each_boundary() {
        let l = levels();
        assert_eq!(l.alert(&dose(150.0, DoseUnit::Mg, Route::IM)), None);
        assert_eq!(
            l.alert(&dose(151.0, DoseUnit::Mg, Route::IM)).unwrap(),
            "ketamine 151 mg IM above the alert level of 150 mg IM"
        );
        assert_eq!(l.refusal(&dose(1500.0, DoseUnit::Mg, Route::IM)), None);
        assert!(
            l.refusal(&dose(10000.0, DoseUnit::Mg, Route::IM))
                .unwrap()
                .contains("above the 1500 mg IM ceiling")
        );
        assert_eq!(l.alert(&dose(1.0, DoseUnit::MgPerKg, Route::IV)), None);
        assert!(l.alert(&dose(1.5, DoseUnit::MgPerKg, Route::IV)).is_some());
        assert!(
            l.refusal(&dose(10.0, DoseUnit::MgPerKg, Route::IV))
                .unwrap()
                .contains("ketamine 10 mg/kg IV is above the 5 mg/kg IV ceiling")
        );
        // No levels for the route: nothing checked.
        assert_eq!(l.alert(&dose(900.0, DoseUnit::Mg, Route::SL)), None);
    }

    #[test]
    fn levels_name_known_drugs_and_routes() {
        let known = vec!["ketamine".to_string()];
        assert!(levels().check(&known).is_ok());
        let err = levels().check(&["esketamine".to_string()]).unwrap_err();
        assert!(err.contains("[alerts.doses.ketamine]"), "{err}");
        let bad: DoseLevels = toml::from_str("[ketamine.IMM]\nalert_above_mg = 1\n").unwrap();
        assert!(bad.check(&known).unwrap_err().contains("IMM"));
        let low: DoseLevels =
            toml::from_str("[ketamine.IM]\nalert_above_mg = 100\nrefuse_above_mg = 50\n").unwrap();
        assert!(
            low.check(&known)
                .unwrap_err()
                .contains("below alert_above_mg")
        );
        assert!(toml::from_str::<DoseLevels>("[ketamine.IM]\nalert_over_mg = 1\n").is_err());
    }
}
