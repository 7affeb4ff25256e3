//! When a note is complete enough to sign, and what the signed text holds.
//!
//! A note is signed only when every section of its template has something the clinician
//! or the record wrote in it (Osmind's Spravato note cannot be signed until its required
//! fields are complete: clinical.md section 5). A section is a heading of the template
//! (`## Assessment`, `### Integration session`); it is empty when, down to the next heading
//! of the same or a higher level, it holds only the template's own words (`Assessment: `)
//! and blank lines. A clinic marks a section optional by putting `{{! optional }}` on its
//! heading line in its own template.
//!
//! The draft banner (a line starting with `> DRAFT`) asks the clinician to check and
//! complete the draft; it is left out of the text that is signed.

use super::Piece;
use super::parse;

/// Marks where a placeholder was in a template line.
const FIELD: char = '\u{1}';
/// Marks an `{{! optional }}` comment on a template line.
const OPTIONAL: char = '\u{2}';

/// True for the line of the draft banner.
pub fn is_draft_banner(line: &str) -> bool {
    line.trim_start().starts_with("> DRAFT")
}

/// The text to sign: the note without its draft banner (and the blank line after it).
pub fn without_draft_banner(text: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let mut skip_blank = false;
    for line in text.split_inclusive('\n') {
        if is_draft_banner(line) {
            skip_blank = true;
            continue;
        }
        if skip_blank && line.trim().is_empty() {
            skip_blank = false;
            continue;
        }
        skip_blank = false;
        out.push(line);
    }
    out.concat()
}

struct Section {
    level: usize,
    /// The heading's words; FIELD where the template has a placeholder.
    name: String,
    optional: bool,
    /// The template's own lines in the section (without placeholders), trimmed.
    own_lines: Vec<String>,
}

fn heading(line: &str) -> Option<(usize, &str)> {
    let t = line.trim_start();
    let level = t.chars().take_while(|c| *c == '#').count();
    let rest = &t[level..];
    (level > 0 && (rest.is_empty() || rest.starts_with(' '))).then(|| (level, rest.trim()))
}

/// The template with comments left out, placeholders as FIELD and optional markers as
/// OPTIONAL.
fn skeleton(template: &str) -> Result<String, String> {
    let mut marked = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("{{!") {
        let after = &rest[open + 3..];
        match after.find("}}") {
            Some(close) if after[..close].trim().eq_ignore_ascii_case("optional") => {
                marked.push_str(&rest[..open]);
                marked.push(OPTIONAL);
                rest = &after[close + 2..];
            }
            _ => {
                marked.push_str(&rest[..open + 3]);
                rest = after;
            }
        }
    }
    marked.push_str(rest);
    let mut out = String::with_capacity(marked.len());
    for piece in parse(&marked)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Field { .. } => out.push(FIELD),
        }
    }
    Ok(out)
}

fn sections(template: &str) -> Result<Vec<Section>, String> {
    let mut sections: Vec<Section> = Vec::new();
    for line in skeleton(template)?.lines() {
        if let Some((level, name)) = heading(line) {
            sections.push(Section {
                level,
                name: name.replace(OPTIONAL, "").trim().to_string(),
                optional: name.contains(OPTIONAL),
                own_lines: Vec::new(),
            });
        } else if !line.contains(FIELD) && !line.trim().is_empty() {
            // A fixed line counts as the template's own in its section and the sections
            // it sits inside.
            let own = line.replace(OPTIONAL, "").trim().to_string();
            let mut inner = sections.last().map_or(0, |s| s.level);
            for s in sections.iter_mut().rev() {
                if s.level <= inner {
                    s.own_lines.push(own.clone());
                    inner = s.level.saturating_sub(1);
                }
            }
        }
    }
    Ok(sections)
}

/// True when `name` (a heading of the note) is `pattern` (a template heading whose FIELD
/// marks stand for any words).
fn heading_matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split(FIELD).collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &name[first.len()..];
    if !rest.ends_with(last) {
        return false;
    }
    rest = &rest[..rest.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// The names of the required sections of `template` that are missing or empty in `note`,
/// in template order. Fails only on a template that does not validate.
pub fn empty_sections(template: &str, note: &str) -> Result<Vec<String>, String> {
    let lines: Vec<&str> = note.lines().filter(|l| !is_draft_banner(l)).collect();
    let mut empty = Vec::new();
    let mut from = 0;
    for section in sections(template)?.iter().filter(|s| !s.optional) {
        let found = (from..lines.len()).find(|&i| {
            heading(lines[i]).is_some_and(|(level, name)| {
                level == section.level && heading_matches(&section.name, name)
            })
        });
        let Some(start) = found else {
            empty.push(display_name(&section.name));
            continue;
        };
        from = start + 1;
        let written = lines[start + 1..]
            .iter()
            .take_while(|l| heading(l).is_none_or(|(level, _)| level > section.level))
            .filter(|l| heading(l).is_none())
            .map(|l| l.trim())
            .any(|l| !l.is_empty() && !section.own_lines.iter().any(|own| own == l));
        if !written {
            empty.push(display_name(&section.name));
        }
    }
    Ok(empty)
}

fn display_name(pattern: &str) -> String {
    pattern.replace(FIELD, "…")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = "{{! a comment\n# not a heading inside it }}\n# Note\n\n> DRAFT on {{drafted_on}}. Complete it, then sign.\n\n## Data\n\nIntention: {{intention}}\n\n### Dosing session {{dosing_number}}\n\nDose:\n{{dose}}\n\n### Integration session\n\nPatient's account: \n\n## Assessment\n\nAssessment: \n\n## Plan {{! optional }}\n\nPlan: \n";

    fn draft(account: &str, assessment: &str) -> String {
        format!(
            "# Note\n\n> DRAFT on 2026-05-12. Complete it, then sign.\n\n## Data\n\nIntention: none recorded\n\n### Dosing session 2\n\nDose:\n- ketamine 35 mg IM\n\n### Integration session\n\nPatient's account: {account}\n\n## Assessment\n\nAssessment: {assessment}\n\n## Plan \n\nPlan: \n"
        )
    }

    #[test]
    fn blank_required_sections_are_named_and_optional_ones_are_not() {
        assert_eq!(
            empty_sections(TEMPLATE, &draft("", "")).unwrap(),
            ["Integration session", "Assessment"]
        );
        assert_eq!(
            empty_sections(TEMPLATE, &draft("slept well", "integrating")).unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_heading_taken_out_of_the_note_counts_as_empty() {
        let note = draft("slept well", "ok").replace("## Assessment\n", "");
        assert_eq!(empty_sections(TEMPLATE, &note).unwrap(), ["Assessment"]);
    }

    #[test]
    fn text_written_under_a_prompt_line_fills_the_section() {
        let note = draft("slept well", "").replace("Assessment: \n", "Assessment:\nCalm.\n");
        assert!(empty_sections(TEMPLATE, &note).unwrap().is_empty());
    }

    #[test]
    fn the_banner_and_its_blank_line_are_left_out_of_the_signed_text() {
        let signed = without_draft_banner(&draft("a", "b"));
        assert!(signed.starts_with("# Note\n\n## Data\n"), "{signed}");
        assert!(!signed.contains("DRAFT"));
    }
}
