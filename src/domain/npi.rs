//! A clinician's identifiers outside the chart, by which a clinic's FHIR server knows them
//! whichever laptop charted: the National Provider Identifier (NPI, US) and the clinic's own
//! staff identifier. kapchart records them as the admin types them, checks an NPI's check
//! digit, and exports both as Practitioner identifiers.

use std::fmt;

/// The FHIR identifier system of the NPI (https://hl7.org/fhir/R4/identifier-registry.html:
/// "US National Provider Identifier", `http://hl7.org/fhir/sid/us-npi`).
pub const NPI_SYSTEM: &str = "http://hl7.org/fhir/sid/us-npi";

/// Which identifier a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdentifierKind {
    /// The US National Provider Identifier: ten digits, the last a check digit.
    Npi,
    /// The clinic's own identifier for the clinician (a staff or employee number), issued
    /// under the clinic's `[clinic] staff_id_system`.
    Staff,
}

impl IdentifierKind {
    pub const ALL: [IdentifierKind; 2] = [IdentifierKind::Npi, IdentifierKind::Staff];

    /// As the chart stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentifierKind::Npi => "npi",
            IdentifierKind::Staff => "staff",
        }
    }

    pub fn parse(s: &str) -> Option<IdentifierKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for IdentifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdentifierKind::Npi => "NPI",
            IdentifierKind::Staff => "staff id",
        })
    }
}

/// Checks an NPI as typed (spaces and dashes between digits allowed) and gives its ten
/// digits. The check digit is the Luhn formula over the nine digits with the constant 24
/// added for the card-issuer prefix 80840 (CMS, "Requirements for National Provider
/// Identifier (NPI) and NPI Enumerator Check Digit", 2004; its example 123456789 gives 3).
pub fn parse_npi(text: &str) -> Result<String, String> {
    let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "'{text}' is not an NPI: expected ten digits, e.g. 1234567893"
        ));
    }
    let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
    // Double every other digit from the rightmost of the nine, summing the digits of each
    // product, then the constant 24.
    let mut sum = 24;
    for (i, &x) in d[..9].iter().rev().enumerate() {
        sum += if i % 2 == 0 {
            let p = x * 2;
            p / 10 + p % 10
        } else {
            x
        };
    }
    let check = (10 - sum % 10) % 10;
    if check != d[9] {
        return Err(format!(
            "'{text}' is not a valid NPI: its check digit should be {check} (a digit mistyped?)"
        ));
    }
    Ok(digits)
}

/// Checks a clinic staff identifier: 1 to 64 characters, no spaces at either end, nothing
/// but letters, digits and `-._/:`.
pub fn parse_staff_id(text: &str) -> Result<String, String> {
    let t = text.trim();
    let ok = !t.is_empty()
        && t.chars().count() <= 64
        && t.chars()
            .all(|c| c.is_alphanumeric() || "-._/:".contains(c));
    if ok {
        Ok(t.to_string())
    } else {
        Err(format!(
            "'{text}' is not a staff id: expected 1 to 64 letters, digits or -._/: (e.g. S-0042)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cms_example_and_real_shaped_npis_check() {
        assert_eq!(parse_npi("1234567893").unwrap(), "1234567893");
        assert_eq!(parse_npi("123-456-7893").unwrap(), "1234567893");
        // Every other check digit fails, naming the right one.
        for wrong in 0..10 {
            if wrong == 3 {
                continue;
            }
            let e = parse_npi(&format!("123456789{wrong}")).unwrap_err();
            assert!(e.contains("should be 3"), "{e}");
        }
        // Another, its check digit worked out by hand: of 124531959 from the right, the
        // doubled digits 9 9 3 4 1 give 9 9 6 8 2, the others 5 1 5 2; with 24 the sum is
        // 71, and 10 - 1 = 9.
        assert!(parse_npi("1245319599").is_ok());
        assert!(parse_npi("1245319598").is_err());
        for bad in ["", "123456789", "12345678933", "12345678a3"] {
            assert!(parse_npi(bad).unwrap_err().contains("ten digits"), "{bad}");
        }
    }

    #[test]
    fn staff_ids_are_short_and_plain() {
        assert_eq!(parse_staff_id(" S-0042 ").unwrap(), "S-0042");
        assert!(parse_staff_id("").is_err());
        assert!(parse_staff_id("a b").is_err());
        assert!(parse_staff_id("x\u{202e}y").is_err());
        assert!(parse_staff_id(&"9".repeat(65)).is_err());
    }
}
