//! Outcome measures: PHQ-9, GAD-7 and PCL-5, answered item by item, scored and banded
//! (bands and sources in clinical.md section 4).

use super::{ChartLine, EntryId, EntryStatus, Payload};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A self-report questionnaire kapchart scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Instrument {
    /// Patient Health Questionnaire-9 (depression), Kroenke 2001.
    Phq9,
    /// Generalized Anxiety Disorder-7, Spitzer 2006.
    Gad7,
    /// PTSD Checklist for DSM-5.
    Pcl5,
}

impl Instrument {
    pub const ALL: [Instrument; 3] = [Instrument::Phq9, Instrument::Gad7, Instrument::Pcl5];

    /// The keyword typed in the quick-entry bar and the CLI: phq9, gad7, pcl5.
    pub fn keyword(self) -> &'static str {
        match self {
            Instrument::Phq9 => "phq9",
            Instrument::Gad7 => "gad7",
            Instrument::Pcl5 => "pcl5",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Instrument::Phq9 => "PHQ-9",
            Instrument::Gad7 => "GAD-7",
            Instrument::Pcl5 => "PCL-5",
        }
    }
}

impl fmt::Display for Instrument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One completed questionnaire: the answers as given, the total and its severity band.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureResponse {
    pub instrument: Instrument,
    pub items: Vec<u8>,
    pub total: u16,
    pub band: String,
}

impl Instrument {
    /// How many items the questionnaire has.
    pub fn item_count(self) -> usize {
        match self {
            Instrument::Phq9 => 9,
            Instrument::Gad7 => 7,
            Instrument::Pcl5 => 20,
        }
    }

    /// The highest answer to one item (the lowest is 0): PHQ-9 and GAD-7 0-3, PCL-5 0-4
    /// (clinical.md section 4).
    pub fn max_item(self) -> u8 {
        match self {
            Instrument::Phq9 | Instrument::Gad7 => 3,
            Instrument::Pcl5 => 4,
        }
    }

    /// The highest total: PHQ-9 27, GAD-7 21, PCL-5 80.
    pub fn max_total(self) -> u16 {
        self.item_count() as u16 * u16::from(self.max_item())
    }

    /// A valid answer line as typed in the quick-entry bar, for error messages.
    pub fn example(self) -> &'static str {
        match self {
            Instrument::Phq9 => "phq9 1 2 1 0 3 2 1 0 1",
            Instrument::Gad7 => "gad7 1 2 1 0 3 2 1",
            Instrument::Pcl5 => "pcl5 1 2 1 0 3 2 1 0 1 2 4 1 0 2 1 3 0 1 2 1",
        }
    }
}

/// The configurable parts of scoring, from the `[measures]` table of the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "MeasureRulesToml")]
pub struct MeasureRules {
    /// PCL-5 totals at or above this are "at or above provisional cut-off". The reference
    /// gives a provisional PTSD cut-off of 31-33 (clinical.md section 4); default 33.
    pub pcl5_cutoff: u16,
    /// A PCL-5 change of this many points either way is clinically meaningful (clinical.md
    /// section 4: a change of 10+).
    pub pcl5_meaningful_change: u16,
    /// A PHQ-9 change of this many points either way is clinically meaningful (Löwe et al.,
    /// Med Care 2004;42:1194, "Monitoring depression treatment outcomes with the PHQ-9": 5
    /// points; unconfirmed here, see assets/config.toml).
    pub phq9_meaningful_change: u16,
    /// A PHQ-9 at least this many percent below its first score is a response (50%, the
    /// usual definition in depression trials; unconfirmed here).
    pub phq9_response_percent: u16,
    /// A PHQ-9 below this, down from at or above it, is a remission (below 5, the top of the
    /// "minimal" band of Kroenke 2001).
    pub phq9_remission_below: u16,
    /// A GAD-7 change of this many points either way is clinically meaningful (Toussaint et
    /// al., J Affect Disord 2020;265:395: 4 points; unconfirmed here).
    pub gad7_meaningful_change: u16,
    /// The highest score of one CADSS-6 item. The reference scores each item 0-4 and marks
    /// that unconfirmed (clinical.md section 3): a clinic that scores otherwise sets it.
    pub cadss6_item_max: u8,
}

