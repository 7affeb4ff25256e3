//! What a clinician's Ed25519 signature on a note or an addendum covers: the signed
//! statement, and the exact bytes signed. This is the one place the message is defined, so a
//! clinic can rebuild it outside kapchart (README, "Signatures") and check a signature with
//! any Ed25519 tool.
//!
//! Version 1 of the message is UTF-8 text, one `name: value` line per field, each line ending
//! in a newline (0x0A), in this order:
//!
//! ```text
//! kapchart note signature v1          (or: kapchart addendum signature v1)
//! note: 12                            the note's id in the chart
//! addendum: 5                         addenda only: the addendum's id
//! text-sha256: 9f86d0…                SHA-256 of the signed text's UTF-8 bytes, 64 lowercase hex digits
//! signer-id: 3                        the signer's clinician id in the chart
//! signer-name: Theo Therapist         the signer's name as the chart records it
//! signer-key: 3d4017c3…               the signer's Ed25519 public key, 64 lowercase hex digits
//! signed-at: 2026-11-26T14:45:00.000Z when, in UTC, to the millisecond
//! reason: session still open          notes only: why it was signed with items open, or empty
//! ```
//!
//! Ids are decimal without leading zeros. No value holds a newline: kapchart refuses control
//! characters in names and reasons, and the other values are digits and hex. The first line
//! separates these signatures from anything else the same key might sign, and names the
//! version: a later message format gets a new first line, and version 1 signatures keep
//! verifying as they are.

use super::ClinicianId;
use chrono::{DateTime, SecondsFormat, Utc};

/// The message format kapchart signs with now.
pub const MESSAGE_VERSION: u32 = 1;

/// What was signed: a note's text, or one addendum to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signed {
    Note { note: i64 },
    Addendum { note: i64, addendum: i64 },
}

/// One signed statement: what, whose text (by its hash), who, with which key, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    pub signed: Signed,
    /// SHA-256 of the text, 64 lowercase hex digits.
    pub text_sha256: &'a str,
    pub signer_id: ClinicianId,
    pub signer_name: &'a str,
    pub signer_key: [u8; 32],
    pub signed_at: DateTime<Utc>,
    /// A note's reason for signing with items open; `None` for none (and for addenda).
    pub reason: Option<&'a str>,
}

impl Statement<'_> {
    /// The bytes an Ed25519 signature of message version 1 covers (see the module).
    pub fn message_v1(&self) -> Vec<u8> {
        let mut m = String::new();
        match self.signed {
            Signed::Note { note } => {
                m.push_str("kapchart note signature v1\n");
                m.push_str(&format!("note: {note}\n"));
            }
            Signed::Addendum { note, addendum } => {
                m.push_str("kapchart addendum signature v1\n");
                m.push_str(&format!("note: {note}\n"));
                m.push_str(&format!("addendum: {addendum}\n"));
            }
        }
        m.push_str(&format!("text-sha256: {}\n", self.text_sha256));
        m.push_str(&format!("signer-id: {}\n", self.signer_id));
        m.push_str(&format!("signer-name: {}\n", self.signer_name));
        m.push_str(&format!("signer-key: {}\n", hex(&self.signer_key)));
        m.push_str(&format!("signed-at: {}\n", signed_at_text(self.signed_at)));
        if let Signed::Note { .. } = self.signed {
            m.push_str(&format!("reason: {}\n", self.reason.unwrap_or("")));
        }
        m.into_bytes()
    }

    /// The message of `version`; `None` for a version this kapchart does not know.
    pub fn message(&self, version: u32) -> Option<Vec<u8>> {
        (version == 1).then(|| self.message_v1())
    }
}

/// `signed-at` as the message writes it: RFC 3339 in UTC with milliseconds and `Z`.
pub fn signed_at_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Standard base64 with padding (RFC 4648 section 4), as exports carry keys and signatures.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A clinician's Ed25519 signature on a note or addendum, with the public key it was made
/// with (as the signature row stores it; `verify` checks it against the key the chart
/// recorded for the signer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ed25519Seal {
    pub message_version: u32,
    pub public_key: [u8; 32],
    pub signature: [u8; 64],
}

impl serde::Serialize for Ed25519Seal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Ed25519Seal", 4)?;
        st.serialize_field("algorithm", "Ed25519")?;
        st.serialize_field("message_version", &self.message_version)?;
        st.serialize_field("public_key_base64", &base64(&self.public_key))?;
        st.serialize_field("signature_base64", &base64(&self.signature))?;
        st.end()
    }
}

