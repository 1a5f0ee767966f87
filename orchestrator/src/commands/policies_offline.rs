//! `orgtrail render-policies --offline`: every policy from the config alone, with no AWS call, so
//! policies can be reviewed before any access exists. What only AWS knows comes from the flags
//! (`--organization-id`, `--management-account`), else the config, else a named placeholder; the
//! key's id is always a placeholder (apply creates the key). Account-trail mode scopes the bucket
//! policy to the accounts the waves list by id (OUs, tags and `remaining` need the organization).
use aws_config::{BehaviorVersion, Region, SdkConfig};
use orgtrail::aws::{Aws, CallerIdentity};
use orgtrail::config::{Config, TrailMode};
use orgtrail::discovery::OrganizationInfo;
use orgtrail::selection::is_account_id;
use orgtrail::steps::Ctx;

use super::policies::{documents, placeholder_key_arn, print};
use crate::cli::PoliciesArgs;
use crate::failure::{Exit, Failure};
use crate::settings::Settings;

const ORG_PLACEHOLDER: &str = "o-ORGANIZATION-ID";
const ACCOUNT_PLACEHOLDER: &str = "MANAGEMENT-ACCOUNT-ID";
/// The policy templates check that account ids have 12 digits; the placeholder goes in as this
/// (no real account: AWS account ids never are all zeros) and is replaced in the output.
const ACCOUNT_SENTINEL: &str = "000000000000";
const MEMBERS_PLACEHOLDER: &str = "MEMBER-ACCOUNT-ID";
const MEMBERS_SENTINEL: &str = "000000000001";

pub fn render(settings: &Settings, args: &PoliciesArgs) -> Result<Exit, Failure> {
    let config = settings.config();
    let org_id = args.organization_id.clone().or_else(|| config.organization.id.clone());
    if let Some(id) = &org_id {
        if !is_org_id(id) {
            return Err(Failure::bad_input(format!("--organization-id {id:?}: expected an organization id, o- and 10 to 32 lowercase letters or digits")));
        }
    }
    let management = args.management_account.clone().or_else(|| config.organization.management_account.clone());
    if let Some(a) = management.as_deref().filter(|a| !is_account_id(a)) {
        return Err(Failure::bad_input(format!("--management-account {a:?}: expected a 12-digit account id")));
    }
    let org = OrganizationInfo {
        id: org_id.clone().unwrap_or_else(|| ORG_PLACEHOLDER.into()),
        management_account: management.clone().unwrap_or_else(|| ACCOUNT_SENTINEL.into()),
        root_id: "r-ROOT".into(),
    };
    let targets = listed_accounts(config);
    let caller_account = config.organization.delegated_admin_account.clone().unwrap_or_else(|| org.management_account.clone());
    let caller = CallerIdentity { arn: format!("arn:{}:iam::{caller_account}:root", config.organization.partition), account: caller_account };
    // Clients that are never called: the renderers take a step context, which carries them.
    let aws = Aws::from_config(SdkConfig::builder().behavior_version(BehaviorVersion::latest()).region(Region::new(config.organization.home_region.clone())).build(), 1);
    let ctx = Ctx { aws: &aws, config, org: &org, caller: &caller, targets: &targets, apply: false };
    let key_arn = placeholder_key_arn(&ctx);
    let mut docs = documents(&ctx, &key_arn)?;
    for d in &mut docs {
        replace_strings(&mut d.policy, ACCOUNT_SENTINEL, ACCOUNT_PLACEHOLDER);
        replace_strings(&mut d.policy, MEMBERS_SENTINEL, MEMBERS_PLACEHOLDER);
        d.title = d.title.replace(ACCOUNT_SENTINEL, ACCOUNT_PLACEHOLDER);
    }
    let mut placeholders = vec!["KEY-ID-CREATED-BY-APPLY (the log key apply creates)".to_string()];
    if org_id.is_none() {
        placeholders.push(format!("{ORG_PLACEHOLDER} (pass --organization-id or set [organization] id)"));
    }
    if management.is_none() {
        placeholders.push(format!("{ACCOUNT_PLACEHOLDER} (pass --management-account or set [organization] management_account)"));
    }
    if targets == [MEMBERS_SENTINEL] {
        placeholders.push(format!("{MEMBERS_PLACEHOLDER} (account-trail mode: the targeted accounts, which only the organization's OUs and tags resolve)"));
    }
    eprintln!("note: rendered offline from {}, no AWS call; placeholders: {}", settings.config_path.display(), placeholders.join(", "));
    print(settings, &docs)?;
    Ok(Exit::Ok)
}

/// Account-trail mode's targets as far as the config alone knows them: the ids its waves list.
fn listed_accounts(config: &Config) -> Vec<String> {
    if config.trail.mode != TrailMode::Account {
        return Vec::new();
    }
    let mut ids: Vec<String> = config.waves.iter().flat_map(|w| w.accounts.iter().cloned()).filter(|a| !config.exclude_accounts.contains(a)).collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        ids.push(MEMBERS_SENTINEL.into());
    }
    ids
}

fn is_org_id(id: &str) -> bool {
    id.strip_prefix("o-").is_some_and(|r| (10..=32).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

fn replace_strings(value: &mut serde_json::Value, from: &str, to: &str) {
    match value {
        serde_json::Value::String(s) if s.contains(from) => *s = s.replace(from, to),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| replace_strings(v, from, to)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| replace_strings(v, from, to)),
        _ => {}
    }
}
