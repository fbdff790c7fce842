use serde::{Deserialize, Serialize};

/// One rejected input field: the form field's name and a message for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// All rejected fields of one form, in the order they were checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn single(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// Records the error of `result` under `field` and returns its value, if any.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first message for `field`, if that field was rejected.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for e in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "{}", e.message)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_in_order_and_finds_by_field() {
        let mut errors = FieldErrors::new();
        assert!(errors.check::<u8>("a", Ok(1)).is_some());
        assert!(errors.check::<u8>("b", Err("B is wrong.".into())).is_none());
        errors.add("c", "C is wrong.");
        assert_eq!(errors.get("b"), Some("B is wrong."));
        assert_eq!(errors.get("a"), None);
        assert_eq!(errors.to_string(), "B is wrong. C is wrong.");
        assert!(errors.into_result().is_err());
        assert!(FieldErrors::new().into_result().is_ok());
    }
}
