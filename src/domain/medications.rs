//! Concomitant medications: which of a patient's medications fall in a class that matters for
//! ketamine and esketamine (Spravato REMS Patient Monitoring Form, clinical.md section 2; and
//! lamotrigine, at the clinic's request). The names live in `assets/medications.toml`, with
//! their sources. kapchart names the class and why it matters; the clinician and the prescriber
//! decide what, if anything, to change (clinical.md section 1: coordinate with the prescriber
//! rather than stopping medications).

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::OnceLock;

/// The medication names and their classes, compiled in.
pub const MEDICATIONS_TOML: &str = include_str!("../../assets/medications.toml");

/// A medication class that matters for KAP and Spravato.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MedClass {
    /// REMS form: benzodiazepines.
    Benzodiazepine,
    /// REMS form: non-benzodiazepine sedative hypnotics.
    SedativeHypnotic,
    /// REMS form: psychostimulants.
    Psychostimulant,
    /// REMS form: monoamine oxidase inhibitors.
    Maoi,
    /// Newer REMS form: opioids.
    Opioid,
    /// Not on the REMS form; reported to blunt ketamine's effect.
    Lamotrigine,
}

impl MedClass {
    pub const ALL: [MedClass; 6] = [
        MedClass::Benzodiazepine,
        MedClass::SedativeHypnotic,
        MedClass::Psychostimulant,
        MedClass::Maoi,
        MedClass::Opioid,
        MedClass::Lamotrigine,
    ];

    pub fn label(self) -> &'static str {
        match self {
            MedClass::Benzodiazepine => "benzodiazepine",
            MedClass::SedativeHypnotic => "non-benzodiazepine sedative hypnotic",
            MedClass::Psychostimulant => "psychostimulant",
            MedClass::Maoi => "MAOI",
            MedClass::Opioid => "opioid",
            MedClass::Lamotrigine => "lamotrigine",
        }
    }

    /// Why the class is asked about, in plain words, for the clinician.
    pub fn why_it_matters(self) -> &'static str {
        match self {
            MedClass::Benzodiazepine | MedClass::SedativeHypnotic => {
                "may add to sedation (asked on the Spravato REMS monitoring form)"
            }
            MedClass::Psychostimulant | MedClass::Maoi => {
                "may raise blood pressure (asked on the Spravato REMS monitoring form)"
            }
            MedClass::Opioid => {
                "may add to respiratory depression and sedation (asked on the newer Spravato REMS monitoring form)"
            }
            MedClass::Lamotrigine => {
                "reported to blunt ketamine's effect; not on the REMS form (noted at the clinic's request)"
            }
        }
    }
}

impl fmt::Display for MedClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One of the patient's medications as written, with its class when kapchart knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Medication {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<MedClass>,
}

impl Medication {
    /// The medication as typed, classified with [`classify`].
    pub fn new(name: impl Into<String>) -> Medication {
        let name = name.into();
        let class = classify(&name);
        Medication { name, class }
    }
}

/// The class of a medication as typed: the whole text or its first word, ignoring case, e.g.
/// "Clonazepam 0.5 mg at night" is a benzodiazepine. A first word stops at anything that is
/// not a letter, so "oxycodone/acetaminophen 5/325" is an opioid. None when unknown.
pub fn classify(name: &str) -> Option<MedClass> {
    let whole = name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    let first: String = whole.chars().take_while(|c| c.is_alphabetic()).collect();
    let table = table();
    table
        .get(whole.as_str())
        .or_else(|| table.get(first.as_str()))
        .copied()
}

/// The names of each class, as listed in `assets/medications.toml`.
pub fn names() -> &'static BTreeMap<MedClass, Vec<String>> {
    static NAMES: OnceLock<BTreeMap<MedClass, Vec<String>>> = OnceLock::new();
    NAMES.get_or_init(|| {
        parse(MEDICATIONS_TOML).expect("the shipped assets/medications.toml is valid")
    })
}

fn table() -> &'static HashMap<String, MedClass> {
    static TABLE: OnceLock<HashMap<String, MedClass>> = OnceLock::new();
    TABLE.get_or_init(|| {
        names()
            .iter()
            .flat_map(|(class, names)| names.iter().map(|n| (n.clone(), *class)))
            .collect()
    })
}

