//! Finding entries, notes and addenda by words, as the clinician types them: each typed word
//! begins a word of the text (upper and lower case alike, accents kept: "naus" finds
//! "Nausea", "cafe" does not find "café"), and every typed word is there, in any order. A word
//! is a run of letters and digits: spaces, punctuation, quotes, `*` and every other sign part
//! words and are never operators. The chart answers it from its search index
//! (`store::search_index`, FTS5's unicode61 words); [`Words::matches`] says the same for one
//! text, the meaning those reads are held to, and the live screen's timeline finds its own
//! entries with it.
//!
//! What is searched for an entry is the line the timeline shows for it ([`entry_text`]); for
//! a note, its text as it stands (signed, or its latest draft); for an addendum, its text.

use super::course::NoteId;
use super::{Entry, EntryId, EntryStatus, PatientId, Payload, SessionId, SessionKind};
use chrono::{DateTime, FixedOffset};
use std::ops::Range;

/// The longest text the chart holds that a search looks through: a note (`text::NOTE`).
/// Typed words that together need more letters than that cannot all be in one text.
pub const LONGEST_TEXT: usize = super::text::NOTE.max_chars;

/// What was typed, as a search reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Words {
    /// The words to find, case folded, each once; a word that begins another typed word is
    /// left out (the longer one finds only texts the shorter one finds too). Never empty.
    Find(Vec<String>),
    /// No letter or digit was typed: nothing to look for.
    Empty,
    /// Nothing can match, and why.
    Unmatchable(Unmatchable),
}

/// Why typed text can match nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmatchable {
    /// A control character (an escape, NUL, a line break) or a bidirectional control, which
    /// kapchart refuses in every text it stores.
    Control,
    /// More letters in distinct words than the longest text holds.
    TooLong,
}

impl std::fmt::Display for Unmatchable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unmatchable::Control => f.write_str(
                "the words hold a control character, which no charted text holds; type letters and digits",
            ),
            Unmatchable::TooLong => write!(
                f,
                "the words need more letters than the longest text the chart holds ({LONGEST_TEXT} characters)"
            ),
        }
    }
}

impl Words {
    /// The search for `text` as typed.
    pub fn typed(text: &str) -> Words {
        if text.chars().any(super::text::is_hostile) {
            return Words::Unmatchable(Unmatchable::Control);
        }
        let mut words: Vec<String> = tokens(text).map(|(_, w)| fold(w)).collect();
        if words.is_empty() {
            return Words::Empty;
        }
        words.sort_unstable();
        words.dedup();
        // Sorted, a word that begins another comes right before one that it begins.
        let mut kept: Vec<String> = Vec::with_capacity(words.len());
        for (i, w) in words.iter().enumerate() {
            let begins_next = words
                .get(i + 1)
                .is_some_and(|next| next.starts_with(w.as_str()));
            if !begins_next {
                kept.push(w.clone());
            }
        }
        // Each kept word needs a word of its own in the text (none begins another), and a
        // sign between each two.
        let letters: usize = kept.iter().map(|w| w.chars().count()).sum::<usize>() + kept.len() - 1;
        if letters > LONGEST_TEXT {
            return Words::Unmatchable(Unmatchable::TooLong);
        }
        Words::Find(kept)
    }

    /// The words to find (empty when nothing can match).
    pub fn words(&self) -> &[String] {
        match self {
            Words::Find(w) => w,
            _ => &[],
        }
    }

    /// Whether `text` holds every word: each begins a word of the text.
    pub fn matches(&self, text: &str) -> bool {
        let words = self.words();
        if words.is_empty() {
            return false;
        }
        let found: Vec<String> = tokens(text).map(|(_, w)| fold(w)).collect();
        words
            .iter()
            .all(|w| found.iter().any(|t| t.starts_with(w.as_str())))
    }

    /// Where `text` has a word that one of the words begins: byte ranges of whole words, in
    /// order.
    pub fn marks(&self, text: &str) -> Vec<Range<usize>> {
        let words = self.words();
        tokens(text)
            .filter(|(_, t)| {
                let t = fold(t);
                words.iter().any(|w| t.starts_with(w.as_str()))
            })
            .map(|(r, _)| r)
            .collect()
    }
}

/// The words of `text`: runs of letters and digits, with their byte ranges.
pub fn tokens(text: &str) -> impl Iterator<Item = (Range<usize>, &str)> {
    let mut rest = text.char_indices().peekable();
    std::iter::from_fn(move || {
        let (start, _) = rest.by_ref().find(|(_, c)| c.is_alphanumeric())?;
        let mut end = text.len();
        while let Some(&(i, c)) = rest.peek() {
            if !c.is_alphanumeric() {
                end = i;
                break;
            }
            rest.next();
        }
        Some((start..end, &text[start..end]))
    })
}

