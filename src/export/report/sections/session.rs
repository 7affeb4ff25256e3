//! The sections of one session: doses, vitals, protocol checks, questionnaires,
//! discharge and the integration note.

use super::{Cell, ColKind, Fact, Span, Table, cell, fact, sign, strong, table, text};
use crate::domain::course::Note;
use crate::domain::discharge::{ALDRETE_ITEMS, aldrete_items};
use crate::domain::entry::trim_number;
use crate::domain::measures::needs_risk_assessment;
use crate::domain::signature::{Ed25519Seal, Statement};
use crate::domain::{DoseUnit, FlagCode, SessionKind};
use crate::export::report::{SessionView, stamp};
use crate::export::signatures;
use ColKind::{Id, Number, Small, Text as Txt, Time};

// ---------------------------------------------------------------------------------------
// Doses, vitals, checks, questionnaires

/// The doses that stand; None when the section is not shown (no dose in a session other
/// than dosing). No rows: "No dose charted."
pub(crate) fn doses(v: &SessionView<'_>) -> Option<Table> {
    let doses = v.doses();
    if v.kind() != SessionKind::Dosing && doses.is_empty() {
        return None;
    }
    let rows = doses
        .iter()
        .map(|(e, d)| {
            let amount = format!("{} {}", trim_number(d.amount, 3), d.unit.label());
            let dose = match d.weight_kg {
                Some(kg) if d.unit == DoseUnit::MgPerKg => {
                    format!("{amount} × {} kg", trim_number(kg, 1))
                }
                _ => amount,
            };
            let dose = SessionView::dose_with_details(dose, d);
            vec![
                cell(v.time(e.event_time)),
                cell(v.t_plus(e.event_time)),
                cell(d.drug.clone()),
                cell(dose),
                cell(d.route.label()),
                cell(d.over_min.map(|m| format!("{m} min")).unwrap_or_default()),
                strong(format!("{} mg", trim_number(d.total_mg, 2))),
                cell(format!("#{}", e.id)),
                cell(e.author.clone()),
            ]
        })
        .collect();
    Some(table(
        &[
            ("Time", Time),
            ("T+", Time),
            ("Drug", Txt),
            ("Dose", Number),
            ("Route", Txt),
            ("Over", Txt),
            ("Total mg", Number),
            ("Entry", Txt),
            ("Author", Txt),
        ],
        rows,
    ))
}

/// "ketamine 35 mg; midazolam 1 mg", when more than one dose stands.
pub(crate) fn dose_totals(v: &SessionView<'_>) -> Option<String> {
    let totals = v.dose_totals();
    let t: Vec<String> = totals
        .iter()
        .map(|(drug, mg)| format!("{drug} {} mg", trim_number(*mg, 2)))
        .collect();
    (!t.is_empty()).then(|| t.join("; "))
}

/// The vitals flowsheet; None when the section is not shown (no readings outside a dosing
/// session). No rows: "No vitals charted."
pub(crate) fn flowsheet(v: &SessionView<'_>) -> Option<Table> {
    let rows = v.flow_rows();
    if rows.is_empty() && v.kind() != SessionKind::Dosing {
        return None;
    }
    let rows = rows
        .iter()
        .map(|r| {
            let signs = r.signs();
            let entry = r.entry();
            let mut id = format!("#{}", entry.id);
            if entry.corrects.is_some() {
                id.push_str(" †");
            }
            if r.has(FlagCode::Late) {
                id.push_str(" late");
            }
            vec![
                cell(v.time(r.at)),
                cell(v.t_plus(r.at)),
                sign(
                    signs
                        .and_then(|s| s.bp)
                        .map(|bp| format!("{}/{}", bp.systolic, bp.diastolic)),
                    r.bp_flagged(),
                ),
                sign(
                    signs.and_then(|s| s.hr).map(|x| x.to_string()),
                    r.hr_flagged(),
                ),
                sign(
                    signs.and_then(|s| s.spo2).map(|x| format!("{x}%")),
                    r.has(FlagCode::Spo2Low),
                ),
                sign(
                    signs.and_then(|s| s.rr).map(|x| x.to_string()),
                    r.has(FlagCode::RrLow),
                ),
                sign(
                    signs.and_then(|s| s.temp_c).map(|t| trim_number(t, 1)),
                    false,
                ),
                sign(
                    r.moaas().map(|m| m.to_string()),
                    r.has(FlagCode::DeepSedation),
                ),
                cell(id),
            ]
        })
        .collect();
    Some(table(
        &[
            ("Time", Time),
            ("T+", Time),
            ("BP", Number),
            ("HR", Number),
            ("SpO2", Number),
            ("RR", Number),
            ("Temp °C", Number),
            ("MOAA/S", Number),
            ("Entry", Txt),
        ],
        rows,
    ))
}

