//! Rules for free text that users type (names, criteria values).

use crate::violation::Violations;

/// Checks a required single-line text: trimmed, non-empty, at most `max_chars` characters (Unicode
/// scalar values, as the ad platforms count them), no control characters. Returns the trimmed text.
pub fn required_line(
    value: &str,
    path: &str,
    max_chars: usize,
    violations: &mut Violations,
) -> String {
    let trimmed = value.trim();
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
