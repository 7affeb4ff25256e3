//! Integration notes

use super::*;

pub(super) const ASSESSMENTS: &[&str] = &[
    "integrating well; insight into {} themes",
    "processing {} with more self-compassion; mood improving",
    "early insight into {}; some low days, coping well",
    "steady; {} less overwhelming, sleep better",
];

pub(super) const PLANS: &[&str] = &[
    "continue course; journaling prompts given.",
    "continue course; breathing cue practised, walk daily.",
    "continue course; share the session with partner as agreed.",
    "continue course; review safety plan next session.",
];

/// Drafts the integration note from the record, edits and saves it, and signs it (with a
/// reason when alerts or missed checks call for one), as a clinician would after the
/// integration session.
#[allow(clippy::too_many_arguments)]
pub(super) fn write_note(
    chart: &mut Chart,
    config: &Config,
    p: &Profile,
    rng: &mut Rng,
    dosing: SessionId,
    at: DateTime<FixedOffset>,
    signed: bool,
    now: DateTime<FixedOffset>,
) -> Result<(), ChartingError> {
    let (note, _) = chart
        .behind_the_door()
        .note_for_dosing(dosing, &config.notes.format, at)?;
    let draft = course::draft_text(chart, config, &note)?;
    let text = format!(
        "{}\n\nAssessment: {}.\nPlan: {}\n",
        draft
            .lines()
            .filter(|l| !l.starts_with("> DRAFT"))
            .collect::<Vec<_>>()
            .join("\n")
            .trim_end(),
        rng.pick(ASSESSMENTS).replace("{}", p.theme.word),
        rng.pick(PLANS),
    );
    let saved = at + Duration::minutes(rng.range(5, 15));
    chart.behind_the_door().save_draft(note.id, &text, saved)?;
    if !signed {
        return Ok(());
    }
    let signed_at = saved + Duration::minutes(rng.range(1, 5));
    let check = course::sign_check(chart, config, dosing, signed_at)?;
    if let Some(blocked) = check.blocked {
        return Err(ChartingError::Invalid(format!(
            "scale data: note of session {dosing} blocked: {blocked}"
        )));
    }
    let reason = (!check.needs_reason.is_empty())
        .then_some("alerts resolved during the session as charted; reviewed before signing");
    chart
        .behind_the_door()
        .sign_note(note.id, reason, signed_at)?;
    let addendum_at = signed_at + Duration::hours(rng.range(16, 30));
    if rng.chance(0.05) && addendum_at < now {
        let text = *rng.pick(&[
            "Patient phoned the next morning: slept well, no nausea.",
            "Patient emailed: mild headache in the evening, resolved with paracetamol.",
            "Ride home confirmed the patient arrived safely.",
        ]);
        chart
            .behind_the_door()
            .add_addendum(note.id, text, addendum_at)?;
    }
    Ok(())
}