/// The protocol's checks of a dosing session, missed and late ones in bold, with the
/// summary line; None for other sessions.
pub(crate) fn checks(v: &SessionView<'_>) -> Option<(Table, String)> {
    let rows: Vec<Vec<Cell>> = v
        .check_rows()
        .into_iter()
        .map(|r| {
            let state = if r.lapse {
                Cell::new(vec![Span::Alert(r.state)])
            } else {
                cell(r.state)
            };
            vec![
                cell(r.check),
                cell(r.due),
                cell(r.t_plus),
                state,
                cell(r.entry),
            ]
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let cols = [
        ("Check", Txt),
        ("Due", Time),
        ("T+", Time),
        ("State", Txt),
        ("Entry", Txt),
    ];
    Some((table(&cols, rows), v.check_summary()))
}

/// The questionnaires of the session; an item 9 above 0 is marked in the band.
pub(crate) fn questionnaires(v: &SessionView<'_>) -> Option<Table> {
    let measures = v.measures();
    if measures.is_empty() {
        return None;
    }
    let rows = measures
        .into_iter()
        .map(|(e, m)| {
            let mut band = vec![text(m.band.clone())];
            if needs_risk_assessment(m) {
                band = vec![
                    text(format!("{} ", m.band)),
                    Span::Mark(format!(
                        "! item 9 answered {}: structured risk assessment needed",
                        m.items[8]
                    )),
                ];
            }
            let answers: Vec<String> = m.items.iter().map(u8::to_string).collect();
            vec![
                cell(v.time(e.event_time)),
                cell(m.instrument.name()),
                cell(m.total.to_string()),
                Cell::new(band),
                cell(answers.join(" ")),
                cell(format!("#{}", e.id)),
            ]
        })
        .collect();
    Some(table(
        &[
            ("Time", Time),
            ("Measure", Txt),
            ("Total", Number),
            ("Band", Txt),
            ("Answers", Small),
            ("Entry", Id),
        ],
        rows,
    ))
}

// ---------------------------------------------------------------------------------------
// Discharge and the note

/// Discharge: Aldrete, ride home, ready to leave, session end; None when the section is
/// not shown (nothing recorded outside a dosing session).
pub(crate) fn discharge(v: &SessionView<'_>) -> Option<Vec<Fact>> {
    let d = v.discharge();
    if v.kind() != SessionKind::Dosing && d.is_empty() {
        return None;
    }
    let at = |t| format!("{} ({})", v.time(t), v.t_plus(t));
    let aldrete = match d.aldrete() {
        Some(a) => {
            let items: Vec<String> = ALDRETE_ITEMS
                .iter()
                .zip(aldrete_items(&a))
                .map(|(item, score)| {
                    let said = item.describe(score).unwrap_or("?");
                    format!("{} {score} ({said})", item.name)
                })
                .collect();
            vec![
                Span::Strong(format!("{}/10", a.total())),
                text(
                    d.aldrete_at
                        .map(|t| format!(" at {}", at(t)))
                        .unwrap_or_default(),
                ),
                Span::Detail(items.join("; ")),
            ]
        }
        None => vec![text("not recorded")],
    };
    let ended = match (&d.ended, v.rec.session.ended) {
        (Some((t, end)), _) => {
            let reason = end
                .reason
                .as_deref()
                .map(|r| format!("; ended against a discharge reminder, reason: {r}"))
                .unwrap_or_else(|| "; no end reason needed".into());
            format!("{}{reason}", at(*t))
        }
        (None, Some(t)) => v.time(t),
        (None, None) => "not ended".into(),
    };
    Some(vec![
        Fact {
            name: "Modified Aldrete",
            value: aldrete,
        },
        fact(
            "Ride home",
            d.state.ride.as_deref().unwrap_or("not recorded"),
        ),
        fact(
            "Ready to leave",
            d.state.ready_at.map_or_else(|| "not recorded".into(), at),
        ),
        fact("Session ended", ended),
    ])
}

/// The integration note as the report shows it. A draft's text is never shown.
pub(crate) enum NoteSection {
    /// "No integration note yet."
    Missing,
    Signed(SignedNote),
    Draft {
        /// "DRAFT — not signed".
        headline: &'static str,
        /// Which note, who opened it, when it was last saved, and why its text is left out.
        body: String,
    },
}

/// A signed note, shown verbatim with its SHA-256, then each addendum with its own.
pub(crate) struct SignedNote {
    /// "**Signed** by Dr X at ... · MD note #3".
    pub signed: Vec<Span>,
    /// "SHA-256 of the signed text: `…`".
    pub hash: Vec<Span>,
    /// "Ed25519 signature (message …): `…` · public key: `…`", or that there is none.
    pub ed25519: Vec<Span>,
    /// "Signed with open items, reason: …".
    pub reason: Option<String>,
    pub text: String,
    pub addenda: Vec<Addendum>,
}

pub(crate) struct Addendum {
    /// "Addendum 1 — Dr X at 2026-11-27 09:00 (UTC+01:00)".
    pub heading: String,
    pub hash: Vec<Span>,
    pub ed25519: Vec<Span>,
    pub text: String,
}

/// The line of a signature's Ed25519 signature (see `export::signatures`).
fn ed25519_spans(signed: Option<(Statement<'_>, &Ed25519Seal)>) -> Vec<Span> {
    match signed {
        Some((s, seal)) => {
            let (lead, signature, key) = signatures::report_parts(&s, seal);
            vec![
                text(lead),
                Span::Code(signature),
                text(" · public key: "),
                Span::Code(key),
            ]
        }
        None => vec![text(signatures::NO_ED25519)],
    }
}

/// The note section; None when it is not shown (no note outside a dosing session).
pub(crate) fn note(v: &SessionView<'_>) -> Option<NoteSection> {
    let shown = v.kind() == SessionKind::Dosing || v.rec.note.is_some();
    shown.then(|| note_section(v.rec.note.as_ref()))
}

fn note_section(note: Option<&Note>) -> NoteSection {
    let Some(n) = note else {
        return NoteSection::Missing;
    };
    let format = n.format.to_uppercase();
    match &n.signature {
        Some(sig) => {
            NoteSection::Signed(SignedNote {
                signed: vec![
                    Span::Strong("Signed".into()),
                    text(format!(
                        " by {} at {} · {format} note #{}",
                        sig.signer,
                        stamp(sig.signed),
                        n.id
                    )),
                ],
                hash: vec![
                    text("SHA-256 of the signed text: "),
                    Span::Code(sig.sha256.clone()),
                ],
                ed25519: ed25519_spans(
                    sig.ed25519
                        .as_ref()
                        .map(|seal| (signatures::note_statement(n, sig, seal.public_key), seal)),
                ),
                reason: sig
                    .reason
                    .as_ref()
                    .map(|r| format!("Signed with open items, reason: {r}")),
                text: sig.text.clone(),
                addenda: n
                    .addenda
                    .iter()
                    .enumerate()
                    .map(|(i, a)| Addendum {
                        heading: format!("Addendum {} — {} at {}", i + 1, a.author, stamp(a.at)),
                        hash: vec![text("SHA-256: "), Span::Code(a.sha256.clone())],
                        ed25519: ed25519_spans(a.ed25519.as_ref().map(|seal| {
                            (signatures::addendum_statement(n, a, seal.public_key), seal)
                        })),
                        text: a.text.clone(),
                    })
                    .collect(),
            })
        }
        None => {
            let saved = n
                .draft
                .as_ref()
                .map(|d| format!("last saved {}", stamp(d.saved)))
                .unwrap_or_else(|| "no text yet".into());
            NoteSection::Draft {
                headline: "DRAFT — not signed",
                body: format!(
                    "{format} note #{} opened by {} at {}; {saved}. The draft text is left out of \
                     this record until the note is signed.",
                    n.id,
                    n.author,
                    stamp(n.created)
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::record::SessionRecord;
    use crate::domain::course::Draft;
    use crate::domain::entry::{BloodPressure, VitalSigns};
    use crate::domain::{ChartLine, Entry, EntryStatus, Flag, Payload, Session};
    use crate::export::report::sections::Look;
    use crate::export::report::tests::at;

    fn dosing(lines: Vec<ChartLine>, note: Option<Note>) -> SessionRecord {
        SessionRecord {
            session: Session {
                id: 7,
                patient_id: 1,
                kind: SessionKind::Dosing,
                started: at(9, 55),
                ended: None,
                clinician: "Dr Quinn".into(),
                intention: None,
                dosing_session_id: None,
            },
            lines,
            first_dose: None,
            period: crate::domain::chart::Period {
                start: at(9, 55),
                end: None,
            },
            checks: Vec::new(),
            note,
            number_in_course: 1,
            signed: Vec::new(),
        }
    }

    fn vitals(id: i64, signs: VitalSigns, flags: Vec<Flag>) -> ChartLine {
        ChartLine {
            entry: Entry {
                id,
                session_id: 7,
                payload: Payload::Vitals(signs),
                event_time: at(10, 0),
                recorded_time: at(10, 0),
                author: "Dr Quinn".into(),
                flags,
                corrects: None,
                correction: None,
                reason: None,
            },
            status: EntryStatus::Current,
        }
    }

    #[test]
    fn a_flagged_reading_is_flagged_and_a_missing_sign_is_a_dash() {
        let signs = VitalSigns {
            bp: Some(BloodPressure {
                systolic: 164,
                diastolic: 98,
            }),
            spo2: Some(97),
            ..VitalSigns::default()
        };
        let flag = Flag {
            code: FlagCode::BpHigh,
            text: "BP 164/98 high".into(),
        };
        let rec = dosing(vec![vitals(12, signs, vec![flag])], None);
        let table = flowsheet(&SessionView::new(&rec)).expect("a dosing session shows vitals");
        let row = &table.rows[0];
        let said = |c: &Cell| (c.spans.clone(), c.look);
        assert_eq!(said(&row[2]), (vec![text("164/98")], Look::Flagged));
        assert_eq!(said(&row[3]), (vec![text("–")], Look::Missing));
        assert_eq!(said(&row[4]), (vec![text("97%")], Look::Plain));
        assert_eq!(said(&row[8]), (vec![text("#12")], Look::Plain));
    }

    #[test]
    fn a_dosing_session_without_vitals_or_doses_still_shows_both_sections_empty() {
        let rec = dosing(Vec::new(), None);
        let v = SessionView::new(&rec);
        assert!(flowsheet(&v).is_some_and(|t| t.rows.is_empty()));
        assert!(doses(&v).is_some_and(|t| t.rows.is_empty()));
        assert!(matches!(note(&v), Some(NoteSection::Missing)));
    }

    #[test]
    fn a_draft_note_says_so_and_leaves_its_text_out() {
        let draft = Note {
            id: 3,
            dosing_session_id: 7,
            format: "dap".into(),
            created: at(12, 0),
            author: "Dr Quinn".into(),
            draft: Some(Draft {
                text: "the draft words".into(),
                saved: at(12, 30),
            }),
            signature: None,
            addenda: Vec::new(),
        };
        let rec = dosing(Vec::new(), Some(draft));
        let Some(NoteSection::Draft { headline, body }) = note(&SessionView::new(&rec)) else {
            panic!("an unsigned note is shown as a draft");
        };
        assert_eq!(headline, "DRAFT — not signed");
        assert!(body.starts_with("DAP note #3 opened by Dr Quinn"), "{body}");
        assert!(body.contains("last saved 2026-11-26 12:30"), "{body}");
        assert!(!body.contains("the draft words"), "{body}");
    }
}
