//! Seeds a sandbox organization in the emulator: management account, a `Security` OU with the
//! log-archive account, nested workload OUs and N tagged member accounts.
use std::collections::BTreeMap;

use anyhow::{Context, Result};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_organizations::types::{OrganizationFeatureSet, Tag};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::Serialize;

/// Where member accounts go, round-robin, with the `env` tag each gets.
pub const MEMBER_OUS: &[(&str, &str)] = &[("Root/Workloads/Prod", "prod"), ("Root/Workloads/Dev", "dev"), ("Root/Sandbox", "sandbox"), ("Root/Workloads/Dev/Experiments", "dev")];
const OUS: &[&str] = &["Root/Security", "Root/Workloads", "Root/Workloads/Prod", "Root/Workloads/Dev", "Root/Workloads/Dev/Experiments", "Root/Sandbox"];

#[derive(Debug, Clone, Serialize)]
pub struct SeededAccount {
    pub id: String,
    pub name: String,
    pub ou_path: String,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeededOrg {
    pub org_id: String,
    pub management_account: String,
    pub log_archive_account: String,
    pub ous: BTreeMap<String, String>,
    /// Member accounts (the log-archive account excluded), in creation order.
    pub members: Vec<SeededAccount>,
}

/// The management account's SDK config against the emulator.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    let creds = aws_credential_types::Credentials::new("testing", "testing", None, None, "sandbox");
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(creds)
        .load()
        .await
}

pub async fn seed(conf: &SdkConfig, members: usize) -> Result<SeededOrg> {
    let org = aws_sdk_organizations::Client::new(conf);
    let created = org.create_organization().feature_set(OrganizationFeatureSet::All).send().await.context("CreateOrganization")?;
    let o = created.organization.context("no organization")?;
    let root = org.list_roots().send().await?.roots.unwrap_or_default().remove(0).id.unwrap_or_default();
    let mut ous = BTreeMap::from([("Root".to_string(), root)]);
    for path in OUS {
        let (parent, name) = path.rsplit_once('/').expect("paths have a parent");
        let out = org.create_organizational_unit().parent_id(&ous[parent]).name(name).send().await.with_context(|| format!("CreateOrganizationalUnit {path}"))?;
        ous.insert(path.to_string(), out.organizational_unit.and_then(|u| u.id).unwrap_or_default());
    }
    let log_archive = create_account(&org, &ous, "log-archive", "Root/Security", BTreeMap::from([("role".into(), "log-archive".into())])).await?;
    let specs: Vec<(String, &str, BTreeMap<String, String>)> = (0..members)
        .map(|i| {
            let (ou, env) = MEMBER_OUS[i % MEMBER_OUS.len()];
            let tags = BTreeMap::from([("env".to_string(), env.to_string()), ("team".to_string(), format!("team-{}", i % 5))]);
            (format!("member-{:05}", i + 1), ou, tags)
        })
        .collect();
    let members = stream::iter(specs)
        .map(|(name, ou, tags)| {
            let (org, ous) = (&org, &ous);
            async move { create_account(org, ous, &name, ou, tags).await }
        })
        .buffered(16)
        .try_collect()
        .await?;
    Ok(SeededOrg {
        org_id: o.id.unwrap_or_default(),
        management_account: o.master_account_id.unwrap_or_default(),
        log_archive_account: log_archive.id,
        ous,
        members,
    })
}

async fn create_account(org: &aws_sdk_organizations::Client, ous: &BTreeMap<String, String>, name: &str, ou: &str, tags: BTreeMap<String, String>) -> Result<SeededAccount> {
    let tag_list: Vec<Tag> = tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build().expect("key and value set")).collect();
    let out = org
        .create_account()
        .account_name(name)
        .email(format!("{name}@sandbox.example"))
        .set_tags(Some(tag_list))
        .send()
        .await
        .with_context(|| format!("CreateAccount {name}"))?;
    // The emulator creates accounts at once; real AWS would need DescribeCreateAccountStatus polling.
    let id = out.create_account_status.and_then(|s| s.account_id).context("CreateAccount returned no account id")?;
    org.move_account().account_id(&id).source_parent_id(&ous["Root"]).destination_parent_id(&ous[ou]).send().await.with_context(|| format!("MoveAccount {name} to {ou}"))?;
    Ok(SeededAccount { id, name: name.to_string(), ou_path: ou.to_string(), tags })
}

/// Close (suspend) an account, as an operator would with CloseAccount.
pub async fn suspend(conf: &SdkConfig, account: &str) -> Result<()> {
    aws_sdk_organizations::Client::new(conf).close_account().account_id(account).send().await.with_context(|| format!("CloseAccount {account}"))?;
    Ok(())
}

