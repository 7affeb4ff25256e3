//! `kapchart rems`: the Spravato REMS Patient Monitoring Form of a session (`show`), the
//! deadline queue (`list`), and recording a form's submission (`submitted`).

use crate::app::access::Access;
use crate::app::rems::{self, RemsError, RemsFormData};
use crate::cli::audited::record_access;
use crate::cli::lines::to_json;
use crate::cli::parse::parse_date;
use crate::cli::{Ctx, Failure, Outcome};
use crate::domain::rems::Answer;
use chrono::NaiveDate;
use clap::Subcommand;
use serde_json::{Value, json};
use std::io::Write;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every field of a session's REMS Patient Monitoring Form, and the ones the record
    /// cannot answer
    Show {
        #[arg(long)]
        session: i64,
        #[arg(long)]
        json: bool,
    },
    /// Every outpatient esketamine session with its form's state: to do, due by, overdue
    /// since, submitted on
    List {
        #[arg(long)]
        json: bool,
    },
    /// Record that a session's form was submitted (a second time only as a correction, with
    /// --reason)
    Submitted {
        #[arg(long)]
        session: i64,
        /// The day it was submitted, YYYY-MM-DD
        #[arg(long, value_parser = parse_date)]
        on: NaiveDate,
        /// The reference the REMS gave (confirmation number, fax receipt)
        #[arg(long = "ref")]
        reference: Option<String>,
        /// Why an earlier submission record is corrected (the earlier record stays)
        #[arg(long)]
        reason: Option<String>,
    },
}

impl From<RemsError> for Failure {
    fn from(e: RemsError) -> Self {
        match e {
            RemsError::Store(e) => e.into(),
            e => Failure::runtime(e.to_string()),
        }
    }
}

pub fn run(ctx: &Ctx, cmd: Command, out: &mut impl Write) -> Outcome {
    let today = crate::clock::today();
    let now = crate::clock::now();
    match cmd {
        Command::Show { session, json } => {
            let mut chart = ctx.open()?;
            let data = rems::form_of(&chart, &ctx.config, session, today, now)?;
            // The form holds the patient's name, date of birth and medications: a look at
            // the record, audited like `session show`.
            record_access(&mut chart, Access::ViewRemsForm(session));
            if json {
                writeln!(out, "{}", to_json(&form_json(&data)))?;
            } else {
                show(&data, ctx.config.rems.outpatient, out)?;
            }
        }
        Command::List { json } => {
            let chart = ctx.open()?;
            let queue = rems::queue(&chart, &ctx.config, today, now)?;
            if json {
                let rows: Vec<Value> = queue.iter().map(row_json).collect();
                writeln!(
                    out,
                    "{}",
                    to_json(&json!({ "today": today, "forms": rows }))
                )?;
            } else if !ctx.config.rems.outpatient {
                writeln!(
                    out,
                    "no REMS forms: the clinic is set as inpatient ([rems] outpatient = false), and inpatient settings are exempt"
                )?;
            } else if queue.is_empty() {
                writeln!(out, "no esketamine dosing sessions in the chart")?;
            } else {
                for d in &queue {
                    let missing = d.form.missing().count();
                    let missing = match missing {
                        0 => String::new(),
                        1 => "  (1 field missing)".into(),
                        n => format!("  ({n} fields missing)"),
                    };
                    let changed = match d.changed.len() {
                        0 => String::new(),
                        n => format!(
                            "  ! {} changed since submitted",
                            crate::domain::count_of(n, "field")
                        ),
                    };
                    writeln!(
                        out,
                        "session {:>5}  {}  {}  treated {}  {}{missing}{changed}",
                        d.session.id, d.patient.name, d.patient.dob, d.form.treatment_date, d.state
                    )?;
                }
            }
        }
        Command::Submitted {
            session,
            on,
            reference,
            reason,
        } => {
            let mut chart = ctx.open()?;
            // A form with fields the record does not answer is said before it is recorded
            // as submitted: the clinician filled them in by hand, or it went incomplete.
            let form = rems::form_of(&chart, &ctx.config, session, today, now)?;
            let missing: Vec<&str> = form.form.missing().map(|f| f.label).collect();
            if !missing.is_empty() {
                eprintln!(
                    "kapchart: warning: session {session}'s form has {} the record does not answer: {}; \
                     recording the submission as given (see `kapchart rems show --session {session}`)",
                    crate::domain::count_of(missing.len(), "field"),
                    missing.join(", ")
                );
            }
            let id = rems::record_submission(
                &mut chart,
                &ctx.config,
                session,
                on,
                reference.as_deref(),
                reason.as_deref(),
                today,
                now,
            )?;
            writeln!(out, "{id}")?;
        }
    }
    Ok(())
}

