//! `orgtrail verify`: the read-only audit of the live organization against the baseline, as a
//! table, JSON, JUnit XML or SARIF, on stdout or into `--output`. Exit 0 when nothing fails
//! (MANUAL and NOT-APPLICABLE do not fail), 1 with findings.
use std::path::Path;

use orgtrail::verify::render::{self, Format};

use super::output::out;
use crate::failure::{Context, Exit, Failure};
use crate::settings::Settings;

pub async fn verify(settings: &Settings, format: Option<Format>, output: Option<&Path>) -> Result<Exit, Failure> {
    crate::flags::verify_output(output)?;
    let format = format.unwrap_or(if settings.output.json { Format::Json } else { Format::Table });
    let live = super::Live::load(settings, "orgtrail-verify").await?;
    let aws = &live.aws;
    let ctx = live.ctx();
    let report = orgtrail::verify::verify(&ctx).await;
    let text = render::render(&report, format, &settings.config_path.display().to_string());
    match output {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("{} (written to {})", render::summary_line(&report), path.display());
        }
        None => out!("{text}")?,
    }
    let writes = aws.metrics.write_calls();
    if !writes.is_empty() {
        // verify only reads; a write here is a bug worth shouting about.
        eprintln!("warning: verify made write calls: {writes:?}");
    }
    Ok(if report.passed() { Exit::Ok } else { Exit::Failures })
}
