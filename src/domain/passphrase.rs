//! Whether a new passphrase is strong enough: zxcvbn's estimate of how many guesses it takes
//! (Wheeler 2016, USENIX Security), against the clinic's least score (`[chart]
//! min_passphrase_score`, default 3). kapchart says why a passphrase is weak; a clinic may
//! ask for more than 3, never less: a score of 3 is zxcvbn's "safely unguessable" (about
//! 10^8 guesses and more), and a wrapped key in a stolen keyring can be guessed at offline.
//!
//! What a guesser tries first weighs against a passphrase: the clinician's own name, the
//! clinic's, and the words of the trade ("kapchart"). The passphrase is also scored with its
//! spaces and punctuation taken out, so "Nia Nurse 2024" is scored as "NiaNurse2024" too,
//! and the lower score counts. Published example passphrases are refused outright: a guesser
//! tries them before any dictionary word.

/// The least score a clinic may ask for; `[chart] min_passphrase_score` below it is refused.
pub const LEAST_MIN_SCORE: u8 = 3;

/// Passphrases printed as examples (the XKCD "Password Strength" comic, 936, and the
/// passphrases of kapchart's own README and demo): every guesser's first tries.
const PUBLISHED: &[&str] = &["tr0ub4dor&3", "troubador", "kapchart-demo"];

/// The words a guesser would try first against `clinician` of `clinic`: the names, whole
/// and word by word, and kapchart's own words.
pub fn guessable_words(clinician: &str, clinic: &str) -> Vec<String> {
    let mut words = Vec::new();
    for name in [clinician, clinic] {
        let name = name.trim().to_lowercase();
        if name.is_empty() {
            continue;
        }
        words.extend(
            name.split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_string),
        );
        words.push(name.chars().filter(|c| c.is_alphanumeric()).collect());
    }
    words.extend(["kapchart", "chart", "ketamine", "clinic"].map(str::to_string));
    words.retain(|w| !w.is_empty());
    words.dedup();
    words
}

/// Refuses a new passphrase scored below `min_score` (raised to [`LEAST_MIN_SCORE`] when
/// lower), one SQLCipher would read as a raw key, or a published example, with the reason
/// and what to do instead. `context` holds words a guesser would try first
/// ([`guessable_words`]).
pub fn check_new(passphrase: &str, min_score: u8, context: &[&str]) -> Result<(), String> {
    let min_score = min_score.clamp(LEAST_MIN_SCORE, 4);
    let trimmed = passphrase.trim_start();
    if trimmed.starts_with("x'") || trimmed.starts_with("X'") {
        // SQLCipher reads `x'...'` as raw key bytes, not as a passphrase.
        return Err(
            "a passphrase may not start with x' (SQLCipher would read it as a raw key)".into(),
        );
    }
    let squeezed: String = passphrase.chars().filter(|c| c.is_alphanumeric()).collect();
    let lowered = passphrase.trim().to_lowercase();
    if PUBLISHED
        .iter()
        .any(|p| lowered == *p || squeezed.to_lowercase() == *p)
    {
        return Err(
            "this passphrase is a published example, which guessers try first; a few uncommon words together make a strong one".into(),
        );
    }
    let whole = zxcvbn::zxcvbn(passphrase, context);
    let estimate = if squeezed.is_empty() || squeezed == passphrase {
        whole
    } else {
        let tight = zxcvbn::zxcvbn(&squeezed, context);
        if tight.score() < whole.score() {
            tight
        } else {
            whole
        }
    };
    let score = estimate.score() as u8;
    if score >= min_score {
        return Ok(());
    }
    let mut why = format!(
        "the passphrase is too weak (strength {score} of 4; this clinic asks for {min_score})"
    );
    if let Some(feedback) = estimate.feedback() {
        if let Some(w) = feedback.warning() {
            why.push_str(&format!(": {w}"));
        }
        for s in feedback.suggestions() {
            why.push_str(&format!("; {s}"));
        }
    }
    why.push_str("; a few uncommon words together make a strong one");
    Err(why)
}

/// How long a wrong sign-in (at the chart screen, or at the command line: `store::sign_in_wait`) waits before it may be tried
/// again: nothing the first time, then 1 s doubling up to 30 s, so that guessing at an
/// unattended laptop is slow while a typo costs little.
pub fn wrong_passphrase_wait(wrong_so_far: u32) -> std::time::Duration {
    let secs = match wrong_so_far {
        0 | 1 => 0,
        n => 1u64 << (n - 2).min(5),
    };
    std::time::Duration::from_secs(secs.min(30))
}

#[cfg(test)]
mod tests {
    use super::{check_new, guessable_words, wrong_passphrase_wait};

    #[test]
    fn each_wrong_passphrase_waits_longer_up_to_half_a_minute() {
        let waits: Vec<u64> = (1..=9)
            .map(|n| wrong_passphrase_wait(n).as_secs())
            .collect();
        assert_eq!(waits, [0, 1, 2, 4, 8, 16, 30, 30, 30]);
    }

    fn words(clinician: &str, clinic: &str) -> Vec<String> {
        guessable_words(clinician, clinic)
    }

    #[test]
    fn names_and_published_examples_weigh_against_a_passphrase() {
        let refused = |p: &str, who: &str, clinic: &str| {
            let w = words(who, clinic);
            let w: Vec<&str> = w.iter().map(String::as_str).collect();
            check_new(p, 3, &w).is_err()
        };
        assert!(refused("Tr0ub4dor&3", "Dr Test", ""));
        assert!(refused("Nia Nurse 2024", "Nia Nurse", ""));
        assert!(refused("Weak One 2026", "Weak One", ""));
        assert!(refused(
            "Riverside Ketamine 2026",
            "Dr Test",
            "Riverside Ketamine"
        ));
        assert!(refused("kapchart 2026!", "Dr Test", ""));
        // Strong ones still pass with the names weighed.
        assert!(!refused(
            "violet tractor mumbles quietly",
            "Nia Nurse",
            "Riverside"
        ));
        assert!(!refused("correct horse battery staple", "Dr. Test", ""));
    }

    #[test]
    fn the_least_score_cannot_be_lowered_below_three() {
        assert!(check_new("a", 0, &[]).is_err());
        assert!(check_new("password1", 0, &[]).is_err());
        assert!(check_new("Summer2024!", 1, &[]).is_err());
    }

    #[test]
    fn weak_passphrases_are_refused_with_the_reason_and_strong_ones_pass() {
        let err = check_new("password1", 3, &[]).unwrap_err();
        assert!(err.contains("too weak (strength"), "{err}");
        assert!(check_new("kapchart2024", 3, &["kapchart"]).is_err());
        assert!(check_new("correct horse battery staple", 3, &[]).is_ok());
        assert!(check_new("violet tractor mumbles quietly", 3, &[]).is_ok());
        assert!(
            check_new("x'0011'", 0, &[])
                .unwrap_err()
                .contains("raw key")
        );
    }
}
