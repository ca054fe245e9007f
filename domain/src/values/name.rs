//! Validation shared by the free-text fields of commands.

use super::InvalidValue;

/// Trims `text` and checks it is non-empty, at most `max` characters and free of control
/// characters other than line breaks and tabs.
pub(crate) fn bounded_text(
    field: &'static str,
    text: &str,
    max: usize,
) -> Result<String, InvalidValue> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(InvalidValue::Empty { field });
    }
    let length = trimmed.chars().count();
    if length > max {
        return Err(InvalidValue::TooLong { field, length, max });
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(InvalidValue::BadCharacters {
            field,
            allowed: "printable characters, line breaks and tabs",
        });
    }
    Ok(trimmed.to_owned())
}
