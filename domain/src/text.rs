//! Rules for free text that users type (names, criteria values).

use crate::violation::Violations;
use unicode_normalization::UnicodeNormalization;

/// Checks a required single-line text: normalised to Unicode NFC (so that "é" typed as e + accent
/// is one character, stored and compared as one), trimmed, non-empty, at most `max_chars`
/// characters (Unicode scalar values, as the ad platforms count them), no control characters.
/// Returns the normalised, trimmed text.
pub fn required_line(
    value: &str,
    path: &str,
    max_chars: usize,
    violations: &mut Violations,
) -> String {
    let normalised: String = value.nfc().collect();
    let trimmed = normalised.trim();
    if trimmed.is_empty() {
        violations.push(path, "required", "must not be empty");
    } else if trimmed.chars().count() > max_chars {
        violations.push(
            path,
            "too_long",
            format!("must be at most {max_chars} characters"),
        );
    }
    if trimmed.chars().any(char::is_control) {
        violations.push(
            path,
            "control_character",
            "must not contain control characters",
        );
    }
    trimmed.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_stored_in_nfc_and_counted_after_normalisation() {
        let mut violations = Violations::new();
        // "Café" with a combining accent: five scalar values before NFC, four after.
        let decomposed = "Cafe\u{301}";
        assert_eq!(decomposed.chars().count(), 5);
        let stored = required_line(decomposed, "name", 4, &mut violations);
        assert_eq!(stored, "Caf\u{e9}");
        assert!(violations.is_empty(), "{violations:?}");
        required_line("a\u{7}b", "name", 10, &mut violations);
        assert_eq!(violations.into_vec()[0].code, "control_character");
    }
}
