//! What changed in a REMS form since it was submitted: the form as the record stood when the
//! submission was recorded, against the form now.

use super::{Field, RemsForm};

/// A field whose answer differs between the form as submitted and the form as the record
/// stands now (the record was corrected or added to after the submission).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedField {
    pub key: &'static str,
    pub label: &'static str,
    /// The answer as written on the form then and now; "MISSING" when the record did not
    /// answer it.
    pub then: String,
    pub now: String,
}

impl std::fmt::Display for ChangedField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} when submitted, {} now",
            self.label, self.then, self.now
        )
    }
}

/// The fields of `now` whose answer is not the one `then` gave, in the form's order (a field
/// only one of them has counts as changed).
pub fn changed_since(then: &RemsForm, now: &RemsForm) -> Vec<ChangedField> {
    let text = |f: Option<&Field>| match f.map(|f| &f.answer) {
        Some(Ok(a)) => a.text(),
        Some(Err(_)) | None => "MISSING".to_string(),
    };
    let mut keys: Vec<(&'static str, &'static str)> =
        now.fields.iter().map(|f| (f.key, f.label)).collect();
    for f in &then.fields {
        if !keys.iter().any(|(k, _)| *k == f.key) {
            keys.push((f.key, f.label));
        }
    }
    keys.into_iter()
        .filter_map(|(key, label)| {
            let (was, is) = (text(then.field(key)), text(now.field(key)));
            (was != is).then_some(ChangedField {
                key,
                label,
                then: was,
                now: is,
            })
        })
        .collect()
}