impl Default for MeasureRules {
    fn default() -> Self {
        MeasureRules {
            pcl5_cutoff: 33,
            pcl5_meaningful_change: 10,
            phq9_meaningful_change: 5,
            phq9_response_percent: 50,
            phq9_remission_below: 5,
            gad7_meaningful_change: 4,
            cadss6_item_max: 4,
        }
    }
}

fn default_cadss6_item_max() -> u8 {
    MeasureRules::default().cadss6_item_max
}

/// The `[measures]` table as written, before it is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MeasureRulesToml {
    pcl5_cutoff: u16,
    #[serde(default = "defaults::pcl5_meaningful_change")]
    pcl5_meaningful_change: u16,
    #[serde(default = "defaults::phq9_meaningful_change")]
    phq9_meaningful_change: u16,
    #[serde(default = "defaults::phq9_response_percent")]
    phq9_response_percent: u16,
    #[serde(default = "defaults::phq9_remission_below")]
    phq9_remission_below: u16,
    #[serde(default = "defaults::gad7_meaningful_change")]
    gad7_meaningful_change: u16,
    #[serde(default = "default_cadss6_item_max")]
    cadss6_item_max: u8,
}

/// The change thresholds a `[measures]` table may leave out (the shipped config has them).
mod defaults {
    use super::MeasureRules;
    pub fn pcl5_meaningful_change() -> u16 {
        MeasureRules::default().pcl5_meaningful_change
    }
    pub fn phq9_meaningful_change() -> u16 {
        MeasureRules::default().phq9_meaningful_change
    }
    pub fn phq9_response_percent() -> u16 {
        MeasureRules::default().phq9_response_percent
    }
    pub fn phq9_remission_below() -> u16 {
        MeasureRules::default().phq9_remission_below
    }
    pub fn gad7_meaningful_change() -> u16 {
        MeasureRules::default().gad7_meaningful_change
    }
}

impl TryFrom<MeasureRulesToml> for MeasureRules {
    type Error = String;
    fn try_from(t: MeasureRulesToml) -> Result<Self, Self::Error> {
        let max = Instrument::Pcl5.max_total();
        if t.pcl5_cutoff == 0 || t.pcl5_cutoff > max {
            return Err(format!(
                "measures pcl5_cutoff {} must be between 1 and {max} (the PCL-5 total runs 0-{max})",
                t.pcl5_cutoff
            ));
        }
        t.check_cadss6()?;
        if t.phq9_response_percent == 0 || t.phq9_response_percent > 100 {
            return Err(format!(
                "measures phq9_response_percent {} must be between 1 and 100",
                t.phq9_response_percent
            ));
        }
        for (name, v, max) in [
            ("pcl5_meaningful_change", t.pcl5_meaningful_change, max),
            (
                "phq9_meaningful_change",
                t.phq9_meaningful_change,
                Instrument::Phq9.max_total(),
            ),
            (
                "phq9_remission_below",
                t.phq9_remission_below,
                Instrument::Phq9.max_total(),
            ),
            (
                "gad7_meaningful_change",
                t.gad7_meaningful_change,
                Instrument::Gad7.max_total(),
            ),
        ] {
            if v == 0 || v > max {
                return Err(format!("measures {name} {v} must be between 1 and {max}"));
            }
        }
        Ok(MeasureRules {
            pcl5_cutoff: t.pcl5_cutoff,
            pcl5_meaningful_change: t.pcl5_meaningful_change,
            phq9_meaningful_change: t.phq9_meaningful_change,
            phq9_response_percent: t.phq9_response_percent,
            phq9_remission_below: t.phq9_remission_below,
            gad7_meaningful_change: t.gad7_meaningful_change,
            cadss6_item_max: t.cadss6_item_max,
        })
    }
}

