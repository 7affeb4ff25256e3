//! The line as a whole: the optional time, then keyword segments one after another (or a
//! note as the whole line), each becoming its entry; and the canonical line that parses back
//! to an entry's payload.

use chrono::TimeZone;

use super::error::{EX_LINE, EX_MOAAS, EX_NEXT, EX_OBS, EX_TIME, EX_WITNESS, GrammarError};
use super::numbers::whole_in_range;
use super::observation::parse_observation;
use super::time::resolve_time;
use super::tokens::{Cursor, check_glued_keyword, is_keyword, reject_control_chars};
use super::{ParseContext, ParsedLine, course, doses, monitoring, near_miss, vitals, waste};
use crate::domain::entry::{Payload, Sedation, VitalSigns, trim_number};

/// MOAA/S runs from 0 (no response) to 5 (responds readily to name).
const MOAAS_MAX: u16 = 5;

/// Parses one quick-entry line. See the module docs for the grammar.
pub fn parse_line<Tz: TimeZone>(
    line: &str,
    ctx: &ParseContext<'_, Tz>,
) -> Result<ParsedLine, GrammarError> {
    if let Err(e) = crate::domain::text::check(crate::domain::text::QUICK_ENTRY_LINE, line)
        && matches!(e, crate::domain::text::TextError::TooLong { .. })
    {
        return Err(GrammarError {
            token: String::new(),
            span: 0..0,
            message: e.to_string(),
            example: EX_LINE,
        });
    }
    reject_control_chars(line)?;
    let mut cur = Cursor::new(line);

    let Some(first) = cur.peek() else {
        return Err(GrammarError {
            token: String::new(),
            span: 0..0,
            message: "Nothing to record; type a measurement, a dose or a note".into(),
            example: EX_LINE,
        });
    };

    let (event_time, time_given) = if first.text.starts_with('@') {
        cur.bump();
        (resolve_time(first, &ctx.now)?, true)
    } else {
        (ctx.now.fixed_offset(), false)
    };

    let Some(head) = cur.peek() else {
        return Err(GrammarError::at(
            first,
            "Nothing to record after the time; add a measurement, a dose or a note",
            EX_TIME,
        ));
    };
    if head.text.starts_with('@') {
        return Err(GrammarError::at(
            head,
            "Only one time per line, at the start; for a note that starts with @, begin with obs",
            EX_TIME,
        ));
    }

    let (entries, witness) = if is_keyword(head) {
        parse_segments(&mut cur, ctx)?
    } else {
        check_glued_keyword(head)?;
        near_miss::check(head, &cur, ctx.drugs)?;
        let text = line[head.start..].trim_end();
        (
            vec![Payload::Observation(parse_observation(text, head.start)?)],
            None,
        )
    };

    Ok(ParsedLine {
        event_time,
        time_given,
        entries,
        witness,
    })
}

/// The canonical quick-entry line that parses back to the same payload (vitals, sedation,
/// dose, observation); None for Strike/SessionEnd, and for empty vitals or an empty note,
/// which no line can produce.
pub fn format_payload(p: &Payload) -> Option<String> {
    match p {
        Payload::Vitals(v) => {
            if v.is_empty() {
                return None;
            }
            let mut parts = Vec::new();
            if let Some(bp) = v.bp {
                parts.push(format!("bp {}/{}", bp.systolic, bp.diastolic));
            }
            if let Some(hr) = v.hr {
                parts.push(format!("hr {hr}"));
            }
            if let Some(spo2) = v.spo2 {
                parts.push(format!("spo2 {spo2}"));
            }
            if let Some(rr) = v.rr {
                parts.push(format!("rr {rr}"));
            }
            if let Some(t) = v.temp_c {
                parts.push(format!("temp {}", trim_number(t, 1)));
            }
            Some(parts.join(" "))
        }
        Payload::Sedation(s) => Some(format!("moaas {}", s.moaas)),
        Payload::Dissociation(d) => Some(format!(
            "cadss {}",
            d.cadss6
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        )),
        Payload::Respiration(r) => Some(monitoring::format_resp(r)),
        Payload::Dose(d) => {
            let base = format!(
                "dose {} {}{} {}",
                d.drug,
                trim_number(d.amount, doses::AMOUNT_DECIMALS),
                d.unit.label(),
                d.route.label()
            );
            let mut line = match d.over_min {
                Some(m) => format!("{base} over {m}m"),
                None => base,
            };
            if let Some(n) = d.devices {
                line.push_str(&format!(" devices {n}"));
            }
            if let Some(lot) = &d.lot {
                line.push_str(&format!(" lot {lot}"));
            }
            if let Some(v) = d.vial {
                line.push_str(&format!(" vial {v}"));
            }
            Some(line)
        }
        Payload::Waste(w) => Some(waste::format_waste(w)),
        Payload::Observation(o) => {
            let text = o.text.trim();
            (!text.is_empty()).then(|| format!("obs {text}"))
        }
        Payload::Measure(m) => Some(format!(
            "{} {}",
            m.instrument.keyword(),
            m.items
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        )),
        Payload::RiskAssessment(r) => Some(format!("risk-assessment {}", r.outcome)),
        Payload::Screening(s) => Some(course::format_screening(s)),
        Payload::Eligibility(e) => Some(course::format_eligibility(e)),
        Payload::Intention(t) => Some(format!("intention {}", t.text)),
        Payload::Setting(t) => Some(format!("setting {}", t.text)),
        Payload::Consent(t) => Some(format!("consent {}", t.text)),
        // Corrections, acknowledgements and discharge items come from their own forms.
        Payload::Strike
        | Payload::Unreadable(_)
        | Payload::Acknowledgement(_)
        | Payload::Aldrete(_)
        | Payload::RideHome(_)
        | Payload::PatientReady
        | Payload::SessionEnd(_)
        | Payload::RemsSubmitted(_)
        | Payload::Witness(_) => None,
    }
}

