//! Quick-entry segments for what an esketamine session monitors besides vitals and MOAA/S:
//! dissociation on the CADSS-6 and respiratory status.
//!
//! ```text
//! cadss 1 0 2 0 1 0                     (CADSS-6: six item scores, in the scale's order)
//! resp ok                               (breathing unremarkable; other segments may follow)
//! spo2 91 rr 7 resp depressed shallow breathing, chin lift   (the text takes the rest)
//! ```
//!
//! CADSS-6 uses items 1, 2, 6, 7, 15 and 22 of the 23-item CADSS (Rodrigues et al., J Affect
//! Disord 2021;282:160); each item is scored 0 to `[measures] cadss6_item_max` (4 in the
//! reference, marked unconfirmed: clinical.md section 3). The Spravato REMS monitors until
//! sedation, dissociation and respiratory depression have resolved (REMS modification of
//! 31 Dec 2024; clinical.md section 2).

use super::error::GrammarError;
use super::numbers::parse_whole;
use super::tokens::{Cursor, Token, is_keyword};
use crate::domain::entry::{Dissociation, Payload, Respiration};
use crate::domain::measures::MeasureRules;

pub const EX_CADSS: &str = "cadss 1 0 2 0 1 0";
pub const EX_RESP: &str = "resp ok";
pub const EX_RESP_DEPRESSED: &str = "resp depressed shallow breathing, chin lift";

/// `cadss` and six item scores.
pub(super) fn parse_cadss(
    key: Token<'_>,
    cur: &mut Cursor<'_>,
    rules: &MeasureRules,
) -> Result<Payload, GrammarError> {
    let max = rules.cadss6_item_max;
    let mut items = [0u8; 6];
    for (i, slot) in items.iter_mut().enumerate() {
        let next = cur.peek().filter(|t| !is_keyword(*t));
        let Some(tok) = next else {
            let at = if i == 0 { key } else { cur.previous() };
            return Err(GrammarError::at(
                at,
                format!(
                    "CADSS-6 needs six item scores, each 0 to {max}; {} given",
                    match i {
                        0 => "none".to_string(),
                        1 => "1 was".to_string(),
                        n => format!("{n} were"),
                    }
                ),
                EX_CADSS,
            ));
        };
        cur.bump();
        let score = parse_whole(tok.text)
            .filter(|n| *n <= u64::from(max))
            .and_then(|n| u8::try_from(n).ok())
            .ok_or_else(|| {
                GrammarError::at(
                    tok,
                    format!(
                        "CADSS-6 item {} must be a whole number from 0 to {max}",
                        i + 1
                    ),
                    EX_CADSS,
                )
            })?;
        *slot = score;
    }
    if let Some(extra) = cur.peek()
        && parse_whole(extra.text).is_some()
    {
        return Err(GrammarError::at(
            extra,
            "CADSS-6 has six items; this is a seventh score",
            EX_CADSS,
        ));
    }
    Ok(Payload::Dissociation(Dissociation { cadss6: items }))
}

/// `resp ok`, or `resp depressed [TEXT]` (the text takes the rest of the line).
pub(super) fn parse_resp(key: Token<'_>, cur: &mut Cursor<'_>) -> Result<Payload, GrammarError> {
    let status = cur.expect(
        "Give the respiratory status after resp: ok, or depressed and what you see",
        EX_RESP,
    )?;
    match status.lower().as_str() {
        "ok" => Ok(Payload::Respiration(Respiration {
            depressed: false,
            note: None,
        })),
        "depressed" => {
            let (text, _) = cur.take_rest_after(status);
            Ok(Payload::Respiration(Respiration {
                depressed: true,
                note: (!text.is_empty()).then(|| text.to_string()),
            }))
        }
        _ => Err(GrammarError::at(
            status,
            format!(
                "The respiratory status after {} is ok or depressed; to write a note, start \
                 it with obs",
                key.text
            ),
            EX_RESP_DEPRESSED,
        )),
    }
}

