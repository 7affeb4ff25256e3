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
}

impl Default for MeasureRules {
    fn default() -> Self {
        MeasureRules { pcl5_cutoff: 33 }
    }
}

/// The `[measures]` table as written, before it is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MeasureRulesToml {
    pcl5_cutoff: u16,
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
        Ok(MeasureRules {
            pcl5_cutoff: t.pcl5_cutoff,
        })
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

/// The open PHQ-9 item 9 safety flag of one patient, if any. `lines` are all of the patient's
/// chart lines across sessions, current and historic, in any order.
///
/// The flag is raised by the latest current PHQ-9 whose item 9 is above 0, and cleared by a
/// current risk assessment entry whose event time is at or after that PHQ-9's. A later PHQ-9
/// with item 9 at 0 does not clear it: only a recorded risk assessment does. Struck and
/// amended-away entries do not count (an amending entry is current and counts).
pub fn safety_flag(lines: &[ChartLine]) -> Option<SafetyFlag> {
    let current = || {
        lines
            .iter()
            .filter(|l| l.status == EntryStatus::Current)
            .map(|l| &l.entry)
    };
    let raised = current()
        .filter_map(|e| match &e.payload {
            Payload::Measure(m) if needs_risk_assessment(m) => Some(SafetyFlag {
                measure_entry: e.id,
                at: e.event_time,
                item9: m.items[8],
            }),
            _ => None,
        })
        .max_by_key(|f| (f.at, f.measure_entry))?;
    let cleared = current()
        .any(|e| matches!(e.payload, Payload::RiskAssessment(_)) && e.event_time >= raised.at);
    (!cleared).then_some(raised)
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

/// "clinically meaningful" for a PCL-5 change of 10 points or more either way (clinical.md
/// section 4: a change of 10+ is clinically meaningful). None for a smaller PCL-5 change and
/// for other instruments (the reference gives no threshold for them).
pub fn meaningful_change(instrument: Instrument, change: i32) -> Option<&'static str> {
    (instrument == Instrument::Pcl5 && change.abs() >= 10).then_some("clinically meaningful")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::entry::RiskAssessment;
    use crate::domain::{Correction, Entry, chart_lines};
    use chrono::TimeZone;

    fn rules() -> MeasureRules {
        MeasureRules::default()
    }

    fn at(d: u32, h: u32, m: u32) -> DateTime<FixedOffset> {
        FixedOffset::east_opt(3600)
            .unwrap()
            .with_ymd_and_hms(2026, 11, d, h, m, 0)
            .unwrap()
    }

    /// Answers for `instrument` that add up to `total`, filling items from the first.
    fn answers(instrument: Instrument, total: u16) -> Vec<u8> {
        let mut left = total;
        (0..instrument.item_count())
            .map(|_| {
                let v = left.min(u16::from(instrument.max_item()));
                left -= v;
                v as u8
            })
            .collect()
    }

    fn band_of(instrument: Instrument, total: u16) -> String {
        let m = score(instrument, &answers(instrument, total), &rules()).unwrap();
        assert_eq!(m.total, total);
        assert_eq!(m.band, band(instrument, total, &rules()));
        m.band
    }

    #[test]
    fn item_counts_and_ranges() {
        use Instrument::*;
        let got: Vec<_> = Instrument::ALL
            .into_iter()
            .map(|i| (i.item_count(), i.max_item(), i.max_total()))
            .collect();
        assert_eq!(got, [(9, 3, 27), (7, 3, 21), (20, 4, 80)]);
        assert_eq!(Phq9.example().split(' ').count(), 10);
        assert_eq!(Gad7.example().split(' ').count(), 8);
        assert_eq!(Pcl5.example().split(' ').count(), 21);
    }

    #[test]
    fn phq9_bands_at_every_boundary() {
        let want = [
            (0, "minimal"),
            (4, "minimal"),
            (5, "mild"),
            (9, "mild"),
            (10, "moderate"),
            (14, "moderate"),
            (15, "moderately severe"),
            (19, "moderately severe"),
            (20, "severe"),
            (27, "severe"),
        ];
        for (total, name) in want {
            assert_eq!(band_of(Instrument::Phq9, total), name, "PHQ-9 {total}");
        }
    }

    #[test]
    fn gad7_bands_at_every_boundary() {
        let want = [
            (0, "minimal"),
            (4, "minimal"),
            (5, "mild"),
            (9, "mild"),
            (10, "moderate"),
            (14, "moderate"),
            (15, "severe"),
            (21, "severe"),
        ];
        for (total, name) in want {
            assert_eq!(band_of(Instrument::Gad7, total), name, "GAD-7 {total}");
        }
    }

    #[test]
    fn pcl5_bands_at_the_configured_cut_off() {
        let want = [
            (0, "below provisional cut-off"),
            (32, "below provisional cut-off"),
            (33, "at or above provisional cut-off"),
            (80, "at or above provisional cut-off"),
        ];
        for (total, name) in want {
            assert_eq!(band_of(Instrument::Pcl5, total), name, "PCL-5 {total}");
        }
        let at31 = MeasureRules { pcl5_cutoff: 31 };
        assert_eq!(
            band(Instrument::Pcl5, 30, &at31),
            "below provisional cut-off"
        );
        assert_eq!(
            band(Instrument::Pcl5, 31, &at31),
            "at or above provisional cut-off"
        );
    }

    #[test]
    fn band_boundaries_start_at_zero_and_rise() {
        for i in Instrument::ALL {
            let b = band_boundaries(i, &rules());
            assert_eq!(b[0].0, 0, "{i}");
            assert!(b.windows(2).all(|w| w[0].0 < w[1].0), "{i}");
            for (lower, name) in &b {
                assert_eq!(band(i, *lower, &rules()), *name, "{i} {lower}");
            }
        }
        assert_eq!(
            band_boundaries(Instrument::Phq9, &rules())
                .iter()
                .map(|b| b.0)
                .collect::<Vec<_>>(),
            [0, 5, 10, 15, 20]
        );
        assert_eq!(
            band_boundaries(Instrument::Pcl5, &MeasureRules { pcl5_cutoff: 31 }),
            [
                (0, "below provisional cut-off"),
                (31, "at or above provisional cut-off")
            ]
        );
    }

    #[test]
    fn scoring_keeps_the_answers_and_sums_them() {
        let m = score(Instrument::Phq9, &[1, 2, 1, 0, 3, 2, 1, 0, 1], &rules()).unwrap();
        assert_eq!(
            m,
            MeasureResponse {
                instrument: Instrument::Phq9,
                items: vec![1, 2, 1, 0, 3, 2, 1, 0, 1],
                total: 11,
                band: "moderate".into(),
            }
        );
    }

    #[test]
    fn a_wrong_number_of_answers_is_refused_with_an_example() {
        let err = score(Instrument::Phq9, &[1; 8], &rules()).unwrap_err();
        assert_eq!(
            err,
            "PHQ-9 has 9 items, each 0-3; got 8 answers (e.g. phq9 1 2 1 0 3 2 1 0 1)"
        );
        let err = score(Instrument::Gad7, &[1], &rules()).unwrap_err();
        assert!(
            err.starts_with("GAD-7 has 7 items, each 0-3; got 1 answer "),
            "{err}"
        );
        let err = score(Instrument::Pcl5, &[0; 21], &rules()).unwrap_err();
        assert!(
            err.starts_with("PCL-5 has 20 items, each 0-4; got 21 answers"),
            "{err}"
        );
        assert!(score(Instrument::Phq9, &[], &rules()).is_err());
        // The example in the message is itself valid.
        for i in Instrument::ALL {
            let items: Vec<u8> = i
                .example()
                .split(' ')
                .skip(1)
                .map(|s| s.parse().unwrap())
                .collect();
            assert!(score(i, &items, &rules()).is_ok(), "{i}");
        }
    }

    #[test]
    fn an_answer_out_of_range_is_named() {
        let err = score(Instrument::Phq9, &[1, 2, 1, 5, 0, 0, 0, 0, 0], &rules()).unwrap_err();
        assert_eq!(err, "PHQ-9 item 4 is 5; answers run from 0 to 3");
        let err = score(Instrument::Gad7, &[0, 0, 0, 0, 0, 0, 4], &rules()).unwrap_err();
        assert_eq!(err, "GAD-7 item 7 is 4; answers run from 0 to 3");
        let mut pcl = vec![4; 20];
        assert!(score(Instrument::Pcl5, &pcl, &rules()).is_ok());
        pcl[0] = 5;
        let err = score(Instrument::Pcl5, &pcl, &rules()).unwrap_err();
        assert_eq!(err, "PCL-5 item 1 is 5; answers run from 0 to 4");
    }

    #[test]
    fn measure_rules_load_from_config_and_refuse_nonsense() {
        assert_eq!(crate::config::Config::default().measures, rules());
        assert_eq!(rules().pcl5_cutoff, 33);
        let ok: MeasureRules = toml::from_str("pcl5_cutoff = 31").unwrap();
        assert_eq!(ok.pcl5_cutoff, 31);
        let err = toml::from_str::<MeasureRules>("pcl5_cutoff = 81")
            .unwrap_err()
            .to_string();
        assert!(err.contains("between 1 and 80"), "{err}");
        let err = toml::from_str::<MeasureRules>("pcl5_cutof = 31")
            .unwrap_err()
            .to_string();
        assert!(err.contains("pcl5_cutof"), "{err}");
    }

    #[test]
    fn pcl5_clusters_add_up_their_items() {
        let items: Vec<u8> = (1..=20).map(|n| (n % 5) as u8).collect();
        // items 1-5: 1 2 3 4 0; 6-7: 1 2; 8-14: 3 4 0 1 2 3 4; 15-20: 0 1 2 3 4 0
        assert_eq!(
            pcl5_clusters(&items),
            Some([('B', 10), ('C', 3), ('D', 17), ('E', 10)])
        );
        let total: u16 = pcl5_clusters(&items).unwrap().iter().map(|c| c.1).sum();
        assert_eq!(
            total,
            score(Instrument::Pcl5, &items, &rules()).unwrap().total
        );
        assert_eq!(pcl5_clusters(&items[..19]), None);
        assert_eq!(pcl5_clusters(&[0; 9]), None);
    }

    #[test]
    fn item_9_above_zero_needs_a_risk_assessment() {
        let phq =
            |item9| score(Instrument::Phq9, &[0, 0, 0, 0, 0, 0, 0, 0, item9], &rules()).unwrap();
        assert!(!needs_risk_assessment(&phq(0)));
        assert!(needs_risk_assessment(&phq(1)));
        assert!(needs_risk_assessment(&phq(3)));
        // Whatever the total: item 9 alone, total 1, band minimal.
        assert_eq!(phq(1).band, "minimal");
        // GAD-7 has no item 9; PCL-5 item 9 is not the suicide item.
        let gad = score(Instrument::Gad7, &[3; 7], &rules()).unwrap();
        assert!(!needs_risk_assessment(&gad));
        let pcl = score(Instrument::Pcl5, &[2; 20], &rules()).unwrap();
        assert!(!needs_risk_assessment(&pcl));
    }

    fn entry(id: EntryId, session_id: i64, payload: Payload, when: DateTime<FixedOffset>) -> Entry {
        Entry {
            id,
            session_id,
            payload,
            event_time: when,
            recorded_time: when,
            author: "Dr Lee".into(),
            flags: vec![],
            corrects: None,
            correction: None,
            reason: None,
        }
    }

    fn phq9(id: EntryId, item9: u8, when: DateTime<FixedOffset>) -> Entry {
        let m = score(Instrument::Phq9, &[1, 1, 1, 1, 1, 1, 1, 1, item9], &rules()).unwrap();
        entry(id, 1, Payload::Measure(m), when)
    }

    fn risk(id: EntryId, when: DateTime<FixedOffset>) -> Entry {
        let r = RiskAssessment {
            outcome: "C-SSRS screen: passive ideation, no plan; safety plan reviewed".into(),
        };
        entry(id, 1, Payload::RiskAssessment(r), when)
    }

    fn correct(id: EntryId, target: EntryId, how: Correction, payload: Payload) -> Entry {
        Entry {
            corrects: Some(target),
            correction: Some(how),
            reason: Some("wrong patient".into()),
            ..entry(id, 1, payload, at(26, 12, 0))
        }
    }

    fn flag(entries: Vec<Entry>) -> Option<SafetyFlag> {
        safety_flag(&chart_lines(entries))
    }

    #[test]
    fn safety_flag_is_raised_by_item_9_and_reads_plainly() {
        assert_eq!(flag(vec![]), None);
        assert_eq!(flag(vec![phq9(1, 0, at(26, 10, 5))]), None);
        let f = flag(vec![phq9(1, 2, at(26, 10, 5))]).unwrap();
        assert_eq!(
            f,
            SafetyFlag {
                measure_entry: 1,
                at: at(26, 10, 5),
                item9: 2
            }
        );
        assert_eq!(
            f.to_string(),
            "PHQ-9 item 9 answered 2 on 26 Nov 10:05: structured suicide risk assessment needed"
        );
    }

    #[test]
    fn safety_flag_is_cleared_by_a_later_risk_assessment_and_raised_again() {
        let first = phq9(1, 2, at(26, 10, 5));
        // An assessment before the PHQ-9 does not clear it.
        assert!(flag(vec![risk(2, at(26, 9, 0)), first.clone()]).is_some());
        // One at the same minute does; so does one in a later session.
        assert_eq!(flag(vec![first.clone(), risk(2, at(26, 10, 5))]), None);
        let later = Entry {
            session_id: 2,
            ..risk(2, at(27, 9, 0))
        };
        assert_eq!(flag(vec![first.clone(), later]), None);
        // A newer PHQ-9 with item 9 above 0 raises it again.
        let again = flag(vec![
            first.clone(),
            risk(2, at(26, 10, 30)),
            phq9(3, 1, at(28, 14, 0)),
        ])
        .unwrap();
        assert_eq!((again.measure_entry, again.item9), (3, 1));
        // A newer PHQ-9 with item 9 at 0 does not clear an open flag.
        let open = flag(vec![first.clone(), phq9(3, 0, at(28, 14, 0))]).unwrap();
        assert_eq!(open.measure_entry, 1);
        // Input order does not matter.
        let open = flag(vec![phq9(3, 0, at(28, 14, 0)), first]).unwrap();
        assert_eq!(open.measure_entry, 1);
    }

    #[test]
    fn struck_and_amended_away_entries_do_not_count() {
        let first = phq9(1, 2, at(26, 10, 5));
        // A struck risk assessment does not clear.
        let got = flag(vec![
            first.clone(),
            risk(2, at(26, 10, 30)),
            correct(3, 2, Correction::Strike, Payload::Strike),
        ]);
        assert_eq!(got.map(|f| f.measure_entry), Some(1));
        // A struck PHQ-9 raises nothing.
        let got = flag(vec![
            first.clone(),
            correct(2, 1, Correction::Strike, Payload::Strike),
        ]);
        assert_eq!(got, None);
        // An amended PHQ-9 counts as amended: the amending entry decides.
        let fixed = phq9(9, 0, at(26, 10, 5)).payload;
        let got = flag(vec![first.clone(), correct(2, 1, Correction::Amend, fixed)]);
        assert_eq!(got, None);
        let worse = phq9(9, 3, at(26, 10, 5)).payload;
        let got = flag(vec![first, correct(2, 1, Correction::Amend, worse)]).unwrap();
        assert_eq!((got.measure_entry, got.item9), (2, 3));
    }

    #[test]
    fn trends_show_change_from_baseline() {
        let m = |i: Instrument, total: u16| score(i, &answers(i, total), &rules()).unwrap();
        let given = [
            (at(20, 10, 0), m(Instrument::Pcl5, 30)),
            (at(26, 10, 0), m(Instrument::Phq9, 12)),
            (at(12, 10, 0), m(Instrument::Phq9, 19)),
            (at(19, 10, 0), m(Instrument::Phq9, 15)),
            (at(12, 10, 0), m(Instrument::Pcl5, 52)),
        ];
        let got = trends(&given);
        assert_eq!(
            got,
            [
                Trend {
                    instrument: Instrument::Phq9,
                    points: vec![
                        (at(12, 10, 0), 19),
                        (at(19, 10, 0), 15),
                        (at(26, 10, 0), 12)
                    ],
                    baseline: Some(19),
                    latest: Some(12),
                    change: Some(-7),
                },
                Trend {
                    instrument: Instrument::Pcl5,
                    points: vec![(at(12, 10, 0), 52), (at(20, 10, 0), 30)],
                    baseline: Some(52),
                    latest: Some(30),
                    change: Some(-22),
                },
            ]
        );
        assert_eq!(trends(&[]), []);
        let one = trends(&[(at(12, 10, 0), m(Instrument::Gad7, 8))]);
        assert_eq!(
            (one[0].baseline, one[0].latest, one[0].change),
            (Some(8), Some(8), Some(0))
        );
    }

    #[test]
    fn pcl5_change_of_ten_is_clinically_meaningful() {
        use Instrument::*;
        assert_eq!(meaningful_change(Pcl5, -22), Some("clinically meaningful"));
        assert_eq!(meaningful_change(Pcl5, -10), Some("clinically meaningful"));
        assert_eq!(meaningful_change(Pcl5, 10), Some("clinically meaningful"));
        assert_eq!(meaningful_change(Pcl5, -9), None);
        assert_eq!(meaningful_change(Pcl5, 9), None);
        assert_eq!(meaningful_change(Phq9, -15), None);
        assert_eq!(meaningful_change(Gad7, -15), None);
    }
}
