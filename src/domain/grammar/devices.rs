//! What may follow a dose's route: the devices it took, the lot number and the container it
//! was drawn from.
//!
//! ```text
//! dose esketamine 56mg IN                    (2 devices of 28 mg, counted)
//! dose esketamine 56mg IN devices 2 lot ABC123
//! @10:00 dose esketamine 28mg IN lot ABC123  (one device at a time, each at its own time)
//! ```
//!
//! A drug given by single-use device (`[alerts.doses.DRUG.ROUTE] device_mg`; Spravato: each
//! intranasal device delivers 28 mg, 56 mg = 2 devices, 84 mg = 3, Spravato prescribing
//! information section 2, clinical.md section 2) must be a whole number of devices, and
//! `devices N`, when given, must agree with the milligrams. Nothing is guessed: a line that
//! disagrees with itself is refused, naming both.

use super::error::{EX_DOSE, GrammarError};
use super::numbers::parse_whole;
use super::tokens::{Cursor, Token};
use crate::domain::dose_levels::DoseLevels;
use crate::domain::entry::{Dose, trim_number};

pub const EX_DEVICES: &str = "dose esketamine 56mg IN devices 2";
pub const EX_LOT: &str = "dose esketamine 56mg IN lot ABC123";
pub const EX_VIAL: &str = "dose ketamine 35mg IM vial V12";

/// The container id after `vial` (`V12`), as `kapchart stock show` lists it.
pub(super) fn parse_vial(
    cur: &mut Cursor<'_>,
) -> Result<crate::domain::stock::ContainerId, GrammarError> {
    let tok = cur.expect(
        "Give the container after vial, like vial V12 (kapchart stock show lists them)",
        EX_VIAL,
    )?;
    crate::domain::stock::ContainerId::parse(tok.text).ok_or_else(|| {
        GrammarError::at(
            tok,
            "The container is its id from the stock, like V12",
            EX_VIAL,
        )
    })
}

/// Longest lot number accepted. A typo catcher: printed lot numbers are short codes.
const LOT_MAX_CHARS: usize = 20;
/// The most devices one entry can count. Not a clinical limit: the dose's own ceiling
/// (`refuse_above_mg`) catches a slip long before.
const DEVICES_MAX: u64 = u8::MAX as u64;

