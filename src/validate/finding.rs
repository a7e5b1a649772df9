//! Findings and the collector every check writes into.

use serde::Serialize;

use crate::rules::{self, Severity};

/// One problem (or notable fact) found in an image, under a rule of `spec/`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The rule's stable code, e.g. `WI-CNCF-003` (see [`crate::rules::RULES`]).
    pub code: &'static str,
    /// The rule's default severity.
    pub severity: Severity,
    /// What is wrong, naming the offending value.
    pub message: String,
    /// Where: a JSON path such as `manifest.layers[1].digest`, `blob sha256:…`,
    /// `layer sha256:… tar entry ../x`, `layer sha256:… wasm offset 0x1a2`,
    /// `index.json manifests[0]` or `oci-layout`.
    pub location: String,
    /// How to fix it (the rule's hint).
    pub hint: &'static str,
}

impl Finding {
    /// A finding under the rule `code`, with the rule's severity and hint.
    ///
    /// A code missing from the catalogue (a bug of this crate, caught by a
    /// test) is reported as an error with an empty hint rather than a panic.
    pub fn new(
        code: &'static str,
        location: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let (severity, hint) = match rules::rule(code) {
            Some(rule) => (rule.severity, rule.hint),
            None => (Severity::Error, ""),
        };
        Finding {
            code,
            severity,
            message: message.into(),
            location: location.into(),
            hint,
        }
    }

    /// Whether the finding makes an image invalid (`strict` counts warnings too).
    pub fn fails(&self, strict: bool) -> bool {
        match self.severity {
            Severity::Error => true,
            Severity::Warning => strict,
            Severity::Info => false,
        }
    }
}

/// Collects findings.
#[derive(Debug, Default, Clone)]
pub(crate) struct Sink {
    pub(crate) findings: Vec<Finding>,
}

impl Sink {
    pub(crate) fn new() -> Self {
        Sink::default()
    }

    pub(crate) fn add(
        &mut self,
        code: &'static str,
        location: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.findings.push(Finding::new(code, location, message));
    }

    pub(crate) fn extend(&mut self, other: impl IntoIterator<Item = Finding>) {
        self.findings.extend(other);
    }
}

/// Shortens a value for a message: long strings are cut, so a hostile
/// 100 MB value does not end up in the report.
pub(crate) fn show(value: &str) -> String {
    const MAX: usize = 200;
    if value.len() <= MAX {
        return format!("{value:?}");
    }
    let mut end = MAX;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}… ({} bytes)", &value[..end], value.len())
}

/// A JSON value for a message, shortened.
pub(crate) fn show_json(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => show(s),
        other => {
            let text = other.to_string();
            if text.len() <= 200 {
                text
            } else {
                let mut end = 200;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                format!("{}… ({} bytes)", &text[..end], text.len())
            }
        }
    }
}
