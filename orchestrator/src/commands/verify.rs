//! `orgtrail verify`: the read-only audit of the live organization against the baseline, as a
//! table, JSON, JUnit XML, SARIF or ASFF, on stdout or into `--output`; with `--to-security-hub`
//! its findings also go into Security Hub. Exit 0 when nothing fails (MANUAL and NOT-APPLICABLE do
//! not fail), 1 with findings or findings Security Hub refused, 2 when Security Hub is not enabled.
use std::path::Path;

use clap::Args;
use orgtrail::exit::ExitClass;
use orgtrail::securityhub::{self, HubError, HubTarget};
use orgtrail::verify::render::{self, Format};
use orgtrail::verify::{audited_accounts, AuditContext, Report};

use super::output::out;
use crate::failure::{Context, Exit, Failure};
use crate::settings::Settings;

/// verify's output formats: the shared report formats, and ASFF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VerifyFormat {
    Table,
    Json,
    Junit,
    Sarif,
    /// The findings as Security Hub would receive them (ASFF JSON), without importing them.
    Asff,
}

#[derive(Args, Debug, Clone, Default)]
pub struct SecurityHubArgs {
    /// Also import the findings into Security Hub (ASFF, BatchImportFindings): ids stable per control, account and
    /// region; passing findings archived. Needs Security Hub enabled there.
    #[arg(long)]
    pub to_security_hub: bool,
    /// The Security Hub aggregator account to import into (through the member role) [default: the account orgtrail runs from].
    #[arg(long, value_name = "ACCOUNT", requires = "to_security_hub", value_parser = account_id)]
    pub security_hub_account: Option<String>,
    /// The Security Hub region to import into [default: the config's home_region].
    #[arg(long, value_name = "REGION", requires = "to_security_hub", value_parser = region_name)]
    pub security_hub_region: Option<String>,
}

fn account_id(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err(format!("`{s}` is not an AWS account id (12 digits)"))
    }
}

fn region_name(s: &str) -> Result<String, String> {
    let parts: Vec<&str> = s.split('-').collect();
    let ok = parts.len() >= 3 && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase())) && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit()) && !parts[parts.len() - 1].is_empty();
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("`{s}` is not an AWS region name (like us-east-1)"))
    }
}

/// The audit with its context (time, version, config fingerprint, accounts with OU paths), and the live session it ran in.
pub async fn audit<'s>(settings: &'s Settings) -> Result<(Report, super::Live<'s>), Failure> {
    let live = super::Live::load(settings, "orgtrail-verify").await?;
    let mut report = orgtrail::verify::verify(&live.ctx()).await;
    report.context = AuditContext::of(live.config, &settings.config_path.display().to_string(), &live.caller.account, orgtrail_state::now_millis());
    report.accounts = audited_accounts(&live.inventory, &live.targets);
    let writes: Vec<String> = live.aws.metrics.write_calls().into_keys().filter(|k| !k.starts_with("SecurityHub.")).collect();
    if !writes.is_empty() {
        // verify only reads; a write here is a bug worth shouting about.
        eprintln!("warning: verify made write calls: {writes:?}");
    }
    Ok((report, live))
}

pub async fn verify(settings: &Settings, format: Option<VerifyFormat>, output: Option<&Path>, hub: &SecurityHubArgs) -> Result<Exit, Failure> {
    crate::flags::verify_output(output)?;
    let format = format.unwrap_or(if settings.output.json { VerifyFormat::Json } else { VerifyFormat::Table });
    let (report, live) = audit(settings).await?;
    let config_path = settings.config_path.display().to_string();
    let text = match format {
        VerifyFormat::Table => render::render(&report, Format::Table, &config_path),
        VerifyFormat::Json => render::render(&report, Format::Json, &config_path),
        VerifyFormat::Junit => render::render(&report, Format::Junit, &config_path),
        VerifyFormat::Sarif => render::render(&report, Format::Sarif, &config_path),
        VerifyFormat::Asff => render::asff_json(&report),
    };
    match output {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("{} (written to {})", render::summary_line(&report), path.display());
        }
        None => out!("{text}")?,
    }
    let mut refused = false;
    if hub.to_security_hub {
        let target = HubTarget {
            account: hub.security_hub_account.clone().unwrap_or_else(|| live.caller.account.clone()),
            region: hub.security_hub_region.clone().unwrap_or_else(|| report.context.home_region.clone()),
            partition: report.context.partition.clone(),
        };
        let findings = securityhub::findings(&report, &target);
        let conf = securityhub::hub_config(&live.aws, &target, &live.caller.account);
        let outcome = securityhub::import(&live.aws, &conf, &target, &findings, &report.context.generated_at).await.map_err(|e| {
            let hint = match &e {
                HubError::NotEnabled { account, region, .. } => Some(format!("enable Security Hub in account {account} ({region}), or pass --security-hub-account / --security-hub-region of the hub that aggregates")),
                HubError::Call(_) => None,
            };
            let failure = Failure::new(ExitClass::Environment, e);
            match hint {
                Some(h) => failure.with_hint(h),
                None => failure,
            }
        })?;
        eprintln!(
            "Security Hub {} ({} {}): {} of {} finding(s) imported in {} batch(es), {} passing now archived, {} no longer produced archived",
            outcome.hub_arn, outcome.account, outcome.region, outcome.imported, outcome.sent, outcome.batches, outcome.archived, outcome.stale
        );
        for f in &outcome.failed {
            eprintln!("  refused {}: {}: {}", f.id, f.error_code, f.error_message);
        }
        refused = !outcome.failed.is_empty();
    }
    Ok(if report.passed() && !refused { Exit::Ok } else { Exit::Failures })
}
