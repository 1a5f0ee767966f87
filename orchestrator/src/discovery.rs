//! Organization → Inventory. The OU tree is walked top-down and concurrently
//! (ListOrganizationalUnitsForParent + ListAccountsForParent), so the number of Organizations calls
//! grows with OUs and pages, never with accounts; tags cost one call per account and are fetched
//! only when asked for (a wave selects by tag, or `accounts --tags`), as many at once as keep the
//! client-side rate limit busy. Every call waits for that limit first.
use std::collections::BTreeMap;
use std::ops::ControlFlow;

use aws_sdk_organizations::operation::list_accounts_for_parent::ListAccountsForParentOutput;
use aws_sdk_organizations::operation::list_organizational_units_for_parent::ListOrganizationalUnitsForParentOutput;
use aws_sdk_organizations::operation::list_tags_for_resource::ListTagsForResourceOutput;
use aws_sdk_organizations::types::AccountStatus;
use futures::stream::{FuturesUnordered, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use crate::aws::{aws_err, Aws, AwsError};

/// How many OUs are listed at once; the rate limiter bounds the call rate on top of this.
const OU_CONCURRENCY: usize = 8;

/// Tag listings in flight: one second's worth of the rate limit (so the limit, not the round
/// trip, is what bounds them at up to 1 s of latency), at least OU_CONCURRENCY, at most 256.
fn tag_concurrency(aws: &Aws) -> usize {
    (aws.organizations_rate() as usize).clamp(OU_CONCURRENCY, 256)
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub email: String,
    pub status: String,
    /// `Root/Workloads/Prod`
    pub ou_path: String,
    pub ou_id: String,
    /// Every OU id from the root down to the account's OU, so `ou-` selectors match nested accounts.
    pub ou_ids: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SkippedAccount {
    pub account: Account,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OrganizationInfo {
    pub id: String,
    pub management_account: String,
    pub root_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OrganizationalUnit {
    pub id: String,
    pub path: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Inventory {
    pub organization: OrganizationInfo,
    /// Active accounts, sorted by id.
    pub accounts: Vec<Account>,
    /// Suspended or closing accounts, with why they are left alone.
    pub skipped: Vec<SkippedAccount>,
    pub ous: Vec<OrganizationalUnit>,
    pub tags_fetched: bool,
}

impl Inventory {
    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.binary_search_by(|a| a.id.as_str().cmp(id)).ok().map(|i| &self.accounts[i])
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("{0}")]
    Aws(#[from] AwsError),
    #[error("the caller is not in an AWS Organization (Organizations.DescribeOrganization: {0})")]
    NoOrganization(AwsError),
    /// A member account that administers nothing: Organizations answers it DescribeOrganization only.
    #[error(
        "account {account} cannot read the organization ({source}): it is neither the management account {management} nor a delegated administrator. \
         Register it as the CloudTrail delegated administrator with the management account's credentials: `orgtrail delegate --account {account}`"
    )]
    NotDelegatedAdmin { account: String, management: String, source: AwsError },
}

pub struct DiscoverOptions {
    pub with_tags: bool,
}

pub async fn discover(aws: &Aws, opts: &DiscoverOptions) -> Result<Inventory, DiscoveryError> {
    let org = aws.organizations();
    aws.organizations_permit().await;
    let described = org.describe_organization().send().await.map_err(|e| {
        let e = AwsError::from_sdk("Organizations.DescribeOrganization", &e);
        if e.is_code("AWSOrganizationsNotInUseException") { DiscoveryError::NoOrganization(e) } else { DiscoveryError::Aws(e) }
    })?;
    let o = described.organization.unwrap_or_else(|| aws_sdk_organizations::types::Organization::builder().build());
    aws.organizations_permit().await;
    let management = o.master_account_id.unwrap_or_default();
    let roots = match org.list_roots().send().await.map_err(aws_err("Organizations.ListRoots")) {
        Ok(r) => r,
        Err(e) if e.is_access_denied() => {
            let account = aws.caller_identity().await.map(|c| c.account).unwrap_or_else(|_| "ID".into());
            return Err(DiscoveryError::NotDelegatedAdmin { account, management, source: e });
        }
        Err(e) => return Err(e.into()),
    };
    let root = roots.roots.unwrap_or_default().into_iter().next().and_then(|r| r.id).unwrap_or_default();
    let info = OrganizationInfo { id: o.id.unwrap_or_default(), management_account: management, root_id: root.clone() };

    let mut ous = vec![OrganizationalUnit { id: root.clone(), path: "Root".into() }];
    let mut accounts = Vec::new();
    let mut pending = FuturesUnordered::new();
    // Each OU is two listings: its child OUs, then (queued behind every OU listing) its accounts.
    // A child's listings start as soon as its parent's child OUs are known, not after the parent's
    // account pages too: the pages of one OU are a chain (each needs the last NextToken), and at
    // 10,000 accounts a nested OU would otherwise wait out its parent's 125 pages.
    let mut queue = vec![Listing::Children(Ou { id: root, path: "Root".into(), ancestors: Vec::new() })];
    while !queue.is_empty() || !pending.is_empty() {
        while pending.len() < OU_CONCURRENCY {
            let Some(next) = queue.pop() else { break };
            pending.push(next.run(aws));
        }
        match pending.next().await {
            Some(Ok(Listed::Children(parent, children))) => {
                for (id, name) in children {
                    let path = format!("{}/{name}", parent.path);
                    ous.push(OrganizationalUnit { id: id.clone(), path: path.clone() });
                    let mut ancestors = parent.ancestors.clone();
                    ancestors.push(parent.id.clone());
                    queue.push(Listing::Children(Ou { id, path, ancestors }));
                }
                // Popped last: every child-OU listing found so far goes first.
                queue.insert(0, Listing::Accounts(parent));
            }
            Some(Ok(Listed::Accounts(listed))) => accounts.extend(listed),
            Some(Err(e)) => return Err(e.into()),
            None => {}
        }
    }

    if opts.with_tags {
        let tagged: Vec<(usize, BTreeMap<String, String>)> = futures::stream::iter(accounts.iter().enumerate())
            .map(|(i, a)| async move { list_tags(aws, &a.id).await.map(|t| (i, t)) })
            .buffer_unordered(tag_concurrency(aws))
            .try_collect()
            .await?;
        for (i, tags) in tagged {
            accounts[i].tags = tags;
        }
    }

    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    ous.sort_by(|a, b| a.path.cmp(&b.path));
    let (active, inactive): (Vec<Account>, Vec<Account>) = accounts.into_iter().partition(|a| a.status == "ACTIVE");
    let skipped = inactive.into_iter().map(|a| SkippedAccount { reason: format!("account status is {}", a.status), account: a }).collect();
    Ok(Inventory { organization: info, accounts: active, skipped, ous, tags_fetched: opts.with_tags })
}

/// An OU to list, with its path and the ids from the root down to its parent.
struct Ou {
    id: String,
    path: String,
    ancestors: Vec<String>,
}

enum Listing {
    Children(Ou),
    Accounts(Ou),
}

enum Listed {
    Children(Ou, Vec<(String, String)>),
    Accounts(Vec<Account>),
}

impl Listing {
    async fn run(self, aws: &Aws) -> Result<Listed, AwsError> {
        match self {
            Listing::Children(ou) => {
                let children = list_children(aws, &ou.id).await?;
                Ok(Listed::Children(ou, children))
            }
            Listing::Accounts(ou) => list_accounts(aws, ou).await.map(Listed::Accounts),
        }
    }
}

async fn list_children(aws: &Aws, id: &str) -> Result<Vec<(String, String)>, AwsError> {
    let mut children = Vec::new();
    aws.organizations_pages(
        |token| aws.organizations().list_organizational_units_for_parent().parent_id(id).set_next_token(token).send(),
        ListOrganizationalUnitsForParentOutput::next_token,
        |page| {
            children.extend(page.organizational_units.unwrap_or_default().into_iter().map(|ou| (ou.id.unwrap_or_default(), ou.name.unwrap_or_default())));
            ControlFlow::Continue(())
        },
    )
    .await
    .map_err(aws_err("Organizations.ListOrganizationalUnitsForParent"))?;
    Ok(children)
}

async fn list_accounts(aws: &Aws, ou: Ou) -> Result<Vec<Account>, AwsError> {
    let Ou { id, path, mut ancestors } = ou;
    ancestors.push(id.clone());
    let mut accounts = Vec::new();
    aws.organizations_pages(
        |token| aws.organizations().list_accounts_for_parent().parent_id(&id).set_next_token(token).send(),
        ListAccountsForParentOutput::next_token,
        |page| {
            for a in page.accounts.unwrap_or_default() {
                accounts.push(Account {
                    id: a.id.unwrap_or_default(),
                    name: a.name.unwrap_or_default(),
                    email: a.email.unwrap_or_default(),
                    status: a.status.as_ref().map_or("UNKNOWN", AccountStatus::as_str).to_string(),
                    ou_path: path.clone(),
                    ou_id: id.clone(),
                    ou_ids: ancestors.clone(),
                    tags: BTreeMap::new(),
                });
            }
            ControlFlow::Continue(())
        },
    )
    .await
    .map_err(aws_err("Organizations.ListAccountsForParent"))?;
    Ok(accounts)
}

async fn list_tags(aws: &Aws, account: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let mut tags = BTreeMap::new();
    aws.organizations_pages(
        |token| aws.organizations().list_tags_for_resource().resource_id(account).set_next_token(token).send(),
        ListTagsForResourceOutput::next_token,
        |page| {
            tags.extend(page.tags.unwrap_or_default().into_iter().map(|t| (t.key, t.value)));
            ControlFlow::Continue(())
        },
    )
    .await
    .map_err(aws_err("Organizations.ListTagsForResource"))?;
    Ok(tags)
}
