//! `wasm-image rules`: the catalogue of rules, as text, JSON or the Markdown
//! table that docs/cli.md embeds.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use wasm_image::rules::{RULES, Severity};

/// Output formats of `rules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    /// One line per rule.
    Text,
    /// A JSON array of `{code, severity, summary, hint, spec}`.
    Json,
    /// A Markdown table (the one in docs/cli.md).
    Markdown,
}

/// Arguments of `rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
    format: RulesFormat,
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// The catalogue as a Markdown table, one row per rule.
pub fn markdown() -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut out = String::from("| Code | Severity | Rule | Fix | Spec |\n|---|---|---|---|---|\n");
    for r in RULES {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | [{}](../{}) |",
            r.code,
            severity(r.severity),
            cell(r.summary),
            cell(r.hint),
            r.spec.trim_start_matches("spec/"),
            r.spec
        );
    }
    out
}

pub fn run(args: RulesArgs) -> anyhow::Result<ExitCode> {
    match args.format {
        RulesFormat::Json => println!("{}", serde_json::to_string_pretty(RULES)?),
        RulesFormat::Markdown => print!("{}", markdown()),
        RulesFormat::Text => {
            for r in RULES {
                println!("{:<15} {:<8} {}", r.code, severity(r.severity), r.summary);
                println!("{:<24} fix: {}  ({})", "", r.hint, r.spec);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