fn show(d: &RemsFormData, outpatient: bool, out: &mut impl Write) -> Outcome {
    writeln!(
        out,
        "Spravato REMS Patient Monitoring Form: session {}, treatment {}",
        d.session.id, d.form.treatment_date
    )?;
    if outpatient {
        writeln!(out, "deadline {} · {}", d.form.deadline, d.state)?;
        if !d.changed.is_empty() {
            writeln!(
                out,
                "! CHANGED SINCE IT WAS SUBMITTED: the record was corrected or added to after the submission; {} differ from what was submitted:",
                crate::domain::count_of(d.changed.len(), "field")
            )?;
            for c in &d.changed {
                writeln!(out, "  - {c}")?;
            }
        }
    } else {
        writeln!(
            out,
            "inpatient setting: exempt from the form ([rems] outpatient = false)"
        )?;
    }
    let width = d
        .form
        .fields
        .iter()
        .map(|f| f.label.len())
        .max()
        .unwrap_or(0);
    for f in &d.form.fields {
        let value = match &f.answer {
            Ok(a) => a.text(),
            Err(_) => "MISSING".to_string(),
        };
        writeln!(out, "  {:width$}  {value}", f.label)?;
    }
    let missing: Vec<_> = d.form.missing().collect();
    if missing.is_empty() {
        writeln!(out, "every field is answered from the record")?;
    } else {
        writeln!(out, "missing ({}):", missing.len())?;
        for f in missing {
            if let Err(why) = &f.answer {
                writeln!(out, "  - {}: {why}", f.label)?;
            }
        }
    }
    Ok(())
}

fn answer_json(a: &Answer) -> Value {
    serde_json::to_value(a).unwrap_or(Value::Null)
}

fn form_json(d: &RemsFormData) -> Value {
    let fields: Vec<Value> = d
        .form
        .fields
        .iter()
        .map(|f| match &f.answer {
            Ok(a) => json!({
                "key": f.key, "label": f.label, "value": answer_json(a), "text": a.text(),
            }),
            Err(why) => json!({
                "key": f.key, "label": f.label, "value": Value::Null, "missing": why,
            }),
        })
        .collect();
    let missing: Vec<Value> = d
        .form
        .missing()
        .map(|f| json!({ "key": f.key, "label": f.label, "why": f.answer.as_ref().err() }))
        .collect();
    json!({
        "session": d.session.id,
        "patient_id": d.patient.id,
        "treatment_date": d.form.treatment_date,
        "deadline": d.form.deadline,
        "state": d.state.code(),
        "state_text": d.state.to_string(),
        "fields": fields,
        "missing": missing,
        "changed_since_submission": changed_json(d),
    })
}

fn row_json(d: &RemsFormData) -> Value {
    json!({
        "session": d.session.id,
        "patient_id": d.patient.id,
        "patient": d.patient.name,
        "treatment_date": d.form.treatment_date,
        "deadline": d.form.deadline,
        "state": d.state.code(),
        "state_text": d.state.to_string(),
        "submitted_on": d.submission.as_ref().map(|(_, s)| s.on),
        "reference": d.submission.as_ref().and_then(|(_, s)| s.reference.clone()),
        "submission_entry": d.submission.as_ref().map(|(id, _)| id),
        "missing": d.form.missing().count(),
        "changed_since_submission": changed_json(d),
    })
}

fn changed_json(d: &RemsFormData) -> Vec<Value> {
    d.changed
        .iter()
        .map(|c| json!({ "key": c.key, "label": c.label, "then": c.then, "now": c.now }))
        .collect()
}
