//! `wasm-image conformance`: runs the golden-image suite (a thin layer over
//! [`wasm_image::conformance::run_suite`]).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use wasm_image::conformance::run_suite;

use super::{EXIT_COULD_NOT_RUN, EXIT_FAILED, Format, Style};

/// Arguments of `conformance`.
#[derive(Debug, Args)]
pub struct ConformanceArgs {
    /// The suite: a directory of case directories, each with a case.json.
    #[arg(default_value = "conformance/cases")]
    dir: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub fn run(args: ConformanceArgs) -> anyhow::Result<ExitCode> {
    let report = match run_suite(&args.dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_COULD_NOT_RUN));
        }
    };
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "passed": report.passed(),
                "failed": report.failed(),
                "cases": report.cases,
            }))?
        ),
        Format::Text => {
            let style = Style::new(super::stdout_colour());
            for case in &report.cases {
                if case.passed {
                    println!("{} {} ({})", style.green("PASS"), case.id, case.rule);
                } else {
                    println!(
                        "{} {} ({}): {}",
                        style.red("FAIL"),
                        case.id,
                        case.rule,
                        case.problems.join("; ")
                    );
                }
            }
            println!("{} passed, {} failed", report.passed(), report.failed());
        }
    }
    Ok(if report.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    })
}