/// Reads a medications table: one key per class, each a list of names. Names are stored
/// lower-case and trimmed; a name listed under two classes is refused.
fn parse(text: &str) -> Result<BTreeMap<MedClass, Vec<String>>, String> {
    let raw: BTreeMap<MedClass, Vec<String>> = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut seen: HashMap<String, MedClass> = HashMap::new();
    let mut out = BTreeMap::new();
    for (class, list) in raw {
        let mut names = Vec::new();
        for n in list {
            let n = n.trim().to_lowercase();
            if let Some(other) = seen.insert(n.clone(), class) {
                return Err(format!(
                    "medication '{n}' is listed as both {other} and {class}"
                ));
            }
            names.push(n);
        }
        out.insert(class, names);
    }
    Ok(out)
}

/// One stretch of time a medication stood on the patient's list: from the version of their
/// details that first listed it to the version that no longer did (`until`), if any. A
/// medication taken off and listed again later has a second stretch (`ordinal` 1, 2, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// As written when first listed.
    pub name: String,
    pub class: Option<MedClass>,
    pub from: DateTime<FixedOffset>,
    pub until: Option<DateTime<FixedOffset>>,
    /// 0 for the first stretch of this medication, 1 for the next, ...
    pub ordinal: u32,
}

impl Listed {
    /// The medication as compared across versions: lower case, spaces collapsed.
    pub fn key(&self) -> String {
        same_medication(&self.name)
    }
}

