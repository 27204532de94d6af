//! Rules for free text that users type (names, criteria values).

use crate::violation::Violations;
use unicode_normalization::UnicodeNormalization;

/// Checks a required single-line text: normalised to Unicode NFC (so that "é" typed as e + accent
/// is one character, stored and compared as one), trimmed, with at least one visible character
/// (zero-width characters and byte-order marks alone do not make a name), at most `max_chars`
/// characters (Unicode scalar values, as the ad platforms count them), no control characters and
/// no bidirectional overrides or isolates (they make text display other than it reads, a spoofing
/// device). Returns the normalised, trimmed text.
pub fn required_line(
    value: &str,
    path: &str,
    max_chars: usize,
    violations: &mut Violations,
) -> String {
    let normalised: String = value.nfc().collect();
    let trimmed = normalised.trim();
    if !trimmed.chars().any(is_visible) {
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
    if trimmed.chars().any(is_bidi_control) {
        violations.push(
            path,
            "bidi_control",
            "must not contain bidirectional override or isolate characters",
        );
    }
    trimmed.to_owned()
}

/// Explicit embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether a character shows: not white space, not a control, and not one of the zero-width or
/// format characters that render as nothing.
pub fn is_visible(c: char) -> bool {
    !(c.is_whitespace()
        || c.is_control()
        || is_bidi_control(c)
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2060}'..='\u{2064}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
        ))
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

    #[test]
    fn invisible_and_direction_changing_text_is_refused() {
        for (text, code) in [
            ("\u{200B}\u{200C}\u{200D}", "required"),
            ("\u{FEFF}", "required"),
            ("\u{2060} \u{00AD}", "required"),
            ("invoice\u{202E}fdp.exe", "bidi_control"),
            ("\u{2067}name", "bidi_control"),
        ] {
            let mut violations = Violations::new();
            required_line(text, "name", 100, &mut violations);
            let codes: Vec<String> = violations.into_vec().into_iter().map(|v| v.code).collect();
            assert!(codes.contains(&code.to_owned()), "{text:?}: {codes:?}");
        }
        // Joiners inside real text (emoji sequences, Persian) are fine.
        let mut violations = Violations::new();
        required_line(
            "Team \u{1F469}\u{200D}\u{1F4BB} می\u{200C}خواهم",
            "name",
            100,
            &mut violations,
        );
        assert!(violations.is_empty(), "{violations:?}");
    }
}