impl<'de> serde::Deserialize<'de> for Ed25519Seal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(serde::Deserialize)]
        struct Shown {
            algorithm: String,
            message_version: u32,
            public_key_base64: String,
            signature_base64: String,
        }
        let shown = Shown::deserialize(d)?;
        if shown.algorithm != "Ed25519" {
            return Err(D::Error::custom(format!(
                "'{}' is not a signature algorithm kapchart signs with; expected Ed25519",
                shown.algorithm
            )));
        }
        let bytes = |field: &str, text: &str| {
            from_base64(text).ok_or_else(|| D::Error::custom(format!("{field} is not base64")))
        };
        Ok(Ed25519Seal {
            message_version: shown.message_version,
            public_key: bytes("public_key_base64", &shown.public_key_base64)?
                .try_into()
                .map_err(|_| D::Error::custom("public_key_base64 is not 32 bytes"))?,
            signature: bytes("signature_base64", &shown.signature_base64)?
                .try_into()
                .map_err(|_| D::Error::custom("signature_base64 is not 64 bytes"))?,
        })
    }
}

/// Standard base64 with padding back to bytes; `None` for anything else.
pub fn from_base64(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let bytes = text.as_bytes();
    if bytes.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (i, chunk) in bytes.chunks(4).enumerate() {
        let last = i + 1 == bytes.len() / 4;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * pad as u32;
        let got = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&got[..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn statement(signed: Signed, reason: Option<&'static str>) -> Statement<'static> {
        Statement {
            signed,
            text_sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            signer_id: 3,
            signer_name: "Theo Therapist",
            signer_key: [0xab; 32],
            signed_at: Utc.with_ymd_and_hms(2026, 11, 26, 14, 45, 0).unwrap(),
            reason,
        }
    }

    #[test]
    fn a_note_message_is_the_documented_lines_in_order() {
        let m = statement(Signed::Note { note: 12 }, Some("session still open")).message_v1();
        let want = format!(
            "kapchart note signature v1\nnote: 12\n\
             text-sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n\
             signer-id: 3\nsigner-name: Theo Therapist\nsigner-key: {}\n\
             signed-at: 2026-11-26T14:45:00.000Z\nreason: session still open\n",
            "ab".repeat(32)
        );
        assert_eq!(String::from_utf8(m).unwrap(), want);
        let none = statement(Signed::Note { note: 12 }, None).message_v1();
        assert!(String::from_utf8(none).unwrap().ends_with("\nreason: \n"));
    }

    #[test]
    fn an_addendum_message_names_its_note_and_itself_and_has_no_reason() {
        let m = statement(
            Signed::Addendum {
                note: 12,
                addendum: 5,
            },
            None,
        )
        .message_v1();
        let text = String::from_utf8(m).unwrap();
        assert!(
            text.starts_with("kapchart addendum signature v1\nnote: 12\naddendum: 5\n"),
            "{text}"
        );
        assert!(
            text.ends_with("signed-at: 2026-11-26T14:45:00.000Z\n"),
            "{text}"
        );
    }

    #[test]
    fn every_field_changes_the_message() {
        let base = statement(Signed::Note { note: 12 }, None);
        let m = base.message_v1();
        let changed = [
            Statement {
                signed: Signed::Note { note: 13 },
                ..base.clone()
            },
            Statement {
                signed: Signed::Addendum {
                    note: 12,
                    addendum: 12,
                },
                ..base.clone()
            },
            Statement {
                text_sha256: "00",
                ..base.clone()
            },
            Statement {
                signer_id: 2,
                ..base.clone()
            },
            Statement {
                signer_name: "Nia Nurse",
                ..base.clone()
            },
            Statement {
                signer_key: [0xac; 32],
                ..base.clone()
            },
            Statement {
                signed_at: base.signed_at + chrono::Duration::milliseconds(1),
                ..base.clone()
            },
            Statement {
                reason: Some("x"),
                ..base.clone()
            },
        ];
        for s in changed {
            assert_ne!(s.message_v1(), m, "{s:?}");
        }
        assert_eq!(base.message(1), Some(m));
        assert_eq!(base.message(2), None);
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain:?}");
            assert_eq!(
                from_base64(encoded).unwrap(),
                plain.as_bytes(),
                "{encoded:?}"
            );
        }
        for bad in ["Zg=", "Z===", "Zg==Zm8=", "Zm9v!A==", "é"] {
            assert_eq!(from_base64(bad), None, "{bad:?}");
        }
        assert_eq!(hex(&[0, 15, 255]), "000fff");
    }

    #[test]
    fn a_seal_round_trips_through_json_and_a_wrong_one_is_refused() {
        let seal = Ed25519Seal {
            message_version: 1,
            public_key: [7; 32],
            signature: [9; 64],
        };
        let json = serde_json::to_value(&seal).unwrap();
        assert_eq!(json["algorithm"], "Ed25519");
        assert_eq!(
            serde_json::from_value::<Ed25519Seal>(json.clone()).unwrap(),
            seal
        );
        let mut short = json.clone();
        short["public_key_base64"] = base64(&[7; 31]).into();
        let err = serde_json::from_value::<Ed25519Seal>(short).unwrap_err();
        assert!(err.to_string().contains("not 32 bytes"), "{err}");
        let mut other = json;
        other["algorithm"] = "RSA".into();
        assert!(serde_json::from_value::<Ed25519Seal>(other).is_err());
    }
}
