use thiserror::Error;

/// A value from outside that does not fit its field. `field` names the
/// field as the client sent it, so the error envelope can point at it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error, nested under a parent field (`address` + `line` → `address.line`).
    pub fn within(mut self, parent: &str) -> Self {
        self.field = format!("{parent}.{}", self.field);
        self
    }
}

/// Trims a required text field and checks its length in characters.
pub fn required_text(field: &str, value: &str, max_chars: usize) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    optional_text(field, trimmed, max_chars).map(|v| v.unwrap_or_default())
}

/// Trims an optional text field; empty becomes `None`.
pub fn optional_text(
    field: &str,
    value: &str,
    max_chars: usize,
) -> Result<Option<String>, FieldError> {
    let trimmed = value.trim();
    if trimmed.chars().count() > max_chars {
        return Err(FieldError::new(
            field,
            format!("is longer than {max_chars} characters"),
        ));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n') {
        return Err(FieldError::new(field, "contains control characters"));
    }
    Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
}
