//! `wasm-image validate`: checks an image against every rule of spec/ and
//! prints the findings for a person (text), a program (json) or GitHub code
//! scanning (sarif). Exit 0 valid, 1 invalid, 2 could not run.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::{Value, json};
use wasm_image::digest::Digest;
use wasm_image::rules::{RULES, Severity};
use wasm_image::store::Selector;
use wasm_image::target::Target;
use wasm_image::validate::{self, Finding, ImageReport, Options, Report};
use wasm_image::variant::Variant;

use super::{EXIT_COULD_NOT_RUN, EXIT_FAILED, LimitArgs, Style};

/// Output formats of `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    /// For a person: one line per finding, then the variant and consumers.
    Text,
    /// For a program: the report as JSON.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
}

/// Where SARIF `helpUri`s point by default: the spec files of this repository.
pub const DEFAULT_SPEC_BASE_URI: &str = "https://github.com/wasm-image/wasm-image/blob/main/";

/// Arguments of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The image: DIR, DIR:TAG, DIR@sha256:HEX, or an OCI archive file in place of DIR.
    /// A layout holding several images is validated whole unless one is named.
    /// Or a registry reference HOST[:PORT]/REPO[:TAG|@sha256:HEX].
    target: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ValidateFormat::Text)]
    format: ValidateFormat,
    /// Count warnings as errors.
    #[arg(long)]
    strict: bool,
    /// Check against this variant (cncf, compat-oci, compat-docker, wasm-oci,
    /// wasm-content-v1, runwasi, spin): when the detected variant differs,
    /// WI-VARIANT-004 is reported and this variant's rules are applied.
    #[arg(long, value_name = "VARIANT")]
    variant: Option<Variant>,
    /// Skip the full structural validation of Wasm payloads (the preamble,
    /// section framing and exports are still read).
    #[arg(long)]
    no_wasm_validate: bool,
    /// With a registry reference HOST[:PORT]/REPO (no tag, no digest):
    /// validate every tag of the repository, as a layout holding several
    /// images is (signature tags are checked as artifacts).
    #[arg(long)]
    all_tags: bool,
    /// Base URI of the spec files for SARIF `helpUri` (the rule's spec path is appended).
    #[arg(
        long,
        value_name = "URI",
        env = "WASM_IMAGE_SPEC_BASE_URI",
        default_value = DEFAULT_SPEC_BASE_URI
    )]
    spec_base_uri: String,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    registry: super::remote::RegistryArgs,
}

pub fn run(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let options = Options {
        limits: args.limits.limits(),
        validate_wasm: !args.no_wasm_validate,
        strict: args.strict,
        expected_variant: args.variant,
    };
    let target = match Target::parse(&args.target) {
        Ok(t) => t,
        Err(e) => return Ok(could_not_run(&e.to_string())),
    };
    let selector = match &target.selector {
        Selector::Only => None,
        other => Some(other),
    };
    if args.all_tags {
        match &target.remote {
            None => {
                return Ok(could_not_run(
                    "--all-tags needs a registry repository HOST[:PORT]/REPO",
                ));
            }
            // The parsed reference says `latest` when no tag was given: look
            // at the text (a tag or digest is in its last path component).
            Some(r)
                if args
                    .target
                    .rsplit('/')
                    .next()
                    .is_some_and(|last| last.contains([':', '@'])) =>
            {
                return Ok(could_not_run(&format!(
                    "--all-tags validates every tag of {}: give the repository without a tag or digest",
                    r.name()
                )));
            }
            Some(_) => {}
        }
    }
    let report = if let Some(reference) = &target.remote {
        // A registry reference: read through the registry store (its manifest,
        // or with --all-tags its tag list, is fetched first, so an
        // unreachable registry cannot run at all).
        let all_tags = args.all_tags;
        let store = match args
            .registry
            .options()
            .map_err(|e| super::describe(&e))
            .and_then(|o| {
                if all_tags {
                    wasm_image::registry::Registry::new(reference.clone(), &o)
                        .map(|r| Box::new(r.all_tags()) as Box<dyn wasm_image::store::ImageStore>)
                        .map_err(|e| e.to_string())
                } else {
                    target.open_with(&o).map_err(|e| e.to_string())
                }
            }) {
            Ok(s) => s,
            Err(e) => return Ok(could_not_run(&e)),
        };
        if let Err(e) = store.root_index() {
            return Ok(could_not_run(&e.to_string()));
        }
        validate::validate(store.as_ref(), selector, &options)
    } else {
        match validate::validate_path(&target.path, selector, &options) {
            Ok(r) => r,
            Err(e) => return Ok(could_not_run(&e.to_string())),
        }
    };
    match args.format {
        ValidateFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        ValidateFormat::Sarif => println!(
            "{}",
            serde_json::to_string_pretty(&sarif(
                &report,
                &args.target,
                &args.spec_base_uri,
                args.strict
            ))?
        ),
        ValidateFormat::Text => print!(
            "{}",
            render(&report, args.strict, Style::new(super::stdout_colour()))
        ),
    }
    Ok(if report.valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    })
}

fn could_not_run(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_COULD_NOT_RUN)
}

