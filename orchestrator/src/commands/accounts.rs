//! `orgtrail accounts [--check-access]`: the organization's accounts with OU path, status and
//! tags, and with `--check-access` whether orgtrail can assume its role in each.
use orgtrail::access::{check_access, AccessOutcome};
use orgtrail::discovery::{discover, DiscoverOptions};
use orgtrail::report::table::Table;

use super::output::{self, out, outln};
use crate::failure::{Context, Exit, Failure};
use crate::settings::Settings;

pub async fn accounts(settings: &Settings, check: bool, with_tags: bool) -> Result<Exit, Failure> {
    let aws = settings.connect("orgtrail-accounts").await?;
    let started = std::time::Instant::now();
    let inventory = discover(&aws, &DiscoverOptions { with_tags }).await.with_context(|| format!("discovering the organization{}", super::at_endpoint(&aws)))?;
    let discovery_calls = aws.metrics.total();
    let access = if check {
        let caller = super::caller_identity(&aws).await?;
        Some(check_access(&aws, &inventory.accounts, &caller.account, settings.concurrency).await)
    } else {
        None
    };
    let failures = access.as_ref().map_or(0, |a| a.iter().filter(|r| r.outcome != AccessOutcome::Ok).count());
    if settings.output.json {
        output::json(&serde_json::json!({
            "organization": inventory.organization,
            "accounts": inventory.accounts,
            "skipped": inventory.skipped,
            "ous": inventory.ous,
            "tags_fetched": inventory.tags_fetched,
            "access": access,
            "api_calls": { "discovery": discovery_calls, "by_operation": aws.metrics.snapshot() },
            "elapsed_seconds": started.elapsed().as_secs_f64(),
        }))?;
    } else {
        let mut t = Table::new(["ACCOUNT", "NAME", "OU PATH", "STATUS", "TAGS", "ACCESS"]).keep_whole([0, 3]);
        let access_of = |id: &str| access.as_ref().and_then(|a| a.iter().find(|r| r.account == id));
        for a in &inventory.accounts {
            let tags = a.tags.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
            let acc = access_of(&a.id).map_or(String::new(), |r| match r.outcome {
                AccessOutcome::Ok => "ok".into(),
                AccessOutcome::AccessDenied => format!("access denied ({})", r.error_code.as_deref().unwrap_or("?")),
                AccessOutcome::Other => format!("error ({}): {}", r.error_code.as_deref().unwrap_or("?"), r.message.as_deref().unwrap_or("")),
            });
            t.row([a.id.clone(), a.name.clone(), a.ou_path.clone(), a.status.clone(), tags, acc]);
        }
        out!("{}", t.render())?;
        for s in &inventory.skipped {
            outln!("skipped {} ({}): {}", s.account.id, s.account.name, s.reason)?;
        }
        eprintln!(
            "{} active accounts, {} skipped, {} OUs in {} ({} Organizations calls) in {:.1}s",
            inventory.accounts.len(),
            inventory.skipped.len(),
            inventory.ous.len(),
            inventory.organization.id,
            discovery_calls.calls,
            started.elapsed().as_secs_f64()
        );
        if let Some(a) = &access {
            eprintln!("access: {} ok, {} failed", a.len() - failures, failures);
        }
    }
    Ok(if failures > 0 { Exit::Failures } else { Exit::Ok })
}

