//! Who wrote each entry: a short label for the timeline's author column (3 columns, so
//! 80x24 still fits), and the full name in the selected entry's detail line. Every entry
//! is authenticated by its author (CMS 482.24(c)(1), clinical.md section 5); with several
//! clinicians in one session, two people must never share a label.

use crate::domain::ChartLine;
use std::collections::HashMap;

/// The first letter of each word of a name ("Dr. Mara Quinn" → "DMQ"), at most three.
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().find(|c| c.is_alphabetic()))
        .take(3)
        .collect()
}

/// A label per author, different for different people: their initials, or, where two
/// share initials, the first two of them and a number in order of first appearance
/// ("MQ1", "MQ2").
pub fn labels<'a>(authors: impl IntoIterator<Item = &'a str>) -> HashMap<&'a str, String> {
    let mut names: Vec<&str> = Vec::new();
    for a in authors {
        if !names.contains(&a) {
            names.push(a);
        }
    }
    let mut out = HashMap::new();
    for name in &names {
        let mine = initials(name);
        let sharing: Vec<&&str> = names.iter().filter(|n| initials(n) == mine).collect();
        let label = if sharing.len() > 1 {
            let n = sharing.iter().position(|n| *n == name).unwrap_or(0) + 1;
            format!("{}{n}", mine.chars().take(2).collect::<String>())
        } else {
            mine
        };
        out.insert(*name, label);
    }
    out
}

/// The selected entry's detail: its id, who wrote it (full name) and when it was written.
pub fn detail(line: &ChartLine) -> String {
    let e = &line.entry;
    format!(
        " #{} by {} · written {}",
        e.id,
        e.author,
        e.recorded_time.format("%H:%M")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_who_share_initials_get_different_labels() {
        let l = labels(["Mara Quinn", "Sam Okafor", "Mara Quinn", "Max Quist"]);
        assert_eq!(l["Sam Okafor"], "SO");
        assert_eq!(l["Mara Quinn"], "MQ1");
        assert_eq!(l["Max Quist"], "MQ2");
        assert_eq!(l.len(), 3);
    }

    #[test]
    fn a_label_fits_the_column() {
        let l = labels(["Dr. Ana María de la Cruz", "Jo"]);
        assert_eq!(l["Dr. Ana María de la Cruz"], "DAM");
        assert_eq!(l["Jo"], "J");
        assert!(l.values().all(|v| v.chars().count() <= 3));
    }
}