/// The SARIF level of a finding.
fn level(finding: &Finding, strict: bool) -> &'static str {
    match finding.severity {
        Severity::Error => "error",
        Severity::Warning if strict => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// The images of a report, and the findings that belong to no image.
fn parts(report: &Report) -> (&[Finding], Vec<&ImageReport>) {
    match report {
        Report::Image(i) => (&[], vec![i]),
        Report::Layout(l) => (&l.findings, l.images.iter().collect()),
    }
}

/// A SARIF 2.1.0 log of the report. Every result is located in the target
/// file (`artifactLocation.uri`) and, logically, at the finding's location
/// (JSON path, blob digest, tar entry or Wasm offset).
pub fn sarif(report: &Report, target: &str, spec_base_uri: &str, strict: bool) -> Value {
    let base = if spec_base_uri.is_empty() || spec_base_uri.ends_with('/') {
        spec_base_uri.to_owned()
    } else {
        format!("{spec_base_uri}/")
    };
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.code,
                "name": r.code.replace('-', ""),
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.summary},
                "help": {"text": r.hint, "markdown": r.hint},
                "helpUri": format!("{base}{}", r.spec),
                "defaultConfiguration": {"level": match r.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                    Severity::Info => "note",
                }},
                "properties": {"tags": ["wasm", "oci"], "spec": r.spec},
            })
        })
        .collect();
    let uri = target.replace('\\', "/");
    let mut results = Vec::new();
    let (top, images) = parts(report);
    let mut push = |f: &Finding, image: Option<&ImageReport>| {
        let digest = image
            .and_then(|i| i.manifest_digest.as_ref())
            .map(Digest::to_string);
        let qualified = match &digest {
            Some(d) => format!("{d}/{}", f.location),
            None => f.location.clone(),
        };
        let fingerprint = Digest::sha256_of(format!("{}\n{}\n{qualified}", uri, f.code).as_bytes());
        let mut result = json!({
            "ruleId": f.code,
            "level": level(f, strict),
            "message": {"text": f.message},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": uri},
                    "region": {"startLine": 1},
                },
                "logicalLocations": [{
                    "name": f.location,
                    "fullyQualifiedName": qualified,
                    "kind": "member",
                }],
            }],
            "partialFingerprints": {"wasmImageFinding/v1": fingerprint.encoded()},
        });
        if let Some(i) = RULES.iter().position(|r| r.code == f.code) {
            result["ruleIndex"] = json!(i);
        }
        if let Some(d) = digest {
            result["properties"] = json!({"manifestDigest": d});
        }
        results.push(result);
    };
    for f in top {
        push(f, None);
    }
    for image in &images {
        for f in &image.findings {
            push(f, Some(image));
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "wasm-image",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": format!("{base}spec/README.md"),
                "rules": rules,
            }},
            "artifacts": [{"location": {"uri": uri}}],
            "results": results,
            "properties": {
                "valid": report.valid(),
                "variants": images.iter().map(|i| i.variant.id()).collect::<Vec<_>>(),
            },
        }],
    })
}

fn render_finding(out: &mut String, f: &Finding, style: Style) {
    let name = severity_name(f.severity);
    let padded = format!("{name:<7}");
    let sev = match f.severity {
        Severity::Error => style.red(&padded),
        Severity::Warning => style.yellow(&padded),
        Severity::Info => style.cyan(&padded),
    };
    let _ = writeln!(
        out,
        "{sev} {} {}: {}",
        style.bold(f.code),
        f.location,
        f.message
    );
    if !f.hint.is_empty() {
        let _ = writeln!(out, "        {}", style.dim(&format!("hint: {}", f.hint)));
    }
}

fn render_image(out: &mut String, image: &ImageReport, style: Style) {
    for f in &image.findings {
        render_finding(out, f, style);
    }
    let digest = image
        .manifest_digest
        .as_ref()
        .map(|d| format!(" (manifest {d})"))
        .unwrap_or_default();
    let tag = image
        .tag
        .as_ref()
        .map(|t| format!(" tag {t}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "variant: {}{tag}{digest}",
        style.bold(image.variant.id())
    );
    let loads: Vec<_> = image.consumers.iter().filter(|c| c.loads).collect();
    let refuses: Vec<_> = image.consumers.iter().filter(|c| !c.loads).collect();
    if !loads.is_empty() {
        let _ = writeln!(out, "loaded by:");
        for c in loads {
            let _ = writeln!(out, "  {} {}: {}", style.green("+"), c.consumer, c.reason);
        }
    }
    if !refuses.is_empty() {
        let _ = writeln!(out, "not loaded by:");
        for c in refuses {
            let _ = writeln!(out, "  {} {}: {}", style.red("-"), c.consumer, c.reason);
        }
    }
    if let Some(convert) = &image.convert {
        let _ = writeln!(out, "convert: {convert}");
    }
}

fn verdict(out: &mut String, valid: bool, findings: &[&Finding], strict: bool, style: Style) {
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let (e, w, i) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    );
    let word = if valid {
        style.green("valid")
    } else {
        style.red("invalid")
    };
    let strict = if strict { " (strict)" } else { "" };
    let _ = writeln!(
        out,
        "{word}{strict}: {e} error(s), {w} warning(s), {i} info"
    );
}

/// The report for a person.
pub fn render(report: &Report, strict: bool, style: Style) -> String {
    let mut out = String::new();
    let (top, images) = parts(report);
    for f in top {
        render_finding(&mut out, f, style);
    }
    let several = matches!(report, Report::Layout(_));
    for (n, image) in images.iter().enumerate() {
        if several {
            let name = image
                .tag
                .clone()
                .or_else(|| image.manifest_digest.as_ref().map(|d| d.to_string()))
                .unwrap_or_else(|| format!("#{n}"));
            let _ = writeln!(out, "\n{}", style.bold(&format!("image {name}")));
        }
        render_image(&mut out, image, style);
    }
    if several && images.is_empty() {
        let _ = writeln!(out, "no image found");
    }
    let all: Vec<&Finding> = report.findings().collect();
    verdict(&mut out, report.valid(), &all, strict, style);
    out
}
