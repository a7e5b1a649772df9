//! The conformance suite runner: validates each case of `conformance/cases`
//! and compares the result with the case's expectation.
//!
//! A case is a directory holding `case.json` and the image, either an OCI
//! layout directory `image/` or an OCI archive `image.tar`:
//!
//! ```json
//! {"id": "cncf-two-layers", "description": "…", "rule": "WI-CNCF-002",
//!  "expect": {"valid": false, "variant": "cncf", "codes": ["WI-CNCF-002"]},
//!  "options": {"max_manifest_bytes": 1024}}
//! ```
//!
//! A case passes when the image's validity and variant equal the expected
//! ones, every expected code is among the findings, and (for a valid case)
//! no finding has severity `error`. `options` is optional; its keys are the
//! fields of [`Limits`] plus `validate_wasm`, `strict` and `variant`; `select`
//! (`:TAG`, `@DIGEST`) names one image of the layout. docs/conformance.md
//! describes the format for other implementations.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::digest::Digest;
use crate::limits::Limits;
use crate::rules::Severity;
use crate::store::Selector;
use crate::validate::{self, Options, Report};

/// Largest `case.json` read.
const MAX_CASE_BYTES: u64 = 64 << 10;

/// Why the suite (or a case) could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConformanceError {
    /// A file or directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The system error.
        #[source]
        source: io::Error,
    },
    /// `case.json` is malformed.
    #[error("{path}: {message}")]
    Case {
        /// The `case.json` path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The suite directory holds no case.
    #[error("{0}: no conformance cases (directories with a case.json)")]
    Empty(PathBuf),
}

/// What a case expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expect {
    /// Whether the image is valid (no error finding).
    pub valid: bool,
    /// The variant id (`unknown` when none, or when no image can be found).
    pub variant: String,
    /// Codes that must appear among the findings (others may appear too).
    #[serde(default)]
    pub codes: Vec<String>,
}

/// A parsed `case.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseSpec {
    /// Identifier, equal to the directory name.
    pub id: String,
    /// What the case holds.
    pub description: String,
    /// The rule the case is about (a finding code), or `pass` for a good image.
    pub rule: String,
    /// The expected outcome.
    pub expect: Expect,
    /// Option overrides: [`Limits`] field names, `validate_wasm`, `strict`,
    /// `variant` (the variant to check against).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Map<String, Value>>,
    /// Selects one image: `:TAG` or `@DIGEST`, appended to the image path as
    /// the CLI's TARGET takes it. Absent: the whole layout is validated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select: Option<String>,
    /// `false` for a valid case that is invalid under `--strict` (it reports
    /// a warning), with the reason in `strict_reason`. Absent: a valid case
    /// is valid under `--strict` too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    /// Why the case fails under `--strict`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict_reason: Option<String>,
}

impl CaseSpec {
    /// The image the case selects (`select`), or `None` for the whole layout.
    pub fn selector(&self) -> Result<Option<Selector>, String> {
        let Some(select) = self.select.as_deref() else {
            return Ok(None);
        };
        if let Some(tag) = select.strip_prefix(':') {
            return Ok(Some(Selector::Tag(tag.to_owned())));
        }
        if let Some(digest) = select.strip_prefix('@') {
            return Digest::parse(digest)
                .map(|d| Some(Selector::Digest(d)))
                .map_err(|e| format!("select {select:?}: {e}"));
        }
        Err(format!("select {select:?} must start with ':' or '@'"))
    }
}

/// The outcome of one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// The case's id (the directory name when `case.json` cannot be read).
    pub id: String,
    /// The rule the case is about.
    pub rule: String,
    /// Whether the outcome matched the expectation.
    pub passed: bool,
    /// What differed, empty when passed.
    pub problems: Vec<String>,
    /// Validity the validator reported (`None` when it could not run).
    pub valid: Option<bool>,
    /// Variant the validator reported.
    pub variant: Option<String>,
    /// Distinct finding codes reported, in report order.
    pub codes: Vec<String>,
}

/// The outcome of a suite.
#[derive(Debug, Clone, Serialize)]
pub struct SuiteReport {
    /// One result per case, sorted by id.
    pub cases: Vec<CaseResult>,
}