/// A valid orgtrail.toml for a seeded organization: three waves (a canary, the sandbox OU, the rest).
pub fn sandbox_config(org: &SeededOrg) -> String {
    let canary = org.members.first().map(|m| m.id.clone()).unwrap_or_default();
    format!(
        r#"# Generated by `sandbox` for the local emulator organization {org_id}.
[organization]
home_region = "us-east-1"
id = "{org_id}"

[access]
max_concurrency = 32

[log_archive]
account = "{la}"
bucket = "orgtrail-logs-{la}"
prefix = "org"
admin_roles = ["arn:aws:iam::{la}:role/OrganizationAccountAccessRole", "arn:aws:iam::{mgmt}:role/*"]
reader_roles = ["arn:aws:iam::{la}:role/LogReader"]
mfa_delete = true

[log_archive.tags]
owner = "platform"

[trail]
name = "orgtrail"

[[wave]]
name = "canary"
accounts = ["{canary}"]
failure_tolerance = 0

[[wave]]
name = "sandbox"
ous = ["Root/Sandbox"]
max_concurrency = 16
failure_tolerance = "5%"

[[wave]]
name = "rest"
remaining = true
max_concurrency = 32
failure_tolerance = "5%"
"#,
        org_id = org.org_id,
        la = org.log_archive_account,
        mgmt = org.management_account,
    )
}

/// Trusted access for CloudTrail in Organizations, as the management account enables it.
pub async fn enable_cloudtrail_trusted_access(conf: &SdkConfig) -> Result<()> {
    aws_sdk_organizations::Client::new(conf).enable_aws_service_access().service_principal("cloudtrail.amazonaws.com").send().await.context("EnableAWSServiceAccess cloudtrail.amazonaws.com")?;
    Ok(())
}

/// Register `account` as a CloudTrail delegated administrator (management-account credentials).
pub async fn register_cloudtrail_admin(conf: &SdkConfig, account: &str) -> Result<()> {
    aws_sdk_cloudtrail::Client::new(conf)
        .register_organization_delegated_admin()
        .member_account_id(account)
        .send()
        .await
        .with_context(|| format!("RegisterOrganizationDelegatedAdmin {account}"))?;
    Ok(())
}

/// Lets `admin` (a CloudTrail delegated administrator) assume `OrganizationAccountAccessRole` in
/// every other account of the organization, besides the management account: what a real
/// organization must deploy before a delegated administrator can run orgtrail. The role
/// Organizations creates trusts the management account only, and the emulator honours trust
/// policies (fidelity patch t); `render-bootstrap` renders a member role trusting the delegated
/// administrator for the same reason. Once per organization and account (later calls are free).
pub async fn trust_delegated_admin(conf: &SdkConfig, org: &SeededOrg, admin: &str) -> Result<()> {
    static DONE: std::sync::Mutex<std::collections::BTreeSet<(String, String)>> = std::sync::Mutex::new(std::collections::BTreeSet::new());
    if !DONE.lock().unwrap().insert((org.org_id.clone(), admin.to_string())) {
        return Ok(());
    }
    let trust = serde_json::json!({ "Version": "2012-10-17", "Statement": [
        { "Sid": "ManagementAccount", "Effect": "Allow", "Principal": { "AWS": format!("arn:aws:iam::{}:root", org.management_account) }, "Action": "sts:AssumeRole" },
        { "Sid": "DelegatedAdministrator", "Effect": "Allow", "Principal": { "AWS": format!("arn:aws:iam::{admin}:root") }, "Action": "sts:AssumeRole" },
    ]})
    .to_string();
    let accounts = std::iter::once(&org.log_archive_account).chain(org.members.iter().map(|m| &m.id)).filter(|a| a.as_str() != admin);
    stream::iter(accounts.map(|account| {
        let trust = trust.clone();
        async move {
            let out = aws_sdk_sts::Client::new(conf)
                .assume_role()
                .role_arn(format!("arn:aws:iam::{account}:role/OrganizationAccountAccessRole"))
                .role_session_name("orgtrail-seed")
                .send()
                .await
                .with_context(|| format!("AssumeRole into {account}"))?;
            let c = out.credentials.context("AssumeRole returned no credentials")?;
            let creds = aws_credential_types::Credentials::new(c.access_key_id, c.secret_access_key, Some(c.session_token), None, "seed");
            let in_account = conf.to_builder().credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds)).build();
            aws_sdk_iam::Client::new(&in_account)
                .update_assume_role_policy()
                .role_name("OrganizationAccountAccessRole")
                .policy_document(&trust)
                .send()
                .await
                .with_context(|| format!("UpdateAssumeRolePolicy in {account}"))?;
            anyhow::Ok(())
        }
    }))
    .buffer_unordered(8)
    .try_collect::<Vec<()>>()
    .await?;
    Ok(())
}
