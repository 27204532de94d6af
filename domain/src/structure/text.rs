//! Checks of text fields against a [`TextLimit`].

use super::ValidationReport;
use crate::platform_rules::TextLimit;

/// Counts characters as the platforms do for Latin text: Unicode scalar values.
pub fn length(value: &str) -> usize {
    value.chars().count()
}

/// A required text field: present, trimmed, within the limit (error), and under the warning mark.
pub fn check(value: &str, limit: TextLimit, path: &str, report: &mut ValidationReport) {
    if value.trim().is_empty() {
        report.errors.push(path, "required", "must not be empty");
        return;
    }
    if value.trim() != value {
        report
            .errors
            .push(path, "untrimmed", "must not start or end with spaces");
    }
    if value.chars().any(char::is_control) {
        report.errors.push(
            path,
            "control_character",
            "must not contain control characters",
        );
    }
    let length = length(value);
    if length > limit.max_chars {
        report.errors.push(
            path,
            "too_long",
            format!("{length} characters; at most {} allowed", limit.max_chars),
        );
    } else if let Some(warn) = limit.warn_above.filter(|warn| length > *warn) {
        report.warnings.push(
            path,
            "may_truncate",
            format!("{length} characters; above {warn} the platform may truncate it"),
        );
    }
}

/// An `http(s)://host/...` URL without spaces, within the length limit.
pub fn check_url(value: &str, limit: TextLimit, path: &str, report: &mut ValidationReport) {
    check(value, limit, path, report);
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default());
    if !host.is_some_and(|h| h.contains('.') && !h.starts_with('.') && !h.ends_with('.'))
        || value.chars().any(char::is_whitespace)
    {
        report
            .errors
            .push(path, "invalid_url", "must be an absolute http(s) URL");
    }
}