/// A word with its case folded, letter by letter, as the index folds it (Unicode's simple
/// case folding: lower case, and the few letters with a second lower-case form folded to the
/// first, so that "ΣΟΦΊΑΣ" finds "Σοφίας"). Letters and digits are what FTS5's unicode61
/// words are made of; in scripts whose vowel signs are marks (Devanagari, Thai) it parts
/// words at the signs where this does not.
pub fn fold(word: &str) -> String {
    word.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'ς' => 'σ',
            'ϐ' => 'β',
            'ϑ' => 'θ',
            'ϕ' => 'φ',
            'ϖ' => 'π',
            'ϰ' => 'κ',
            'ϱ' => 'ρ',
            'ϵ' => 'ε',
            'ſ' => 's',
            other => other,
        })
        .collect()
}

/// The text of an entry as the timeline shows it and the search finds it: its summary, and
/// for a correction what it corrects and why ("strikes #12: wrong patient", "HR 71 (amends
/// #9: typo)").
pub fn entry_text(payload: &Payload, correction: Option<(EntryId, &str)>) -> String {
    let content = payload.to_string();
    match correction {
        Some((target, reason)) if matches!(payload, Payload::Strike) => {
            format!("strikes #{target}: {reason}")
        }
        Some((target, reason)) => format!("{content} (amends #{target}: {reason})"),
        None => content,
    }
}

/// [`entry_text`] of a stored entry.
pub fn line_text(entry: &Entry) -> String {
    let correction = entry.corrects.zip(entry.reason.as_deref());
    entry_text(&entry.payload, correction)
}

/// What a search found: an entry, a note or an addendum, where it is in the chart, and its
/// text.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub found: Found,
    pub patient: PatientId,
    pub patient_name: String,
    pub session: SessionId,
    pub session_kind: SessionKind,
    /// When it happened: an entry's event time, when a note was signed (or its draft last
    /// saved), when an addendum was written.
    pub at: DateTime<FixedOffset>,
    /// Who wrote it: an entry's author, a note's signer (or who saved its draft last), an
    /// addendum's author.
    pub author: String,
    /// The text found ([`entry_text`] for an entry).
    pub text: String,
}

/// What was found, with where it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// An entry, current or corrected (an amended or struck entry is history, never current).
    Entry { id: EntryId, status: EntryStatus },
    /// An integration note: signed, or a draft still open to change.
    Note { id: NoteId, signed: bool },
    /// An addendum to a signed note.
    Addendum { id: i64, note: NoteId },
}

impl Found {
    /// Where it stands, in words: "entry 57", "entry 52, struck by entry 53", "note 3, draft",
    /// "addendum 2 to note 3".
    pub fn describe(&self) -> String {
        match *self {
            Found::Entry { id, status } => match status {
                EntryStatus::Current => format!("entry {id}"),
                EntryStatus::Amended { by } => {
                    format!("entry {id}, AMENDED by entry {by} (not current)")
                }
                EntryStatus::Struck { by } => {
                    format!("entry {id}, STRUCK by entry {by} (withdrawn)")
                }
            },
            Found::Note { id, signed: true } => format!("note {id}, signed"),
            Found::Note { id, signed: false } => format!("note {id}, draft (not signed)"),
            Found::Addendum { id, note } => format!("addendum {id} to note {note}"),
        }
    }

    /// Whether it is history: an entry a later entry amended or struck.
    pub fn is_corrected(&self) -> bool {
        matches!(
            self,
            Found::Entry {
                status: EntryStatus::Amended { .. } | EntryStatus::Struck { .. },
                ..
            }
        )
    }
}

/// A piece of a text around its first match, on one line, with the matches marked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excerpt {
    pub text: String,
    /// Byte ranges into `text` of the words found.
    pub marks: Vec<Range<usize>>,
}

impl Excerpt {
    /// At most `width` characters of `text` on one line (spaces, tabs and line breaks in a
    /// row as one space), from a little before the first word found; `…` where it was cut.
    pub fn of(text: &str, words: &Words, width: usize) -> Excerpt {
        // One line: each run of spaces, tabs and line breaks becomes one space.
        let mut flat = String::with_capacity(text.len());
        for c in text.trim().chars() {
            if !c.is_whitespace() {
                flat.push(c);
            } else if !flat.ends_with(' ') {
                flat.push(' ');
            }
        }
        let chars: Vec<(usize, char)> = flat.char_indices().collect();
        let first = words.marks(&flat).first().map_or(0, |r| r.start);
        let first_char = chars.partition_point(|(i, _)| *i < first);
        let width = width.max(8);
        // A quarter of the width before the first match, started at a word.
        let mut start = first_char
            .saturating_sub(width / 4)
            .min(chars.len().saturating_sub(width));
        while start > 0 && start < first_char && chars[start - 1].1.is_alphanumeric() {
            start += 1;
        }
        let cut_before = start > 0;
        let room = width - usize::from(cut_before);
        let cut_after = chars.len() - start > room;
        let end = if cut_after {
            start + room - 1
        } else {
            chars.len()
        };
        let byte = |i: usize| chars.get(i).map_or(flat.len(), |(b, _)| *b);
        let piece = &flat[byte(start)..byte(end)];
        let mut out = String::with_capacity(piece.len() + 6);
        if cut_before {
            out.push('…');
        }
        out.push_str(piece);
        if cut_after {
            out.push('…');
        }
        // A word cut at the end is marked when what is left of it begins with a word found:
        // then the whole word does too.
        let marks = words.marks(&out);
        Excerpt { text: out, marks }
    }

