//! Tests of measures.rs.

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
    let at31 = MeasureRules {
        pcl5_cutoff: 31,
        ..MeasureRules::default()
    };
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
        band_boundaries(
            Instrument::Pcl5,
            &MeasureRules {
                pcl5_cutoff: 31,
                ..MeasureRules::default()
            }
        ),
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
    // The message's bounds are the rule's: 1 and 80 load, 0 and 81 do not.
    for edge in [1, 80] {
        let ok: MeasureRules = toml::from_str(&format!("pcl5_cutoff = {edge}")).unwrap();
        assert_eq!(ok.pcl5_cutoff, edge);
    }
    assert!(toml::from_str::<MeasureRules>("pcl5_cutoff = 0").is_err());
    // What a table leaves out is the shipped rule, not some other number.
    assert_eq!(
        toml::from_str::<MeasureRules>("pcl5_cutoff = 31").unwrap(),
        MeasureRules {
            pcl5_cutoff: 31,
            ..rules()
        }
    );
    // A CADSS-6 item runs 0 to at most 10 (4 in the reference).
    for bad in [0, 11] {
        let err =
            toml::from_str::<MeasureRules>(&format!("pcl5_cutoff = 33\ncadss6_item_max = {bad}"))
                .unwrap_err()
                .to_string();
        assert!(err.contains("between 1 and 10"), "{err}");
    }
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
    let phq = |item9| score(Instrument::Phq9, &[0, 0, 0, 0, 0, 0, 0, 0, item9], &rules()).unwrap();
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
fn a_change_is_read_by_its_published_meaning() {
    use Instrument::*;
    let trend = |instrument, first: u16, latest: u16| Trend {
        instrument,
        points: Vec::new(),
        baseline: Some(first),
        latest: Some(latest),
        change: Some(i32::from(latest) - i32::from(first)),
    };
    let r = rules();
    let meaning = |i, a, b| change_meaning(&trend(i, a, b), &r);
    // PCL-5: 10 points either way.
    assert_eq!(
        meaning(Pcl5, 52, 30).as_deref(),
        Some("clinically meaningful")
    );
    assert_eq!(
        meaning(Pcl5, 30, 40).as_deref(),
        Some("clinically meaningful")
    );
    assert_eq!(meaning(Pcl5, 40, 31), None);
    // PHQ-9: 5 points; a fall of half is a response; from 5 or more to below 5, remission.
    assert_eq!(meaning(Phq9, 14, 10), None);
    assert_eq!(
        meaning(Phq9, 14, 9).as_deref(),
        Some("clinically meaningful")
    );
    assert_eq!(
        meaning(Phq9, 14, 7).as_deref(),
        Some("clinically meaningful, response (50%+ lower)")
    );
    assert_eq!(
        meaning(Phq9, 14, 4).as_deref(),
        Some("clinically meaningful, response (50%+ lower), remission (below 5)")
    );
    assert_eq!(
        meaning(Phq9, 6, 3).as_deref(),
        Some("response (50%+ lower), remission (below 5)")
    );
    assert_eq!(
        meaning(Phq9, 4, 1).as_deref(),
        Some("response (50%+ lower)"),
        "already below 5: a response, no remission to reach"
    );
    assert_eq!(
        meaning(Phq9, 8, 14).as_deref(),
        Some("clinically meaningful"),
        "worse by 6"
    );
    // GAD-7: 4 points.
    assert_eq!(meaning(Gad7, 12, 9), None);
    assert_eq!(
        meaning(Gad7, 12, 8).as_deref(),
        Some("clinically meaningful")
    );
    // A clinic's own levels.
    let strict = MeasureRules {
        phq9_meaningful_change: 6,
        ..MeasureRules::default()
    };
    assert_eq!(change_meaning(&trend(Phq9, 14, 9), &strict), None);
}

#[test]
fn safety_episodes_run_from_the_raising_phq9_to_the_clearing_assessment() {
    let lines = chart_lines(vec![
        phq9(1, 2, at(26, 10, 5)),
        // Restated by a later PHQ-9 within the same episode.
        phq9(2, 1, at(26, 11, 0)),
        risk(3, at(26, 11, 30)),
        // An assessment with no flag standing clears nothing.
        risk(4, at(27, 9, 0)),
        phq9(5, 3, at(28, 14, 0)),
    ]);
    let episodes = safety_episodes(&lines);
    let shown: Vec<(EntryId, EntryId, Option<EntryId>)> = episodes
        .iter()
        .map(|e| {
            (
                e.raised.measure_entry,
                e.latest.measure_entry,
                e.cleared.map(|c| c.0),
            )
        })
        .collect();
    assert_eq!(shown, vec![(1, 2, Some(3)), (5, 5, None)]);
    assert_eq!(episodes[0].cleared.map(|c| c.1), Some(at(26, 11, 30)));
    // The open flag is the open episode's latest PHQ-9.
    assert_eq!(safety_flag(&lines).map(|f| f.measure_entry), Some(5));
}