impl MeasureRulesToml {
    fn check_cadss6(&self) -> Result<(), String> {
        if self.cadss6_item_max == 0 || self.cadss6_item_max > 10 {
            return Err(format!(
                "measures cadss6_item_max {} must be between 1 and 10 (each CADSS-6 item is \
                 scored from 0 to it; 4 in the reference)",
                self.cadss6_item_max
            ));
        }
        Ok(())
    }
}

/// Scores a questionnaire: checks the number of answers and each answer's range, adds them
/// up and names the band. The messages say what was expected, for the clinician to retype.
pub fn score(
    instrument: Instrument,
    items: &[u8],
    rules: &MeasureRules,
) -> Result<MeasureResponse, String> {
    let (count, max) = (instrument.item_count(), instrument.max_item());
    if items.len() != count {
        let got = match items.len() {
            1 => "1 answer".to_string(),
            n => format!("{n} answers"),
        };
        return Err(format!(
            "{instrument} has {count} items, each 0-{max}; got {got} (e.g. {})",
            instrument.example()
        ));
    }
    if let Some((i, v)) = items.iter().enumerate().find(|(_, v)| **v > max) {
        return Err(format!(
            "{instrument} item {} is {v}; answers run from 0 to {max}",
            i + 1
        ));
    }
    let total = items.iter().map(|&v| u16::from(v)).sum();
    Ok(MeasureResponse {
        instrument,
        items: items.to_vec(),
        total,
        band: band(instrument, total, rules).to_string(),
    })
}

/// The severity band of a total (a total above the range falls in the top band).
/// - PHQ-9: 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately severe, 20-27 severe
///   (Kroenke, Spitzer & Williams 2001).
/// - GAD-7: 0-4 minimal, 5-9 mild, 10-14 moderate, 15-21 severe (Spitzer et al. 2006).
/// - PCL-5: no severity bands in the reference; below or at/above the provisional PTSD
///   cut-off (31-33 in the reference; `rules.pcl5_cutoff`).
pub fn band(instrument: Instrument, total: u16, rules: &MeasureRules) -> &'static str {
    band_boundaries(instrument, rules)
        .into_iter()
        .rev()
        .find(|(lower, _)| total >= *lower)
        .map_or("", |(_, name)| name)
}

/// The lower bound of each band, lowest first (the first is always 0): for drawing the bands
/// on a trend chart. Sources as for [`band`].
pub fn band_boundaries(instrument: Instrument, rules: &MeasureRules) -> Vec<(u16, &'static str)> {
    match instrument {
        // Kroenke K, Spitzer RL, Williams JBW. The PHQ-9. J Gen Intern Med 2001.
        Instrument::Phq9 => vec![
            (0, "minimal"),
            (5, "mild"),
            (10, "moderate"),
            (15, "moderately severe"),
            (20, "severe"),
        ],
        // Spitzer RL, Kroenke K, Williams JBW, Löwe B. The GAD-7. Arch Intern Med 2006.
        Instrument::Gad7 => vec![
            (0, "minimal"),
            (5, "mild"),
            (10, "moderate"),
            (15, "severe"),
        ],
        // clinical.md section 4: provisional PTSD cut-off 31-33; no severity bands.
        Instrument::Pcl5 => vec![
            (0, "below provisional cut-off"),
            (rules.pcl5_cutoff, "at or above provisional cut-off"),
        ],
    }
}

/// PCL-5 cluster subtotals (clinical.md section 4): B intrusion items 1-5, C avoidance 6-7,
/// D negative alterations in cognition and mood 8-14, E arousal and reactivity 15-20.
/// None unless there are exactly 20 answers.
pub fn pcl5_clusters(items: &[u8]) -> Option<[(char, u16); 4]> {
    if items.len() != Instrument::Pcl5.item_count() {
        return None;
    }
    let sum = |r: std::ops::Range<usize>| items[r].iter().map(|&v| u16::from(v)).sum::<u16>();
    Some([
        ('B', sum(0..5)),
        ('C', sum(5..7)),
        ('D', sum(7..14)),
        ('E', sum(14..20)),
    ])
}

