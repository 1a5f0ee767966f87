//! `orgtrail delegate --account ID [--dry-run]`: with the management account's credentials, make
//! ID a CloudTrail delegated administrator (trusted access enabled if needed, then registered), so
//! the rollout can run from it. Idempotent: a second run reports "no change" and writes nothing.
use orgtrail::aws::aws_err;
use orgtrail::report::table::Table;
use orgtrail::steps::{trusted_access, Action};

use super::output::{self, out};
use crate::failure::{Context, Exit, Failure};
use crate::settings::Settings;

pub async fn delegate(settings: &Settings, account: Option<&str>, dry_run: bool) -> Result<Exit, Failure> {
    let config = settings.config.as_ref();
    let account = match account.map(str::to_string).or_else(|| config.and_then(|c| c.organization.delegated_admin_account.clone())) {
        Some(a) => a,
        None => return Err(Failure::bad_input("name the account to delegate to: `orgtrail delegate --account ID` (or set delegated_admin_account in the config)")),
    };
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Failure::bad_input(format!("--account {account}: an AWS account id is 12 digits")));
    }
    let aws = settings.connect_base().await?;
    let caller = super::caller_identity(&aws).await?;
    aws.organizations_permit().await;
    let org = aws.organizations().describe_organization().send().await.map_err(aws_err("Organizations.DescribeOrganization")).context("reading the organization")?;
    let management = org.organization().and_then(|o| o.master_account_id()).unwrap_or_default().to_string();
    let home = config.map_or_else(|| aws.region(), |c| c.organization.home_region.clone());

    let outcome = trusted_access::converge_delegation(&aws, &caller.account, &management, &account, &home, !dry_run).await?;
    if settings.output.json {
        output::json(&serde_json::json!({
            "account": account,
            "management_account": management,
            "dry_run": dry_run,
            "changes": outcome.changes,
            "api_calls": { "total": aws.metrics.total(), "writes": aws.metrics.write_calls() },
        }))?;
    } else {
        let mut t = Table::new(["RESOURCE", "ACTION"]);
        for c in &outcome.changes {
            let action = match (&c.action, dry_run) {
                (Action::Create, true) => "would create".to_string(),
                (Action::Create, false) => "created".to_string(),
                (Action::NoChange, _) => "no change".to_string(),
                (other, _) => format!("{other:?}"),
            };
            t.row([c.resource.clone(), action]);
        }
        out!("{}", t.render())?;
        if dry_run && outcome.changes.iter().any(|c| c.is_change()) {
            eprintln!("dry run: nothing written; run `{}` to apply", trusted_access::delegate_command(&account));
        } else if !dry_run {
            eprintln!("{account} is a CloudTrail delegated administrator of {}: set delegated_admin_account = \"{account}\" and run orgtrail with its credentials", org.organization().and_then(|o| o.id()).unwrap_or_default());
        }
    }
    Ok(Exit::Ok)
}
