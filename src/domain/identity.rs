//! Identity that survives the laptop: every chart has a UUID, and every row of it (patient,
//! session, entry, note, addendum, clinician, container) a UUID named from the chart's and
//! the row's own id, so that two laptops' charts never give one id to two records, and two
//! copies of one chart (a backup restored elsewhere) give the same ids to the same records.
//!
//! A new chart's UUID is random (RFC 9562 version 4). A chart made before kapchart kept one
//! gets a UUID derived from the first link of its audit chain, which every copy of it shares.
//! A row's UUID is name-based: RFC 9562 version 8 over SHA-256 of the chart's UUID and the
//! row's name (RFC 9562 section 5.8 and appendix B.2, the SHA-256 name-based example), e.g.
//! `entry/42/hr` for entry 42's heart-rate Observation.

use sha2::{Digest, Sha256};
use std::fmt;

/// A chart's UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChartUuid([u8; 16]);

impl ChartUuid {
    /// A new chart's UUID from 16 random bytes (version 4).
    pub fn random(mut bytes: [u8; 16]) -> ChartUuid {
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        ChartUuid(bytes)
    }

    /// The UUID of a chart made before kapchart kept one, from `seed` (the first link of its
    /// audit chain): the same seed gives the same UUID.
    pub fn derived(seed: &str) -> ChartUuid {
        ChartUuid(v8(b"kapchart chart", seed.as_bytes()))
    }

    /// Reads `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hex, either case).
    pub fn parse(text: &str) -> Option<ChartUuid> {
        let hex: String = text.chars().filter(|c| *c != '-').collect();
        if text.len() != 36 || hex.len() != 32 {
            return None;
        }
        let mut bytes = [0u8; 16];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(ChartUuid(bytes))
    }

    /// The UUID of the row `name` of this chart ("patient/3", "entry/42/hr").
    pub fn name(&self, name: &str) -> String {
        format_uuid(&v8(&self.0, name.as_bytes()))
    }

    /// The URN of the chart (`urn:uuid:...`): the system of its rows' identifiers unless the
    /// clinic sets one.
    pub fn urn(&self) -> String {
        format!("urn:uuid:{self}")
    }
}

impl fmt::Display for ChartUuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_uuid(&self.0))
    }
}

/// RFC 9562 version 8, name-based with SHA-256: the first 16 bytes of SHA-256(namespace ||
/// name) with the version and variant bits set.
fn v8(namespace: &[u8], name: &[u8]) -> [u8; 16] {
    let digest = Sha256::new()
        .chain_update(namespace)
        .chain_update(name)
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    bytes
}

/// Whether `id` has the shape of a UUID as kapchart names them (8-4-4-4-12 lowercase hex).
pub fn is_uuid(id: &str) -> bool {
    id.len() == 36
        && id.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
        })
}

fn format_uuid(b: &[u8; 16]) -> String {
    let hex = super::signature::hex(b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_uuids_are_stable_per_chart_and_differ_between_charts() {
        let a = ChartUuid::random([7; 16]);
        let b = ChartUuid::random([9; 16]);
        assert_eq!(a.name("patient/1"), a.name("patient/1"));
        assert_ne!(
            a.name("patient/1"),
            b.name("patient/1"),
            "two laptops' patient 1"
        );
        assert_ne!(a.name("patient/1"), a.name("patient/2"));
        assert_ne!(a.name("entry/4/hr"), a.name("entry/4/spo2"));
        // Version and variant bits: 4 for the chart, 8 for its rows.
        let chart = a.to_string();
        assert_eq!(chart.len(), 36);
        assert_eq!(&chart[14..15], "4");
        assert!("89ab".contains(&chart[19..20]), "{chart}");
        let row = a.name("session/3");
        assert_eq!(&row[14..15], "8", "{row}");
        assert!("89ab".contains(&row[19..20]), "{row}");
        assert_eq!(ChartUuid::parse(&chart), Some(a));
        assert_eq!(ChartUuid::parse(&chart.to_uppercase()), Some(a));
        assert_eq!(ChartUuid::parse("not-a-uuid"), None);
        assert_eq!(ChartUuid::parse(&format!("{chart}0")), None);
        assert_eq!(a.urn(), format!("urn:uuid:{chart}"));
    }

    #[test]
    fn a_chart_without_a_uuid_derives_the_same_one_from_the_same_chain() {
        let one = ChartUuid::derived("3f2a...first link");
        assert_eq!(one, ChartUuid::derived("3f2a...first link"));
        assert_ne!(one, ChartUuid::derived("another chart's first link"));
        assert_eq!(&one.to_string()[14..15], "8");
    }
}
