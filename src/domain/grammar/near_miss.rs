//! A slip on a keyword is not a note. `bpp 120/80` charted as free text would leave a blood
//! pressure out of the flowsheet and out of every alert, so a line whose first word is one
//! edit (a letter added, dropped, changed, or two letters swapped) away from a keyword is
//! refused with the line it probably meant. `obs ...` always charts text as written.
//!
//! Many ordinary words are one edit from a short keyword ("he" from `hr`, "sitting" from
//! `setting`, "content" from `consent`), so a word counts as a slip only when what follows
//! it fits the keyword:
//! - a measurement or score (`bp hr pulse spo2 rr temp moaas cadss phq9 gad7 pcl5`): a number
//!   follows (`bpp 120/80`, `sp02 97`, `moass 3`);
//! - `dose`: a known drug follows (`dos ketamine 35mg IM`);
//! - `screen`: a screening item follows (`sceen psychosis no`);
//! - `eligibility`, `risk-assessment`, `cssrs`, `intention`: always, as no ordinary word
//!   sits one edit from them.
//!
//! `obs`, `setting` and `consent` are left out: their neighbours ("ob", "sitting",
//! "settling", "content") start ordinary notes.

use super::doses::match_drug;
use super::error::GrammarError;
use super::tokens::{Cursor, Token, keyword_example};

/// Keywords whose value is a number.
const NUMERIC: &[&str] = &[
    "bp", "hr", "pulse", "spo2", "rr", "temp", "moaas", "cadss", "phq9", "gad7", "pcl5",
];
/// Keywords with no ordinary word one edit away.
const ALWAYS: &[&str] = &["eligibility", "risk-assessment", "cssrs", "intention"];

/// Refuses `head` (the first word of a line that is not a keyword) when it is a slip on a
/// keyword, suggesting the line with the keyword spelt right.
pub(super) fn check(
    head: Token<'_>,
    cur: &Cursor<'_>,
    drugs: &[String],
) -> Result<(), GrammarError> {
    let word = head.lower();
    let next = cur.peek_at(1);
    let fits = |kw: &str| -> bool {
        if NUMERIC.contains(&kw) {
            next.is_some_and(|t| t.text.starts_with(|c: char| c.is_ascii_digit()))
        } else if kw == "dose" {
            let after = Cursor {
                line: cur.line,
                tokens: cur.tokens.clone(),
                pos: cur.pos + 1,
            };
            match_drug(&after, drugs).is_some()
        } else if kw == "screen" {
            next.is_some_and(|t| super::course::is_screening_item(&t.lower()))
        } else {
            ALWAYS.contains(&kw)
        }
    };
    let Some(kw) = NUMERIC
        .iter()
        .chain(["dose", "screen"].iter())
        .chain(ALWAYS.iter())
        .copied()
        .find(|kw| one_edit_apart(&word, kw) && fits(kw))
    else {
        return Ok(());
    };
    let rest = cur
        .line
        .get(head.start + head.text.len()..)
        .unwrap_or("")
        .trim();
    Err(GrammarError {
        token: head.text.to_string(),
        span: head.span(),
        message: format!(
            "Not a keyword; did you mean `{kw} {rest}`? To chart this text as written, start it with obs"
        ),
        example: keyword_example(kw),
    })
}

/// True when `a` becomes `b` by one insertion, deletion, substitution, or swap of two
/// neighbouring characters (and `a` is not `b`).
pub(super) fn one_edit_apart(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a == b {
        return false;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[prefix..], &b[prefix..]);
    match a.len() as isize - b.len() as isize {
        0 => a[1..] == b[1..] || (a.len() >= 2 && a[0] == b[1] && a[1] == b[0] && a[2..] == b[2..]),
        1 => a[1..] == *b,
        -1 => *a == b[1..],
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::one_edit_apart;

    #[test]
    fn one_edit_is_one_letter_added_dropped_changed_or_swapped() {
        assert!(one_edit_apart("bpp", "bp"));
        assert!(one_edit_apart("b", "bp"));
        assert!(one_edit_apart("sp02", "spo2"));
        assert!(one_edit_apart("moass", "moaas"));
        assert!(one_edit_apart("dsoe", "dose"));
        assert!(!one_edit_apart("bp", "bp"));
        assert!(!one_edit_apart("pb", "hr"));
        assert!(!one_edit_apart("temperature", "temp"));
        assert!(!one_edit_apart("sdoe", "dose"));
    }
}
