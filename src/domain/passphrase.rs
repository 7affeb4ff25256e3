//! Whether a new passphrase is strong enough: zxcvbn's estimate of how many guesses it takes
//! (Wheeler 2016, USENIX Security), against the clinic's least score (`[chart]
//! min_passphrase_score`, default 3). kapchart says why a passphrase is weak; the clinic sets
//! how strong is enough.

/// Refuses a new passphrase scored below `min_score` (0-4), or one SQLCipher would read as a
/// raw key, with the reason and what to do instead. `context` holds words a guesser would
/// try first (the clinician's name, "kapchart").
pub fn check_new(passphrase: &str, min_score: u8, context: &[&str]) -> Result<(), String> {
    let trimmed = passphrase.trim_start();
    if trimmed.starts_with("x'") || trimmed.starts_with("X'") {
        // SQLCipher reads `x'...'` as raw key bytes, not as a passphrase.
        return Err(
            "a passphrase may not start with x' (SQLCipher would read it as a raw key)".into(),
        );
    }
    let estimate = zxcvbn::zxcvbn(passphrase, context);
    let score = estimate.score() as u8;
    if score >= min_score.min(4) {
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

#[cfg(test)]
mod tests {
    use super::check_new;

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
        // A clinic may lower the bar (0 accepts anything not a raw key).
        assert!(check_new("password1", 0, &[]).is_ok());
    }
}