/// The entries of a keyword line, and the index of the dose it asks to be witnessed.
fn parse_segments<Tz: TimeZone>(
    cur: &mut Cursor<'_>,
    ctx: &ParseContext<'_, Tz>,
) -> Result<(Vec<Payload>, Option<usize>), GrammarError> {
    let mut entries = Vec::new();
    let mut witness: Option<usize> = None;
    let mut just_dosed = false;
    let mut vitals = VitalSigns::default();
    let mut vitals_at: Option<usize> = None;
    let mut sedation_seen = false;

    while let Some(tok) = cur.bump() {
        let kw = tok.lower();
        let after_dose = std::mem::take(&mut just_dosed);
        match kw.as_str() {
            "bp" | "hr" | "pulse" | "spo2" | "rr" | "temp" => {
                if vitals_at.is_none() {
                    vitals_at = Some(entries.len());
                }
                vitals::parse_vital(&kw, tok, cur, &mut vitals)?;
            }
            "moaas" => {
                if sedation_seen {
                    return Err(GrammarError::at(
                        tok,
                        "MOAA/S is already on this line; give it once",
                        EX_MOAAS,
                    ));
                }
                sedation_seen = true;
                let value = cur.expect("MOAA/S needs a score from 0 to 5 after moaas", EX_MOAAS)?;
                let moaas = whole_in_range(
                    value,
                    value.text,
                    "MOAA/S (5 responds readily to name ... 0 no response)",
                    0,
                    MOAAS_MAX,
                    EX_MOAAS,
                )?;
                let moaas = u8::try_from(moaas).map_err(|_| {
                    GrammarError::at(value, "MOAA/S must be between 0 and 5", EX_MOAAS)
                })?;
                entries.push(Payload::Sedation(Sedation { moaas }));
            }
            "cadss" => entries.push(monitoring::parse_cadss(tok, cur, ctx.measures)?),
            "resp" => entries.push(monitoring::parse_resp(tok, cur)?),
            // The clinician judges the patient ready to leave, at the line's time (`@11:25
            // ready-to-leave`): the Spravato REMS form asks when the patient would have been
            // ready without the 2-hour minimum (clinical.md section 2). The discharge panel
            // charts the same entry.
            "ready-to-leave" => entries.push(Payload::PatientReady),
            "dose" => {
                entries.push(Payload::Dose(doses::parse_dose(cur, ctx)?));
                just_dosed = true;
            }
            "waste" => {
                entries.push(Payload::Waste(waste::parse_waste(cur, ctx)?));
                just_dosed = true;
            }
            // Controlled-substance doses are witnessed by a second clinician (21 CFR
            // 1304.22; clinical.md section 3): `witness` asks for it right after the dose.
            "witness" => {
                if !after_dose {
                    return Err(GrammarError::at(
                        tok,
                        "witness goes right after a dose or a waste, to ask a second clinician to witness it",
                        EX_WITNESS,
                    ));
                }
                if witness.is_some() {
                    return Err(GrammarError::at(
                        tok,
                        "One witnessed dose per line; chart the other dose on a line of its own",
                        EX_WITNESS,
                    ));
                }
                witness = Some(entries.len() - 1);
            }
            "screen" => entries.push(course::parse_screening(tok, cur)?),
            "eligibility" => entries.push(course::parse_eligibility(cur)?),
            "phq9" | "gad7" | "pcl5" => {
                entries.push(course::parse_measure(tok, cur, ctx.measures)?)
            }
            "intention" | "setting" | "consent" | "risk-assessment" | "cssrs" => {
                entries.push(course::parse_text(tok, cur)?)
            }
            "obs" => {
                let (text, offset) = cur.take_rest_after(tok);
                if text.is_empty() {
                    return Err(GrammarError::at(
                        tok,
                        "A note needs some text after obs",
                        EX_OBS,
                    ));
                }
                entries.push(Payload::Observation(parse_observation(text, offset)?));
            }
            _ if tok.text.starts_with('@') => {
                // A time typed after the readings (`bp 172/108 @23:55`): say where it goes.
                return Err(GrammarError::at(
                    tok,
                    "The time goes at the start of the line, before what happened then",
                    EX_TIME,
                ));
            }
            _ => {
                check_glued_keyword(tok)?;
                return Err(GrammarError::at(
                    tok,
                    "Not a measurement, score or dose; to add a note after them, start it with obs",
                    EX_NEXT,
                ));
            }
        }
    }

    if let Some(at) = vitals_at {
        entries.insert(at, Payload::Vitals(vitals));
        witness = witness.map(|w| if at <= w { w + 1 } else { w });
    }
    Ok((entries, witness))
}
