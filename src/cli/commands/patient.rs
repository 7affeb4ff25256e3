//! `kapchart patient add|list|show|update`: the patients, their details, medications (the
//! classes that matter flagged) and safety flag.

use crate::app::access::Access;
use crate::app::{NewPatient, course};
use crate::cli::audited::record_access;
use crate::cli::lines::{patient_line, to_json};
use crate::cli::parse::{JsonFlag, parse_date, parse_weight, second};
use crate::cli::{Ctx, Failure, Outcome};
use crate::domain::medications;
use chrono::NaiveDate;
use clap::Subcommand;
use std::io::Write;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add a patient; prints the new id
    Add {
        #[arg(long)]
        name: String,
        /// Date of birth, YYYY-MM-DD
        #[arg(long, value_parser = parse_date)]
        dob: NaiveDate,
        /// Medical record number
        #[arg(long)]
        mrn: Option<String>,
        /// Weight in kilograms (needed for mg/kg doses)
        #[arg(long, value_parser = parse_weight)]
        weight: Option<f64>,
        /// Add a second record although a patient with this name, date of birth and MRN
        /// is in the chart
        #[arg(long)]
        second_record: bool,
    },
    /// List patients
    List(JsonFlag),
    /// A patient's details, medications (classes that matter flagged), safety flag
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Record changed details: weight, contacts, medications
    Update(PatientUpdate),
}

#[derive(Debug, clap::Args)]
pub struct PatientUpdate {
    pub id: i64,
    /// Weight in kilograms
    #[arg(long, value_parser = parse_weight)]
    pub weight: Option<f64>,
    #[arg(long)]
    pub emergency_contact: Option<String>,
    /// Who usually takes the patient home after dosing
    #[arg(long)]
    pub ride_contact: Option<String>,
    /// The patient's address (the controlled-substance log names it beside each dose)
    #[arg(long)]
    pub address: Option<String>,
    /// Sex as the clinic records it, e.g. female, male (asked on the Spravato REMS form)
    #[arg(long)]
    pub sex: Option<String>,
    /// A current medication, as written (repeat for several)
    #[arg(long = "med-add")]
    pub med_add: Vec<String>,
    /// A medication the patient no longer takes (its name as listed)
    #[arg(long = "med-stop")]
    pub med_stop: Vec<String>,
}

pub fn run(ctx: &Ctx, cmd: Command, out: &mut impl Write) -> Outcome {
    // Each signs in once (show and update used to sign in a second time, asking for the
    // passphrase twice at a terminal).
    match cmd {
        Command::Add {
            name,
            dob,
            mrn,
            weight,
            second_record,
        } => {
            let mut chart = ctx.open()?;
            let id = course::add_patient(
                &mut chart,
                &NewPatient {
                    name,
                    dob,
                    mrn,
                    weight_kg: weight,
                },
                second(second_record),
                crate::clock::now(),
            )?;
            writeln!(out, "{id}")?;
            Ok(())
        }
        Command::List(JsonFlag { json }) => list(ctx, json, out),
        Command::Show { id, json } => show(ctx, id, json, out),
        Command::Update(u) => update(ctx, u, out),
    }
}

fn list(ctx: &Ctx, json: bool, out: &mut impl Write) -> Outcome {
    let chart = ctx.open()?;
    let patients = chart.patients()?;
    if json {
        writeln!(out, "{}", to_json(&patients))?;
    } else {
        let today = crate::clock::today();
        for p in &patients {
            writeln!(out, "{}", patient_line(p, today))?;
        }
    }
    Ok(())
}

fn update(ctx: &Ctx, u: PatientUpdate, out: &mut impl Write) -> Outcome {
    // Nothing to change would only add a version identical to the last one.
    if u.weight.is_none()
        && u.emergency_contact.is_none()
        && u.ride_contact.is_none()
        && u.address.is_none()
        && u.sex.is_none()
        && u.med_add.is_empty()
        && u.med_stop.is_empty()
    {
        return Err(Failure::runtime(format!(
            "nothing to change for patient {}: give --weight, --emergency-contact, --ride-contact, --address, --sex, --med-add or --med-stop; nothing was written",
            u.id
        )));
    }
    let mut chart = ctx.open()?;
    let mut details = chart.patient_details(u.id)?;
    if let Some(w) = u.weight {
        details.weight_kg = Some(w);
    }
    if let Some(c) = u.emergency_contact {
        details.emergency_contact = Some(c.trim().to_string()).filter(|c| !c.is_empty());
    }
    if let Some(c) = u.ride_contact {
        details.ride_contact = Some(c.trim().to_string()).filter(|c| !c.is_empty());
    }
    if let Some(a) = u.address {
        details.address = Some(a.trim().to_string()).filter(|a| !a.is_empty());
    }
    if let Some(s) = u.sex {
        details.sex = Some(s.trim().to_string()).filter(|s| !s.is_empty());
    }
    for stop in &u.med_stop {
        let before = details.medications.len();
        let wanted = stop.trim().to_lowercase();
        details.medications.retain(|m| {
            m.to_lowercase() != wanted && !m.to_lowercase().starts_with(&format!("{wanted} "))
        });
        if details.medications.len() == before {
            return Err(Failure::runtime(format!(
                "'{stop}' is not among patient {}'s medications: {}",
                u.id,
                details.medications.join(", ")
            )));
        }
    }
    for add in u.med_add {
        let add = add.trim().to_string();
        if !add.is_empty() && !details.medications.contains(&add) {
            details.medications.push(add);
        }
    }
    let id = chart.update_patient_details(u.id, &details, crate::clock::now())?;
    writeln!(out, "{id}")?;
    Ok(())
}

fn show(ctx: &Ctx, id: i64, json: bool, out: &mut impl Write) -> Outcome {
    let mut chart = ctx.open()?;
    let patient = chart.patient(id)?;
    let details = chart.patient_details(id)?;
    let meds: Vec<medications::Medication> = details
        .medications
        .iter()
        .map(|m| medications::Medication {
            name: m.clone(),
            class: medications::classify(m),
        })
        .collect();
    let flag = course::safety_flag(&chart, id)?;
    let course_row = chart.course(id)?;
    record_access(&mut chart, Access::ViewPatient(id));
    if json {
        let v = serde_json::json!({
            "patient": patient,
            "details": details,
            "medications": meds,
            "safety_flag": flag.map(|f| f.to_string()),
            "course": course_row,
        });
        writeln!(out, "{}", to_json(&v))?;
        return Ok(());
    }
    let today = crate::clock::today();
    writeln!(out, "{}", patient_line(&patient, today).trim_start())?;
    if let Some(f) = flag {
        writeln!(out, "! SAFETY: {f}")?;
    }
    if let Some(c) = &details.emergency_contact {
        writeln!(out, "emergency contact: {c}")?;
    }
    if let Some(c) = &details.ride_contact {
        writeln!(out, "usual ride home: {c}")?;
    }
    if let Some(a) = &details.address {
        writeln!(out, "address: {a}")?;
    }
    if meds.is_empty() {
        writeln!(out, "medications: none recorded")?;
    }
    for m in &meds {
        match m.class {
            Some(class) => writeln!(
                out,
                "medication: {} ! {} ({})",
                m.name,
                class.label(),
                class.why_it_matters()
            )?,
            None => writeln!(out, "medication: {}", m.name)?,
        }
    }
    Ok(())
}
