//! The scales the item-by-item form (F2 on the live screen) charts: the outcome
//! questionnaires, and the CADSS-6 dissociation score of an esketamine session. Each is
//! charted as its quick-entry line, so the form and the entry bar cannot disagree.

use super::measures::{Instrument, MeasureRules};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormScale {
    Measure(Instrument),
    /// CADSS-6: six items, each 0 to `[measures] cadss6_item_max` (clinical.md section 3).
    Cadss6,
}

impl FormScale {
    /// In the order the form offers them (← / →).
    pub const ALL: [FormScale; 4] = [
        FormScale::Measure(Instrument::Phq9),
        FormScale::Measure(Instrument::Gad7),
        FormScale::Measure(Instrument::Pcl5),
        FormScale::Cadss6,
    ];

    /// The quick-entry keyword the answers are charted with.
    pub fn keyword(self) -> &'static str {
        match self {
            FormScale::Measure(i) => i.keyword(),
            FormScale::Cadss6 => "cadss",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FormScale::Measure(i) => i.name(),
            FormScale::Cadss6 => "CADSS-6",
        }
    }

    pub fn item_count(self) -> usize {
        match self {
            FormScale::Measure(i) => i.item_count(),
            FormScale::Cadss6 => 6,
        }
    }

    /// The highest answer to one item (the lowest is 0).
    pub fn max_item(self, rules: &MeasureRules) -> u8 {
        match self {
            FormScale::Measure(i) => i.max_item(),
            FormScale::Cadss6 => rules.cadss6_item_max,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cadss6_is_offered_with_the_clinics_item_maximum() {
        let rules = MeasureRules {
            cadss6_item_max: 3,
            ..MeasureRules::default()
        };
        assert_eq!(FormScale::ALL[3].keyword(), "cadss");
        assert_eq!(FormScale::Cadss6.item_count(), 6);
        assert_eq!(FormScale::Cadss6.max_item(&rules), 3);
        assert_eq!(FormScale::Measure(Instrument::Gad7).max_item(&rules), 3);
        assert_eq!(FormScale::Measure(Instrument::Pcl5).max_item(&rules), 4);
    }
}