    /// The excerpt with each word found between `open` and `close`.
    pub fn marked(&self, open: &str, close: &str) -> String {
        let mut out = String::with_capacity(self.text.len() + self.marks.len() * 4);
        let mut at = 0;
        for r in &self.marks {
            out.push_str(&self.text[at..r.start]);
            out.push_str(open);
            out.push_str(&self.text[r.clone()]);
            out.push_str(close);
            at = r.end;
        }
        out.push_str(&self.text[at..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(words: &[&str]) -> Words {
        Words::Find(words.iter().map(|w| w.to_string()).collect())
    }

    #[test]
    fn typed_text_becomes_words_to_find() {
        assert_eq!(Words::typed("Nausea  given"), find(&["given", "nausea"]));
        assert_eq!(Words::typed("\"nausea\" OR *"), find(&["nausea", "or"]));
        assert_eq!(Words::typed("naus nausea NAUSEA"), find(&["nausea"]));
        assert_eq!(Words::typed("   "), Words::Empty);
        assert_eq!(Words::typed("* \" ( ) -"), Words::Empty);
        assert_eq!(
            Words::typed("a\u{1b}[31m"),
            Words::Unmatchable(Unmatchable::Control)
        );
        assert_eq!(
            Words::typed("a\0b"),
            Words::Unmatchable(Unmatchable::Control)
        );
        let distinct: String = (0..60_000).map(|i| format!("w{i} ")).collect();
        assert_eq!(
            Words::typed(&distinct),
            Words::Unmatchable(Unmatchable::TooLong)
        );
        // A megabyte of the same few words is those words.
        assert_eq!(
            Words::typed(&"an\"d OR *%_".repeat(100_000)),
            find(&["an", "d", "or"])
        );
    }

    #[test]
    fn each_word_begins_a_word_of_the_text() {
        let w = Words::typed("naus ondan");
        assert!(w.matches("Nausea at T+40; ondansetron 4 mg IV"));
        assert!(!w.matches("nausea only"));
        assert!(!Words::typed("sea").matches("nausea"), "inside a word");
        assert!(Words::typed("ÉMILE").matches("émile"));
        assert!(!Words::typed("emile").matches("émile"), "accents count");
        assert!(
            Words::typed("ΣΟΦΊΑΣ").matches("Σοφίας"),
            "final sigma as sigma"
        );
        assert!(Words::typed("σοφίας").matches("ΣΟΦΊΑΣ"));
        assert!(Words::typed("164 98").matches("BP 164/98 · HR 96"));
        assert!(!Words::Empty.matches("anything"));
    }

    #[test]
    fn marks_cover_the_words_found() {
        let w = Words::typed("naus");
        let text = "nausea, then Nauseous";
        let marks = w.marks(text);
        let found: Vec<&str> = marks.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(found, ["nausea", "Nauseous"]);
    }

    #[test]
    fn an_excerpt_starts_near_the_first_match_and_says_where_it_was_cut() {
        let text = format!(
            "{} the patient felt nausea\nafter {}",
            "word ".repeat(50),
            "x ".repeat(50)
        );
        let e = Excerpt::of(&text, &Words::typed("nausea"), 40);
        assert!(e.text.starts_with('…') && e.text.ends_with('…'), "{e:?}");
        assert!(e.text.chars().count() <= 40, "{e:?}");
        assert_eq!(e.marked("[", "]").matches("[nausea]").count(), 1, "{e:?}");
        assert!(!e.text.contains('\n'));
        let short = Excerpt::of("nausea", &Words::typed("nau"), 40);
        assert_eq!(short.marked("[[", "]]"), "[[nausea]]");
    }

    #[test]
    fn the_entry_text_is_the_timeline_line() {
        let p = Payload::Strike;
        assert_eq!(
            entry_text(&p, Some((12, "wrong patient"))),
            "strikes #12: wrong patient"
        );
        let obs = Payload::Observation(crate::domain::Observation {
            text: "calm".into(),
            ..Default::default()
        });
        assert_eq!(entry_text(&obs, None), "calm");
        assert_eq!(
            entry_text(&obs, Some((3, "typo"))),
            "calm (amends #3: typo)"
        );
    }
}