/// PHQ-9 item 9 (thoughts of being better off dead or of self-harm) answered above 0: a
/// structured suicide risk assessment (e.g. C-SSRS) is called for, whatever the total. One-year
/// suicide-attempt risk rose from 0.4% ("not at all") to 4% ("nearly every day") (Simon et al.,
/// Psychiatric Services 2013; clinical.md section 4).
pub fn needs_risk_assessment(m: &MeasureResponse) -> bool {
    m.instrument == Instrument::Phq9 && m.items.get(8).is_some_and(|&v| v > 0)
}

/// Whether an entry with this payload bears on the patient's safety flag: a questionnaire
/// that raises it or a risk assessment that clears it (the only entries [`safety_flag`]
/// reads). Every write that may have moved the flag reads it again through here.
pub fn bears_on_safety(payload: &Payload) -> bool {
    match payload {
        Payload::Measure(m) => needs_risk_assessment(m),
        Payload::RiskAssessment(_) => true,
        _ => false,
    }
}

/// An open PHQ-9 item 9 safety flag: which questionnaire raised it, when, and the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafetyFlag {
    pub measure_entry: EntryId,
    pub at: DateTime<FixedOffset>,
    pub item9: u8,
}

impl fmt::Display for SafetyFlag {
    /// "PHQ-9 item 9 answered 2 on 26 Nov 10:05: structured suicide risk assessment needed"
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PHQ-9 item 9 answered {} on {}: structured suicide risk assessment needed",
            self.item9,
            self.at.format("%-d %b %H:%M")
        )
    }
}

/// One stretch of time the patient's safety flag stood: from the PHQ-9 that raised it
/// (`raised`), restated by any later one (`latest`), until the risk assessment that cleared
/// it (`cleared`: its entry and time), if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SafetyEpisode {
    pub raised: SafetyFlag,
    pub latest: SafetyFlag,
    pub cleared: Option<(EntryId, DateTime<FixedOffset>)>,
}

/// Every stretch of the patient's PHQ-9 item 9 safety flag, oldest first. `lines` are all
/// of the patient's chart lines across sessions, current and historic, in any order.
///
/// The flag is raised by a current PHQ-9 whose item 9 is above 0, and cleared by a current
/// risk assessment entry whose event time is at or after that PHQ-9's. A later PHQ-9 with
/// item 9 at 0 does not clear it: only a recorded risk assessment does. Struck and
/// amended-away entries do not count (an amending entry is current and counts).
pub fn safety_episodes(lines: &[ChartLine]) -> Vec<SafetyEpisode> {
    // (time, 0 raises / 1 clears, entry): at one time a PHQ-9 comes before the risk
    // assessment that clears it ("at or after").
    let mut events: Vec<(DateTime<FixedOffset>, u8, EntryId, Option<SafetyFlag>)> = lines
        .iter()
        .filter(|l| l.status == EntryStatus::Current)
        .map(|l| &l.entry)
        .filter_map(|e| match &e.payload {
            Payload::Measure(m) if needs_risk_assessment(m) => Some((
                e.event_time,
                0,
                e.id,
                Some(SafetyFlag {
                    measure_entry: e.id,
                    at: e.event_time,
                    item9: m.items[8],
                }),
            )),
            Payload::RiskAssessment(_) => Some((e.event_time, 1, e.id, None)),
            _ => None,
        })
        .collect();
    events.sort_by_key(|(at, kind, id, _)| (*at, *kind, *id));
    let mut out: Vec<SafetyEpisode> = Vec::new();
    let mut open = false;
    for (at, _, id, flag) in events {
        match (flag, open) {
            (Some(f), true) => {
                if let Some(last) = out.last_mut() {
                    last.latest = f;
                }
            }
            (Some(f), false) => {
                out.push(SafetyEpisode {
                    raised: f,
                    latest: f,
                    cleared: None,
                });
                open = true;
            }
            (None, true) => {
                if let Some(last) = out.last_mut() {
                    last.cleared = Some((id, at));
                }
                open = false;
            }
            (None, false) => {}
        }
    }
    out
}