/// How two versions of the list are compared: "Clonazepam  0.5 mg" and "clonazepam 0.5 mg"
/// are one medication; a changed dose is a new line, as the clinician wrote it.
fn same_medication(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The stretches of a patient's medication list, from the versions of their details
/// (oldest first: when recorded, the list as it then stood), in the order first listed.
pub fn listing(versions: &[(DateTime<FixedOffset>, Vec<String>)]) -> Vec<Listed> {
    let mut out: Vec<Listed> = Vec::new();
    // Index into `out` of each medication's open stretch.
    let mut open: HashMap<String, usize> = HashMap::new();
    let mut stretches: HashMap<String, u32> = HashMap::new();
    for (at, list) in versions {
        let now: Vec<String> = list.iter().map(|m| same_medication(m)).collect();
        for (key, i) in open.clone() {
            if !now.contains(&key) {
                out[i].until = Some(*at);
                open.remove(&key);
            }
        }
        for (name, key) in list.iter().zip(now) {
            if open.contains_key(&key) {
                continue;
            }
            let n = stretches.entry(key.clone()).or_insert(0);
            open.insert(key, out.len());
            out.push(Listed {
                name: name.clone(),
                class: classify(name),
                from: *at,
                until: None,
                ordinal: *n,
            });
            *n += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_list_covers_every_class() {
        let names = names();
        for class in MedClass::ALL {
            assert!(
                names.get(&class).is_some_and(|n| !n.is_empty()),
                "{class} has no names"
            );
        }
    }

    #[test]
    fn the_names_from_the_brief_are_classified() {
        use MedClass::*;
        let want: [(MedClass, &[&str]); 6] = [
            (
                Benzodiazepine,
                &[
                    "alprazolam",
                    "clonazepam",
                    "diazepam",
                    "lorazepam",
                    "temazepam",
                    "midazolam",
                ],
            ),
            (SedativeHypnotic, &["zolpidem", "zaleplon", "eszopiclone"]),
            (
                Psychostimulant,
                &[
                    "amphetamine",
                    "dextroamphetamine",
                    "lisdexamfetamine",
                    "methylphenidate",
                    "dexmethylphenidate",
                    "modafinil",
                    "armodafinil",
                ],
            ),
            (
                Maoi,
                &[
                    "phenelzine",
                    "tranylcypromine",
                    "isocarboxazid",
                    "selegiline",
                ],
            ),
            (
                Opioid,
                &[
                    "oxycodone",
                    "hydrocodone",
                    "morphine",
                    "fentanyl",
                    "hydromorphone",
                    "tramadol",
                    "methadone",
                    "buprenorphine",
                    "codeine",
                    "tapentadol",
                ],
            ),
            (Lamotrigine, &["lamotrigine"]),
        ];
        for (class, list) in want {
            for name in list {
                assert_eq!(classify(name), Some(class), "{name}");
            }
        }
    }

    #[test]
    fn case_dose_text_and_brands() {
        use MedClass::*;
        assert_eq!(classify("Clonazepam 0.5 mg at night"), Some(Benzodiazepine));
        assert_eq!(classify("  ZOLPIDEM 10mg qhs"), Some(SedativeHypnotic));
        assert_eq!(classify("Adderall XR 20 mg"), Some(Psychostimulant));
        assert_eq!(classify("oxycodone/acetaminophen 5/325"), Some(Opioid));
        assert_eq!(classify("Lamictal, 100 mg bid"), Some(Lamotrigine));
        assert_eq!(classify("Emsam patch"), Some(Maoi));
    }

    #[test]
    fn unknown_names_have_no_class() {
        assert_eq!(classify("sertraline 50 mg"), None);
        assert_eq!(classify("lisinopril"), None);
        assert_eq!(classify(""), None);
        assert_eq!(classify("   "), None);
        assert_eq!(classify("0.5 mg clonazepam"), None);
        // A name is a whole word, not a prefix.
        assert_eq!(classify("clonaz"), None);
        assert_eq!(classify("morphinex"), None);
    }

    #[test]
    fn a_medication_keeps_what_was_typed() {
        let m = Medication::new("Clonazepam 0.5 mg at night");
        assert_eq!(m.name, "Clonazepam 0.5 mg at night");
        assert_eq!(m.class, Some(MedClass::Benzodiazepine));
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(
            json,
            r#"{"name":"Clonazepam 0.5 mg at night","class":"benzodiazepine"}"#
        );
        assert_eq!(serde_json::from_str::<Medication>(&json).unwrap(), m);
        let unknown = Medication::new("sertraline");
        assert_eq!(
            serde_json::to_string(&unknown).unwrap(),
            r#"{"name":"sertraline"}"#
        );
        assert_eq!(
            serde_json::from_str::<Medication>(r#"{"name":"sertraline"}"#).unwrap(),
            unknown
        );
    }

    #[test]
    fn labels_and_reasons_read_plainly() {
        assert_eq!(
            MedClass::SedativeHypnotic.to_string(),
            "non-benzodiazepine sedative hypnotic"
        );
        assert_eq!(MedClass::Maoi.label(), "MAOI");
        assert!(
            MedClass::Benzodiazepine
                .why_it_matters()
                .contains("sedation")
        );
        assert!(
            MedClass::Psychostimulant
                .why_it_matters()
                .contains("blood pressure")
        );
        assert!(MedClass::Maoi.why_it_matters().contains("blood pressure"));
        assert!(
            MedClass::Opioid
                .why_it_matters()
                .contains("respiratory depression")
        );
        assert!(
            MedClass::Lamotrigine
                .why_it_matters()
                .starts_with("reported")
        );
    }

    #[test]
    fn a_bad_table_is_refused() {
        let err = parse("opioid = [\"tramadol\"]\nmaoi = [\"Tramadol\"]\n").unwrap_err();
        assert!(
            err.contains("'tramadol'") && err.contains("MAOI") && err.contains("opioid"),
            "{err}"
        );
        let err = parse("antidepressant = [\"sertraline\"]\n").unwrap_err();
        assert!(err.contains("antidepressant"), "{err}");
    }

    #[test]
    fn a_listing_has_a_stretch_per_time_a_medication_stood_on_the_list() {
        let at = |h: u32| {
            chrono::DateTime::parse_from_rfc3339(&format!("2026-11-0{h}T10:00:00+00:00")).unwrap()
        };
        let v = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let versions = vec![
            (at(1), v(&["Clonazepam 0.5 mg", "sertraline 50 mg"])),
            // Same medication written with other spacing and case: still the one stretch.
            (at(2), v(&["clonazepam  0.5 MG", "sertraline 50 mg"])),
            (at(3), v(&["sertraline 50 mg"])),
            (at(4), v(&["sertraline 50 mg", "clonazepam 0.5 mg"])),
        ];
        let l = listing(&versions);
        let shown: Vec<(String, u32, bool, bool)> = l
            .iter()
            .map(|x| (x.key(), x.ordinal, x.from == at(1), x.until.is_some()))
            .collect();
        assert_eq!(
            shown,
            vec![
                ("clonazepam 0.5 mg".to_string(), 0, true, true),
                ("sertraline 50 mg".to_string(), 0, true, false),
                ("clonazepam 0.5 mg".to_string(), 1, false, false),
            ]
        );
        assert_eq!(l[0].until, Some(at(3)));
        assert_eq!(l[0].name, "Clonazepam 0.5 mg");
        assert_eq!(l[0].class, Some(MedClass::Benzodiazepine));
        assert_eq!(l[2].from, at(4));
        assert!(listing(&[]).is_empty());
    }
}