/// The canonical line of a respiratory status.
pub(super) fn format_resp(r: &Respiration) -> String {
    match (r.depressed, &r.note) {
        (false, _) => "resp ok".to_string(),
        (true, None) => "resp depressed".to_string(),
        (true, Some(n)) => format!("resp depressed {}", n.trim()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ParseContext, ParsedLine, format_payload, parse_line};
    use super::*;
    use crate::domain::dose_levels::DoseLevels;
    use chrono::{FixedOffset, TimeZone};

    fn parse_with(line: &str, rules: &MeasureRules) -> Result<ParsedLine, GrammarError> {
        let ctx = ParseContext {
            measures: rules,
            now: FixedOffset::east_opt(0)
                .unwrap()
                .with_ymd_and_hms(2026, 5, 12, 10, 0, 0)
                .unwrap(),
            weight_kg: None,
            drugs: &[],
            doses: &DoseLevels::default(),
        };
        parse_line(line, &ctx)
    }

    fn parse(line: &str) -> Result<ParsedLine, GrammarError> {
        parse_with(line, &MeasureRules::default())
    }

    #[test]
    fn cadss6_takes_six_item_scores_in_order() {
        let p = parse("cadss 1 0 2 0 1 0").unwrap();
        assert_eq!(
            p.entries,
            [Payload::Dissociation(Dissociation {
                cadss6: [1, 0, 2, 0, 1, 0]
            })]
        );
        assert_eq!(p.entries[0].to_string(), "CADSS-6 4 (items 1 0 2 0 1 0)");
        assert_eq!(format_payload(&p.entries[0]).unwrap(), "cadss 1 0 2 0 1 0");
        // Followed by another segment.
        let p = parse("cadss 0 0 0 0 0 0 moaas 4").unwrap();
        assert_eq!(p.entries.len(), 2);
    }

    #[test]
    fn cadss6_refuses_too_few_too_many_and_out_of_range_naming_the_item() {
        let e = parse("cadss 1 0 2").unwrap_err();
        assert!(
            e.message
                .contains("six item scores, each 0 to 4; 3 were given"),
            "{e}"
        );
        let e = parse("cadss").unwrap_err();
        assert!(e.message.contains("none given"), "{e}");
        let e = parse("cadss 1 0 5 0 1 0").unwrap_err();
        assert_eq!(e.token, "5");
        assert!(
            e.message
                .contains("item 3 must be a whole number from 0 to 4"),
            "{e}"
        );
        let e = parse("cadss 1 0 2 0 1 0 3").unwrap_err();
        assert!(e.message.contains("seventh score"), "{e}");
        assert!(parse("cadss 1 0 2 0 1 x").is_err());
        assert!(
            parse("cads 1 0 2 0 1 0")
                .unwrap_err()
                .message
                .contains("cadss")
        );
    }

    #[test]
    fn the_cadss6_item_maximum_is_the_clinics() {
        let rules = MeasureRules {
            cadss6_item_max: 3,
            ..MeasureRules::default()
        };
        let e = parse_with("cadss 4 0 0 0 0 0", &rules).unwrap_err();
        assert!(e.message.contains("from 0 to 3"), "{e}");
    }

    #[test]
    fn respiratory_status_ok_or_depressed_with_what_was_seen() {
        let p = parse("spo2 91 rr 7 resp depressed shallow breathing, chin lift").unwrap();
        assert_eq!(
            p.entries[1],
            Payload::Respiration(Respiration {
                depressed: true,
                note: Some("shallow breathing, chin lift".into())
            })
        );
        assert_eq!(
            format_payload(&p.entries[1]).unwrap(),
            "resp depressed shallow breathing, chin lift"
        );
        let p = parse("resp ok spo2 97").unwrap();
        assert_eq!(
            p.entries[0],
            Payload::Respiration(Respiration {
                depressed: false,
                note: None
            })
        );
        assert_eq!(p.entries[0].to_string(), "Respiration: ok");
        let e = parse("resp fine").unwrap_err();
        assert!(e.message.contains("ok or depressed"), "{e}");
        assert!(parse("resp").unwrap_err().message.contains("after resp"));
    }
}