/// The open PHQ-9 item 9 safety flag of one patient, if any: the latest PHQ-9 of the
/// episode that stands uncleared ([`safety_episodes`]).
pub fn safety_flag(lines: &[ChartLine]) -> Option<SafetyFlag> {
    safety_episodes(lines)
        .last()
        .filter(|e| e.cleared.is_none())
        .map(|e| e.latest)
}

/// One instrument's totals over time, with the change from the first (baseline) to the latest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trend {
    pub instrument: Instrument,
    /// (event time, total), in time order.
    pub points: Vec<(DateTime<FixedOffset>, u16)>,
    /// The first total.
    pub baseline: Option<u16>,
    /// The latest total.
    pub latest: Option<u16>,
    /// latest - baseline (negative is a fall in symptoms on all three instruments).
    pub change: Option<i32>,
}

/// One trend per instrument present, in the order of `Instrument::ALL`. Equal times keep the
/// order they were given in.
pub fn trends(measures: &[(DateTime<FixedOffset>, MeasureResponse)]) -> Vec<Trend> {
    Instrument::ALL
        .into_iter()
        .filter_map(|instrument| {
            let mut points: Vec<(DateTime<FixedOffset>, u16)> = measures
                .iter()
                .filter(|(_, m)| m.instrument == instrument)
                .map(|(at, m)| (*at, m.total))
                .collect();
            if points.is_empty() {
                return None;
            }
            points.sort_by_key(|(at, _)| *at);
            let baseline = points.first().map(|p| p.1);
            let latest = points.last().map(|p| p.1);
            let change = baseline
                .zip(latest)
                .map(|(b, l)| i32::from(l) - i32::from(b));
            Some(Trend {
                instrument,
                points,
                baseline,
                latest,
                change,
            })
        })
        .collect()
}

/// What the change from the first score to the latest means, by the published thresholds
/// in `rules` (each configurable, with its source in assets/config.toml): "clinically
/// meaningful" for a change of at least the instrument's threshold either way; for PHQ-9 also
/// "response" for a fall of at least the response percentage and "remission" for a fall from
/// at or above the remission level to below it. None when the change means none of these.
/// kapchart reports the published meaning; the clinician judges.
pub fn change_meaning(t: &Trend, rules: &MeasureRules) -> Option<String> {
    let (first, latest) = (t.baseline?, t.latest?);
    let change = i32::from(latest) - i32::from(first);
    let meaningful = match t.instrument {
        Instrument::Phq9 => rules.phq9_meaningful_change,
        Instrument::Gad7 => rules.gad7_meaningful_change,
        Instrument::Pcl5 => rules.pcl5_meaningful_change,
    };
    let mut said = Vec::new();
    if change.unsigned_abs() >= u32::from(meaningful) {
        said.push("clinically meaningful".to_string());
    }
    if t.instrument == Instrument::Phq9 && first > 0 && latest < first {
        let fall = u32::from(first - latest) * 100;
        if fall >= u32::from(first) * u32::from(rules.phq9_response_percent) {
            said.push(format!(
                "response ({}%+ lower)",
                rules.phq9_response_percent
            ));
        }
        if first >= rules.phq9_remission_below && latest < rules.phq9_remission_below {
            said.push(format!("remission (below {})", rules.phq9_remission_below));
        }
    }
    (!said.is_empty()).then(|| said.join(", "))
}

#[cfg(test)]
mod tests;