impl SuiteReport {
    /// Number of cases that passed.
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.passed).count()
    }

    /// Number of cases that failed.
    pub fn failed(&self) -> usize {
        self.cases.len() - self.passed()
    }
}

/// Builds validation options from a case's `options` object.
pub fn options_from(overrides: Option<&Map<String, Value>>) -> Result<Options, String> {
    let mut options = Options::default();
    let Some(overrides) = overrides else {
        return Ok(options);
    };
    for (key, value) in overrides {
        let number = || {
            value
                .as_u64()
                .ok_or_else(|| format!("options.{key} must be a non-negative integer"))
        };
        let flag = || {
            value
                .as_bool()
                .ok_or_else(|| format!("options.{key} must be a boolean"))
        };
        match key.as_str() {
            "validate_wasm" => options.validate_wasm = flag()?,
            "strict" => options.strict = flag()?,
            "variant" => {
                let id = value
                    .as_str()
                    .ok_or_else(|| format!("options.{key} must be a variant id"))?;
                options.expected_variant = Some(
                    id.parse()
                        .map_err(|_| format!("options.{key}: unknown variant {id:?}"))?,
                );
            }
            "max_json_depth" => {
                options.limits.max_json_depth =
                    usize::try_from(number()?).map_err(|_| format!("options.{key} is too large"))?
            }
            other => {
                let n = number()?;
                let field = limit_field(&mut options.limits, other)
                    .ok_or_else(|| format!("unknown option {other:?}"))?;
                *field = n;
            }
        }
    }
    Ok(options)
}

/// The `u64` field of [`Limits`] named `name`.
pub fn limit_field<'a>(limits: &'a mut Limits, name: &str) -> Option<&'a mut u64> {
    Some(match name {
        "max_manifest_bytes" => &mut limits.max_manifest_bytes,
        "max_config_bytes" => &mut limits.max_config_bytes,
        "max_index_bytes" => &mut limits.max_index_bytes,
        "max_tar_entries" => &mut limits.max_tar_entries,
        "max_decompressed_bytes" => &mut limits.max_decompressed_bytes,
        "max_decompression_ratio" => &mut limits.max_decompression_ratio,
        "max_layer_bytes" => &mut limits.max_layer_bytes,
        "max_layout_header_bytes" => &mut limits.max_layout_header_bytes,
        "max_archive_entries" => &mut limits.max_archive_entries,
        "ratio_free_bytes" => &mut limits.ratio_free_bytes,
        "consumer_max_module_bytes" => &mut limits.consumer_max_module_bytes,
        "max_wasm_section_bytes" => &mut limits.max_wasm_section_bytes,
        _ => return None,
    })
}

/// Reads a case's `case.json`.
pub fn load_case(dir: &Path) -> Result<CaseSpec, ConformanceError> {
    let path = dir.join("case.json");
    let io_err = |source| ConformanceError::Io {
        path: path.clone(),
        source,
    };
    let size = fs::metadata(&path).map_err(io_err)?.len();
    if size > MAX_CASE_BYTES {
        return Err(ConformanceError::Case {
            path,
            message: format!("{size} bytes, over the limit of {MAX_CASE_BYTES}"),
        });
    }
    let bytes = fs::read(&path).map_err(io_err)?;
    serde_json::from_slice(&bytes).map_err(|e| ConformanceError::Case {
        path,
        message: e.to_string(),
    })
}

/// The image of a case: `image/` or `image.tar`.
pub fn case_image(dir: &Path) -> Option<PathBuf> {
    let layout = dir.join("image");
    let archive = dir.join("image.tar");
    if layout.is_dir() {
        Some(layout)
    } else if archive.is_file() {
        Some(archive)
    } else {
        None
    }
}

/// The variant a report names: the image's; for a layout, the variants of
/// its images joined with `,` when they differ, `unknown` when it has none.
pub fn report_variant(report: &Report) -> String {
    match report {
        Report::Image(image) => image.variant.id().to_owned(),
        Report::Layout(layout) => {
            let mut ids: Vec<&str> = Vec::new();
            for image in &layout.images {
                if !ids.contains(&image.variant.id()) {
                    ids.push(image.variant.id());
                }
            }
            if ids.is_empty() {
                "unknown".to_owned()
            } else {
                ids.join(",")
            }
        }
    }
}

