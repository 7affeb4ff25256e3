//! The Spravato REMS Patient Monitoring Form as one printable HTML page, for faxing or
//! uploading: every field the record answers, a visible MISSING mark on each field it cannot
//! (with what would answer it), and the deadline. Printed with the report's style sheet and
//! escaping; self-contained (no scripts, fonts or images from anywhere).

use super::report::html::{CSS, esc};
use crate::app::rems::RemsFormData;
use crate::domain::rems::Field;
use std::fmt::Write;

/// The form's fields in groups, as the paper form lays them out. A field of a newer form
/// that no group names is printed under "Other".
const GROUPS: &[(&str, &[&str])] = &[
    (
        "Patient",
        &[
            "patient_name",
            "patient_dob",
            "patient_sex",
            "first_treatment",
        ],
    ),
    (
        "Concomitant medications",
        &[
            "benzodiazepines",
            "sedative_hypnotics",
            "psychostimulants",
            "maois",
            "opioids",
        ],
    ),
    (
        "Monitoring provider and setting",
        &[
            "provider_name",
            "provider_phone",
            "provider_email",
            "setting_name",
            "setting_address",
        ],
    ),
    (
        "Treatment",
        &[
            "treatment_date",
            "dose",
            "lot",
            "total_minutes",
            "ready_minutes",
        ],
    ),
    (
        "Vital signs",
        &[
            "vitals_in_range_before",
            "vitals_in_range_end",
            "bp_before",
            "bp_at_40",
            "bp_end",
        ],
    ),
    (
        "During the session",
        &["sedation", "dissociation", "respiratory_depression"],
    ),
];

/// The form's own additions to the report's style sheet: a compact page that holds every
/// field on one sheet of A4 or Letter however many are missing (each missing reason in small
/// type, a reason the field above gives said once), and the missing mark.
const FORM_CSS: &str = r#"
body { font-size: 8.5pt; padding: 4mm 5mm; }
h1 { margin-bottom: 1mm; }
.form-grid { display: grid; grid-template-columns: 1fr 1fr; gap: 0 5mm; }
.form-grid h3 { margin: 2mm 0 1mm; }
table.form { margin: 0.5mm 0 1mm; }
table.form th { width: 40%; background: #f4f4f4; font-weight: normal; }
table.form th, table.form td { padding: 0.5mm 1.2mm; }
td.missing { border: 1.2pt dashed #111; }
td.missing strong { letter-spacing: 0.3pt; }
td.missing .why { font-size: 6.8pt; line-height: 1.2; }
.deadline { border: 1.5pt solid #111; padding: 1mm 3mm; margin: 1mm 0 1.5mm; font-weight: bold; }
@page { margin: 8mm; }
"#;

/// A field's answer, or its MISSING mark with what would answer it; `above` is the reason of
/// the field above, which a reason that repeats it does not say again.
fn cell(out: &mut String, f: &Field, above: Option<&str>) {
    match &f.answer {
        Ok(a) => {
            let _ = write!(out, "<td>{}</td>", esc(&a.text()));
        }
        Err(why) => {
            let why = if above == Some(why.as_str()) {
                "as above".to_string()
            } else {
                esc(why)
            };
            let _ = write!(
                out,
                "<td class=\"missing\"><strong>MISSING</strong> <span class=\"why\">{why}</span></td>"
            );
        }
    }
}

fn group(out: &mut String, title: &str, fields: &[&Field]) {
    if fields.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<div class=\"keep\"><h3>{}</h3><table class=\"form\"><tbody>",
        esc(title)
    );
    let mut above: Option<&str> = None;
    for f in fields {
        let _ = write!(out, "<tr><th>{}</th>", esc(f.label));
        cell(out, f, above);
        above = f.answer.as_ref().err().map(String::as_str);
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>\n");
}

/// The form of `d` as one page. `outpatient` false prints it as exempt (inpatient);
/// `head` is the chart's audit head it was made at.
pub fn html(d: &RemsFormData, outpatient: bool, head: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"generator\" content=\"kapchart\">\n<title>REMS monitoring form: {} {}</title>\n\
         <style>{CSS}{FORM_CSS}</style>\n</head>\n<body>\n",
        esc(&d.patient.name),
        d.form.treatment_date
    );
    let _ = write!(
        out,
        "<h1>Spravato REMS Patient Monitoring Form</h1>\n<p class=\"muted\">Session {} \
         &middot; treatment {} &middot; built from the chart by kapchart; check every field \
         before submitting.</p>\n",
        d.session.id, d.form.treatment_date
    );
    if outpatient {
        let _ = writeln!(
            out,
            "<p class=\"deadline\">Submit by {} ({})</p>",
            d.form.deadline,
            esc(&d.state.to_string())
        );
        if !d.changed.is_empty() {
            let _ = writeln!(
                out,
                "<p class=\"deadline\">Changed since it was submitted: the record was corrected or added to after the submission.</p>\n<ul>"
            );
            for c in &d.changed {
                let _ = writeln!(out, "<li>{}</li>", esc(&c.to_string()));
            }
            out.push_str("</ul>\n");
        }
    } else {
        out.push_str(
            "<p class=\"deadline\">Inpatient setting: exempt from the form ([rems] outpatient = false)</p>\n",
        );
    }
    out.push_str("<div class=\"form-grid\">\n");
    let mut placed: Vec<&str> = Vec::new();
    for (title, keys) in GROUPS {
        let fields: Vec<&Field> = keys.iter().filter_map(|k| d.form.field(k)).collect();
        placed.extend(keys.iter().copied());
        group(&mut out, title, &fields);
    }
    let other: Vec<&Field> = d
        .form
        .fields
        .iter()
        .filter(|f| !placed.contains(&f.key))
        .collect();
    group(&mut out, "Other", &other);
    out.push_str("</div>\n");
    let missing = d.form.missing().count();
    if missing > 0 {
        let _ = writeln!(
            out,
            "<p class=\"safety\">{missing} field{} MISSING: the record cannot answer {}; fill {} in by hand.</p>",
            if missing == 1 { "" } else { "s" },
            if missing == 1 { "it" } else { "them" },
            if missing == 1 { "it" } else { "them" },
        );
    }
    let _ = write!(
        out,
        "<p class=\"small muted\">Minutes count from the first device (T+0). The BP at about \
         40 minutes is the reading that closed the T+40 check, else the nearest within the \
         clinic's window. Exported at chart audit head {}.</p>\n</body>\n</html>\n",
        esc(head)
    );
    out
}
