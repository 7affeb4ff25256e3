//! Writing a session: each line parsed and planned as `charting::record_line` does, batched
//! into one durable transaction.

use super::*;

/// An entry of the session being written: its id once written, and the flags it earned.
pub(super) struct Written {
    pub(super) id: Option<EntryId>,
    pub(super) flags: Vec<Flag>,
    pub(super) event: DateTime<FixedOffset>,
}

pub(super) struct Batch<'c> {
    pub(super) chart: &'c mut Chart,
    pub(super) session: SessionId,
    pub(super) entries: Vec<Written>,
    pub(super) pending: Vec<NewEntry>,
    pub(super) count: usize,
}

impl Batch<'_> {
    pub(super) fn push(&mut self, entry: NewEntry) -> usize {
        self.entries.push(Written {
            id: None,
            flags: entry.flags.clone(),
            event: entry.event_time,
        });
        self.pending.push(entry);
        self.entries.len() - 1
    }

    /// Writes what is pending in one transaction.
    pub(super) fn flush(&mut self) -> Result<(), ChartingError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let ids = self
            .chart
            .behind_the_door()
            .append(self.session, &self.pending)?;
        let first = self.entries.len() - self.pending.len();
        for (w, id) in self.entries[first..].iter_mut().zip(ids) {
            w.id = Some(id);
        }
        self.count += self.pending.len();
        self.pending.clear();
        Ok(())
    }

    /// The id of an entry, writing what is pending first when it is not written yet.
    pub(super) fn id_of(&mut self, entry: usize) -> Result<EntryId, ChartingError> {
        if self.entries[entry].id.is_none() {
            self.flush()?;
        }
        self.entries[entry]
            .id
            .ok_or_else(|| ChartingError::Invalid("scale data: entry not written".into()))
    }
}

pub(super) fn write_session(
    chart: &mut Chart,
    config: &Config,
    session: SessionId,
    kind: SessionKind,
    p: &Profile,
    mut timeline: Timeline,
    (supply, witness): (&Supply, &crate::store::WitnessSignIn),
) -> Result<usize, ChartingError> {
    timeline.steps.sort_by_key(|s| (s.recorded, s.key));
    let _ = kind;
    // The session's chart plans every line and form, as the TUI and the CLI do; it learns the
    // doses written so far (with stand-in ids) so that T+0 and pre-dose are the same.
    let mut planner =
        SessionChart::new(chart.session(session)?, Vec::new(), config.session_rules());
    let mut doses_seen: i64 = 0;
    // What the session's doses drew from its vial.
    let mut drawn_mg = 0.0;
    // The first entry each step wrote (by key).
    let mut first_entry: Vec<Option<usize>> = vec![None; timeline.steps.len()];
    let mut batch = Batch {
        chart,
        session,
        entries: Vec::new(),
        pending: Vec::new(),
        count: 0,
    };
    for step in timeline.steps {
        match step.what {
            What::Line(text) => {
                let text = supply.name_vial(text);
                let parsed =
                    parse_line(&text, &config.parse_context(step.event, Some(p.weight_kg)))?;
                let planned = planner.plan_line(&parsed, step.recorded);
                for (n, mut e) in planned.into_iter().enumerate() {
                    drawn_mg += supply.draw(&mut e.payload);
                    if matches!(e.payload, Payload::Dose(_)) {
                        doses_seen += 1;
                        planner.extend(vec![Entry {
                            id: -doses_seen,
                            session_id: session,
                            payload: e.payload.clone(),
                            event_time: e.event_time,
                            recorded_time: step.recorded,
                            author: String::new(),
                            flags: Vec::new(),
                            corrects: None,
                            correction: None,
                            reason: None,
                        }]);
                    }
                    let index = batch.push(NewEntry {
                        payload: e.payload,
                        event_time: e.event_time,
                        recorded_time: step.recorded,
                        flags: e.flags,
                        corrects: None,
                    });
                    if n == 0 {
                        first_entry[step.key] = Some(index);
                    }
                }
            }
            What::Form(payloads) => {
                for e in planner.plan_payloads(payloads, step.recorded) {
                    batch.push(NewEntry {
                        payload: e.payload,
                        event_time: e.event_time,
                        recorded_time: step.recorded,
                        flags: e.flags,
                        corrects: None,
                    });
                }
            }
            What::AckAlerts { of, note } => {
                let Some(target) = first_entry[of] else {
                    continue;
                };
                let alerts: Vec<_> = batch.entries[target]
                    .flags
                    .iter()
                    .filter(|f| f.code.is_alert())
                    .map(|f| f.code)
                    .collect();
                if alerts.is_empty() {
                    continue;
                }
                let entry = batch.id_of(target)?;
                for flag in alerts {
                    batch.push(NewEntry {
                        payload: Payload::Acknowledgement(Acknowledgement {
                            entry,
                            flag,
                            note: note.into(),
                        }),
                        event_time: step.recorded,
                        recorded_time: step.recorded,
                        flags: Vec::new(),
                        corrects: None,
                    });
                }
            }
            What::Amend { of, line, reason } => {
                let Some(target) = first_entry[of] else {
                    continue;
                };
                let original = batch.entries[target].event;
                let entry = batch.id_of(target)?;
                let parsed = parse_line(&line, &config.parse_context(original, Some(p.weight_kg)))?;
                // As `charting::amend_entry` without a time: the original's event time, and
                // the flags the reading earns at that time.
                let first = parsed.entries.into_iter().take(1).collect();
                for e in planner.plan_payloads(first, original) {
                    batch.push(NewEntry {
                        payload: e.payload,
                        event_time: original,
                        recorded_time: step.recorded,
                        flags: e.flags,
                        corrects: Some((entry, Correction::Amend, reason.into())),
                    });
                }
            }
            What::Strike { of, reason } => {
                let Some(target) = first_entry[of] else {
                    continue;
                };
                let entry = batch.id_of(target)?;
                batch.push(NewEntry {
                    payload: Payload::Strike,
                    event_time: step.recorded,
                    recorded_time: step.recorded,
                    flags: Vec::new(),
                    corrects: Some((entry, Correction::Strike, reason.into())),
                });
            }
            What::End => {
                // The rest of the vial wasted, and the nurse witnesses it.
                if let Some(waste) = supply.rest(drawn_mg, &config.stock.waste_manner) {
                    let at = step.recorded - Duration::minutes(2);
                    let mut index = None;
                    for e in planner.plan_payloads(vec![waste], at) {
                        index = Some(batch.push(NewEntry {
                            payload: e.payload,
                            event_time: e.event_time,
                            recorded_time: at,
                            flags: e.flags,
                            corrects: None,
                        }));
                    }
                    if let Some(index) = index {
                        let waste = batch.id_of(index)?;
                        batch.chart.behind_the_door().record_witness_as(
                            witness,
                            waste,
                            at + Duration::minutes(1),
                        )?;
                        batch.count += 1;
                    }
                }
                batch.push(NewEntry {
                    payload: Payload::SessionEnd(SessionEnd { reason: None }),
                    event_time: step.recorded,
                    recorded_time: step.recorded,
                    flags: Vec::new(),
                    corrects: None,
                });
            }
        }
    }
    batch.flush()?;
    Ok(batch.count)
}
