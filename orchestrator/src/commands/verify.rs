//! `orgtrail verify`: the read-only audit of the live organization against the baseline, as a
//! table, JSON, JUnit XML or SARIF, on stdout or into `--output`. Exit 0 when nothing fails
//! (MANUAL and NOT-APPLICABLE do not fail), 1 with findings.
use std::path::Path;

use anyhow::{Context, Result};
use orgtrail::rollout;
use orgtrail::steps::Ctx;
use orgtrail::verify::render::{self, Format};

use crate::Global;

pub async fn verify(global: &Global, format: Option<Format>, output: Option<&Path>) -> Result<u8> {
    let format = format.unwrap_or(if global.json { Format::Json } else { Format::Table });
    let config = crate::load_config(global, true)?.expect("required");
    let (spec, concurrency) = crate::role_spec(Some(&config), "orgtrail-verify");
    let aws = crate::connect(global, Some(&config)).await.with_role(spec, concurrency);
    let caller = aws.caller_identity().await.context("reading the caller identity (STS.GetCallerIdentity)")?;
    let inventory = rollout::inventory(&aws, &config, &global.config).await?;
    let plan = orgtrail::plan::plan(&config, &inventory, &global.config)?;
    let targets = plan.targets();
    let ctx = Ctx { aws: &aws, config: &config, org: &inventory.organization, caller: &caller, targets: &targets, apply: false };
    let report = orgtrail::verify::verify(&ctx).await;
    let text = render::render(&report, format, &global.config.display().to_string());
    match output {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("{} (written to {})", render::summary_line(&report), path.display());
        }
        None => print!("{text}"),
    }
    let writes = aws.metrics.write_calls();
    if !writes.is_empty() {
        // verify only reads; a write here is a bug worth shouting about.
        eprintln!("warning: verify made write calls: {writes:?}");
    }
    Ok(if report.passed() { 0 } else { crate::exit::FAILURES })
}