/// Reads `devices N` and `lot LOT` (either order, each once) and counts the devices.
pub(super) fn parse_dose_details(
    cur: &mut Cursor<'_>,
    levels: &DoseLevels,
    dose: &mut Dose,
    amount_tok: Token<'_>,
) -> Result<(), GrammarError> {
    let mut given_devices: Option<(u64, Token<'_>)> = None;
    while let Some(tok) = cur.peek() {
        match tok.lower().as_str() {
            "devices" | "device" => {
                cur.bump();
                if given_devices.is_some() {
                    return Err(GrammarError::at(
                        tok,
                        "The devices are already on this dose; give them once",
                        EX_DEVICES,
                    ));
                }
                let n_tok = cur.expect(
                    "Give how many devices after devices, like devices 2",
                    EX_DEVICES,
                )?;
                let n = parse_whole(n_tok.text)
                    .filter(|n| (1..=DEVICES_MAX).contains(n))
                    .ok_or_else(|| {
                        GrammarError::at(
                            n_tok,
                            format!("Devices must be a whole number from 1 to {DEVICES_MAX}"),
                            EX_DEVICES,
                        )
                    })?;
                given_devices = Some((n, n_tok));
            }
            "vial" => {
                cur.bump();
                if dose.vial.is_some() {
                    return Err(GrammarError::at(
                        tok,
                        "The container is already on this dose; give it once",
                        EX_VIAL,
                    ));
                }
                dose.vial = Some(parse_vial(cur)?);
            }
            "lot" => {
                cur.bump();
                if dose.lot.is_some() {
                    return Err(GrammarError::at(
                        tok,
                        "The lot number is already on this dose; give it once",
                        EX_LOT,
                    ));
                }
                let lot_tok = cur.expect(
                    "Give the lot number after lot, as printed on the package",
                    EX_LOT,
                )?;
                dose.lot = Some(parse_lot(lot_tok)?);
            }
            _ => break,
        }
    }

    let device_mg = levels
        .for_drug(&dose.drug, dose.route)
        .and_then(|l| l.device_mg);
    let Some(device_mg) = device_mg else {
        if let Some((_, tok)) = given_devices {
            return Err(GrammarError::at(
                tok,
                format!(
                    "{} {} is not given by device; leave devices out (a clinic sets a device \
                     size with device_mg in [alerts.doses.{}.{}])",
                    dose.drug,
                    dose.route.label(),
                    dose.drug,
                    dose.route.label()
                ),
                EX_DOSE,
            ));
        }
        return Ok(());
    };

    let per_device = |n: u64| trim_number(device_mg * n as f64, 2);
    let count = dose.total_mg / device_mg;
    let whole = count.round();
    if (count - whole).abs() > 1e-6 || whole < 1.0 {
        return Err(GrammarError::at(
            amount_tok,
            format!(
                "{} {} comes in devices of {} mg; {} mg is not a whole number of devices \
                 ({} mg is 1, {} mg is 2, {} mg is 3)",
                dose.drug,
                dose.route.label(),
                per_device(1),
                trim_number(dose.total_mg, 2),
                per_device(1),
                per_device(2),
                per_device(3)
            ),
            EX_DEVICES,
        ));
    }
    // `whole` is at least 1 and the dose ceiling keeps it small; saturate beyond u8.
    let counted = u8::try_from(whole as u64).unwrap_or(u8::MAX);
    if let Some((n, tok)) = given_devices
        && n != u64::from(counted)
    {
        return Err(GrammarError::at(
            tok,
            format!(
                "{n} devices of {} {} are {} mg, but the dose is {} mg ({counted} devices); \
                 make the amount and the devices agree",
                dose.drug,
                dose.route.label(),
                per_device(n),
                trim_number(dose.total_mg, 2)
            ),
            EX_DEVICES,
        ));
    }
    dose.devices = Some(counted);
    Ok(())
}

/// A lot number as printed: letters, digits and dashes, up to 20 characters.
fn parse_lot(tok: Token<'_>) -> Result<String, GrammarError> {
    let ok = tok.text.chars().count() <= LOT_MAX_CHARS
        && tok
            .text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !ok {
        return Err(GrammarError::at(
            tok,
            format!(
                "A lot number is letters, digits and dashes, up to {LOT_MAX_CHARS}, as \
                 printed on the package"
            ),
            EX_LOT,
        ));
    }
    Ok(tok.text.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{ParseContext, ParsedLine, format_payload, parse_line};
    use super::*;
    use crate::domain::entry::Payload;
    use chrono::{FixedOffset, TimeZone};

    fn parse(line: &str) -> Result<ParsedLine, GrammarError> {
        let drugs = vec!["esketamine".to_string(), "ketamine".to_string()];
        let doses: DoseLevels = toml::from_str("[esketamine.IN]\ndevice_mg = 28\n").unwrap();
        let ctx = ParseContext {
            measures: &crate::domain::measures::MeasureRules::default(),
            now: FixedOffset::east_opt(0)
                .unwrap()
                .with_ymd_and_hms(2026, 5, 12, 10, 0, 0)
                .unwrap(),
            weight_kg: Some(70.0),
            drugs: &drugs,
            doses: &doses,
        };
        parse_line(line, &ctx)
    }

    fn dose(line: &str) -> Dose {
        match parse(line)
            .unwrap_or_else(|e| panic!("{line}: {e}"))
            .entries[..]
        {
            [Payload::Dose(ref d)] => d.clone(),
            ref other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn an_intranasal_dose_counts_its_devices() {
        assert_eq!(dose("dose esketamine 56mg IN").devices, Some(2));
        assert_eq!(dose("dose esketamine 84mg IN").devices, Some(3));
        assert_eq!(dose("dose esketamine 28mg IN").devices, Some(1));
        assert_eq!(dose("dose esketamine 56mg IN devices 2").devices, Some(2));
        // Not given by device: nothing counted.
        assert_eq!(dose("dose ketamine 35mg IM").devices, None);
    }

    #[test]
    fn devices_that_disagree_with_the_mg_are_refused_naming_both() {
        let e = parse("dose esketamine 56mg IN devices 3").unwrap_err();
        assert_eq!(e.token, "3");
        assert!(
            e.message.contains("3 devices of esketamine IN are 84 mg"),
            "{e}"
        );
        assert!(e.message.contains("the dose is 56 mg (2 devices)"), "{e}");
        let e = parse("dose esketamine 50mg IN").unwrap_err();
        assert_eq!(e.token, "50mg");
        assert!(
            e.message
                .contains("devices of 28 mg; 50 mg is not a whole number"),
            "{e}"
        );
        let e = parse("dose ketamine 35mg IM devices 1").unwrap_err();
        assert!(
            e.message.contains("ketamine IM is not given by device"),
            "{e}"
        );
        for bad in ["devices 0", "devices two", "devices", "devices 2 devices 2"] {
            assert!(
                parse(&format!("dose esketamine 56mg IN {bad}")).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn any_dose_may_carry_a_lot_number() {
        let d = dose("dose esketamine 56mg IN lot ABC123 devices 2");
        assert_eq!((d.devices, d.lot.as_deref()), (Some(2), Some("ABC123")));
        assert_eq!(
            dose("dose ketamine 35mg IM lot 22-K-0173").lot.as_deref(),
            Some("22-K-0173")
        );
        let e = parse("dose ketamine 35mg IM lot").unwrap_err();
        assert!(e.message.contains("Give the lot number after lot"), "{e}");
        let e = parse("dose ketamine 35mg IM lot AB/12").unwrap_err();
        assert_eq!(e.token, "AB/12");
        assert!(e.message.contains("letters, digits and dashes"), "{e}");
        assert!(parse("dose ketamine 35mg IM lot A lot B").is_err());
        assert!(parse(&format!("dose ketamine 35mg IM lot {}", "A".repeat(21))).is_err());
    }

    #[test]
    fn devices_and_lot_survive_the_canonical_line() {
        let d = dose("dose esketamine 84mg IN lot XZ9");
        let line = format_payload(&Payload::Dose(d.clone())).unwrap();
        assert_eq!(line, "dose esketamine 84mg IN devices 3 lot XZ9");
        assert_eq!(dose(&line), d);
    }
}