/// Runs one case directory.
pub fn run_case(dir: &Path) -> CaseResult {
    let dir_name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut result = CaseResult {
        id: dir_name.clone(),
        rule: String::new(),
        passed: false,
        problems: Vec::new(),
        valid: None,
        variant: None,
        codes: Vec::new(),
    };
    let spec = match load_case(dir) {
        Ok(spec) => spec,
        Err(e) => {
            result.problems.push(e.to_string());
            return result;
        }
    };
    result.id = spec.id.clone();
    result.rule = spec.rule.clone();
    if spec.id != dir_name {
        result.problems.push(format!(
            "case id {:?} differs from its directory name",
            spec.id
        ));
    }
    let options = match options_from(spec.options.as_ref()) {
        Ok(o) => o,
        Err(e) => {
            result.problems.push(e);
            return result;
        }
    };
    let Some(image) = case_image(dir) else {
        result
            .problems
            .push("the case has neither image/ nor image.tar".to_owned());
        return result;
    };
    let selector = match spec.selector() {
        Ok(s) => s,
        Err(e) => {
            result.problems.push(e);
            return result;
        }
    };
    let report = match validate::validate_path(&image, selector.as_ref(), &options) {
        Ok(report) => report,
        Err(e) => {
            result
                .problems
                .push(format!("the validator could not run: {e}"));
            return result;
        }
    };
    let valid = report.valid();
    let variant = report_variant(&report);
    for finding in report.findings() {
        if !result.codes.iter().any(|c| c == finding.code) {
            result.codes.push(finding.code.to_owned());
        }
    }
    if valid != spec.expect.valid {
        result
            .problems
            .push(format!("valid is {valid}, expected {}", spec.expect.valid));
    }
    if variant != spec.expect.variant {
        result.problems.push(format!(
            "variant is {variant}, expected {}",
            spec.expect.variant
        ));
    }
    for code in &spec.expect.codes {
        if !result.codes.contains(code) {
            result.problems.push(format!("{code} was not reported"));
        }
    }
    if spec.expect.valid {
        for finding in report.findings().filter(|f| f.severity == Severity::Error) {
            result.problems.push(format!(
                "unexpected error {} at {}: {}",
                finding.code, finding.location, finding.message
            ));
        }
    }
    result.valid = Some(valid);
    result.variant = Some(variant);
    result.passed = result.problems.is_empty();
    result
}

/// The case directories of a suite (subdirectories holding `case.json`), sorted.
pub fn case_dirs(dir: &Path) -> Result<Vec<PathBuf>, ConformanceError> {
    let entries = fs::read_dir(dir).map_err(|source| ConformanceError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| ConformanceError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        if path.join("case.json").is_file() {
            dirs.push(path);
        }
    }
    dirs.sort();
    if dirs.is_empty() {
        return Err(ConformanceError::Empty(dir.to_path_buf()));
    }
    Ok(dirs)
}

/// Runs every case of the suite in `dir`.
pub fn run_suite(dir: impl AsRef<Path>) -> Result<SuiteReport, ConformanceError> {
    let cases = case_dirs(dir.as_ref())?
        .iter()
        .map(|d| run_case(d))
        .collect();
    Ok(SuiteReport { cases })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_override_limits_and_flags() {
        let o = json!({"max_manifest_bytes": 1024, "max_json_depth": 8, "validate_wasm": false, "strict": true});
        let options = options_from(o.as_object()).unwrap();
        assert_eq!(options.limits.max_manifest_bytes, 1024);
        assert_eq!(options.limits.max_json_depth, 8);
        assert!(!options.validate_wasm && options.strict);
        assert!(options_from(json!({"nope": 1}).as_object()).is_err());
        assert!(options_from(json!({"strict": 1}).as_object()).is_err());
        assert!(options_from(json!({"max_tar_entries": -1}).as_object()).is_err());
        let o = json!({"variant": "compat-oci", "max_wasm_section_bytes": 16});
        let options = options_from(o.as_object()).unwrap();
        assert_eq!(
            options.expected_variant,
            Some(crate::variant::Variant::CompatOci)
        );
        assert_eq!(options.limits.max_wasm_section_bytes, 16);
        assert!(options_from(json!({"variant": "nope"}).as_object()).is_err());
        assert!(options_from(json!({"variant": 1}).as_object()).is_err());
    }
}
