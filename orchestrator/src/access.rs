//! `accounts --check-access`: assume the role in every account concurrently and report, per
//! account, ok / access denied / other with the AWS error code.
use futures::stream::{self, StreamExt};
use serde::Serialize;

use crate::aws::Aws;
use crate::discovery::Account;

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum AccessOutcome {
    Ok,
    AccessDenied,
    Other,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccessResult {
    pub account: String,
    pub outcome: AccessOutcome,
    /// `assume-role`, or `base-credentials` for the account the base credentials already act in.
    pub via: &'static str,
    pub error_code: Option<String>,
    pub message: Option<String>,
}

pub async fn check_access(aws: &Aws, accounts: &[Account], caller_account: &str, concurrency: usize) -> Vec<AccessResult> {
    let mut results: Vec<AccessResult> = stream::iter(accounts)
        .map(|a| async move {
            if a.id == caller_account {
                return AccessResult { account: a.id.clone(), outcome: AccessOutcome::Ok, via: "base-credentials", error_code: None, message: None };
            }
            match aws.role_provider(&a.id).assume().await {
                Ok(_) => AccessResult { account: a.id.clone(), outcome: AccessOutcome::Ok, via: "assume-role", error_code: None, message: None },
                Err(e) => AccessResult {
                    account: a.id.clone(),
                    outcome: if e.is_access_denied() { AccessOutcome::AccessDenied } else { AccessOutcome::Other },
                    via: "assume-role",
                    error_code: e.code.clone(),
                    message: Some(e.message),
                },
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    results.sort_by(|a, b| a.account.cmp(&b.account));
    results
}
