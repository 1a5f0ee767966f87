//! The trail controls: CloudTrail.1 (multi-region, read+write management events, logging),
//! CloudTrail.2 (SSE-KMS), CloudTrail.4 (log file validation), CloudTrail.5 (CloudWatch Logs when
//! configured), S3.22 / S3.23 (S3 object-level write / read events).
//!
//! Audited trails: in organization mode, every organization trail the management account owns,
//! read in the home region with the base credentials (orgtrail's own, and e.g. Control Tower's when
//! adopted or left the management events); in account mode, orgtrail's trail in each target.
use aws_sdk_cloudtrail::types::{ReadWriteType, Trail as LiveTrail};
use futures::stream::{self, StreamExt};

use super::{Control, Finding, Status};
use crate::config::TrailMode;
use crate::steps::account_trail::account_trail_arn;
use crate::aws::Site;
use crate::steps::support::{in_region, trail_resource};
use crate::steps::trail::selectors::Op;
use crate::steps::trail::{describe, Selector};
use crate::steps::{Ctx, StepError};

/// What a trail's selectors log, from advanced or basic selectors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Coverage {
    pub management_read: bool,
    pub management_write: bool,
    pub s3_read: DataScope,
    pub s3_write: DataScope,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum DataScope {
    #[default]
    None,
    /// Only objects under these ARN prefixes.
    Listed(Vec<String>),
    /// Every bucket (the log bucket itself may be excluded, as the baseline requires).
    All,
}

impl DataScope {
    fn widen(&mut self, other: DataScope) {
        if other > *self {
            *self = other;
        }
    }

    fn describe(&self) -> String {
        match self {
            DataScope::None => "none".into(),
            DataScope::Listed(p) => format!("only {}", p.join(", ")),
            DataScope::All => "all buckets".into(),
        }
    }
}

impl Coverage {
    /// (reads, writes) a selector's `readOnly` field allows: absent means both.
    fn read_write(values: Option<&std::collections::BTreeSet<String>>) -> (bool, bool) {
        match values {
            None => (true, true),
            Some(v) => (v.contains("true"), v.contains("false")),
        }
    }

    pub fn from_advanced(selectors: &[Selector]) -> Coverage {
        let mut c = Coverage::default();
        for s in selectors {
            let equals = |field: &str| s.fields.get(field).and_then(|ops| ops.get(&Op::Equals));
            let (read, write) = Self::read_write(equals("readOnly"));
            let category = equals("eventCategory");
            if category.is_some_and(|v| v.contains("Management")) {
                c.management_read |= read;
                c.management_write |= write;
            }
            if category.is_some_and(|v| v.contains("Data")) && equals("resources.type").is_some_and(|v| v.contains("AWS::S3::Object")) {
                let listed: Vec<String> = s.fields.get("resources.ARN").and_then(|ops| ops.get(&Op::StartsWith)).map(|v| v.iter().cloned().collect()).unwrap_or_default();
                let scope = if listed.is_empty() { DataScope::All } else { DataScope::Listed(listed) };
                if read {
                    c.s3_read.widen(scope.clone());
                }
                if write {
                    c.s3_write.widen(scope);
                }
            }
        }
        c
    }

    pub fn from_basic(out: &aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput) -> Coverage {
        let mut c = Coverage::default();
        if out.event_selectors().is_empty() {
            // No selectors at all is CloudTrail's default: all management events, no data events.
            return Coverage { management_read: true, management_write: true, ..Coverage::default() };
        }
        for s in out.event_selectors() {
            let (read, write) = match s.read_write_type() {
                Some(ReadWriteType::ReadOnly) => (true, false),
                Some(ReadWriteType::WriteOnly) => (false, true),
                _ => (true, true),
            };
            if s.include_management_events() != Some(false) {
                c.management_read |= read;
                c.management_write |= write;
            }
            for d in s.data_resources().iter().filter(|d| d.r#type() == Some("AWS::S3::Object")) {
                let all = d.values().iter().any(|v| v.trim_end_matches(':') == "arn:aws:s3" || v.ends_with(":s3:::") || v.ends_with(":s3"));
                let scope = if all { DataScope::All } else { DataScope::Listed(d.values().to_vec()) };
                if read {
                    c.s3_read.widen(scope.clone());
                }
                if write {
                    c.s3_write.widen(scope);
                }
            }
        }
        c
    }

    fn management(&self) -> &'static str {
        match (self.management_read, self.management_write) {
            (true, true) => "read+write",
            (true, false) => "read only",
            (false, true) => "write only",
            (false, false) => "none",
        }
    }
}

/// One audited trail as read live.
struct Audited {
    account: String,
    arn: String,
    trail: LiveTrail,
    logging: bool,
    coverage: Coverage,
}

impl Audited {
    fn multi_region(&self) -> bool {
        self.trail.is_multi_region_trail() == Some(true)
    }

    fn summary(&self) -> String {
        format!(
            "IsMultiRegionTrail={}; management events: {}; IsLogging={}",
            self.multi_region(),
            self.coverage.management(),
            self.logging
        )
    }
}

/// A trail read in full, or one whose selectors or status could not be read.
type TrailRead = Result<Audited, Unread>;

/// A listed trail whose selectors or status could not be read, and why.
struct Unread {
    arn: String,
    trail: LiveTrail,
    error: StepError,
}

/// The trails of one account that the account-level controls (CloudTrail.1, S3.22/23) and the
/// delivery-topic control look at.
pub(super) struct Scope {
    pub(super) account: String,
    /// The trail orgtrail manages there (named in findings when no trail exists).
    pub(super) expected: String,
    trails: Result<Vec<TrailRead>, StepError>,
}

impl Scope {
    /// Every trail the scope's DescribeTrails listed, read in full or not.
    pub(super) fn listed(&self) -> Result<Vec<&LiveTrail>, &StepError> {
        self.trails.as_ref().map(|ts| ts.iter().map(|t| t.as_ref().map_or_else(|u| &u.trail, |a| &a.trail)).collect())
    }
}

/// The trails audited: the management account's organization trails, or each targeted account's own.
pub(super) async fn scopes(ctx: &Ctx<'_>) -> Vec<Scope> {
    match ctx.config.trail.mode {
        TrailMode::Organization => vec![org_scope(ctx).await],
        TrailMode::Account => {
            stream::iter(ctx.targets.iter()).map(|a| account_scope(ctx, a.as_str())).buffer_unordered(ctx.config.access.max_concurrency.max(1)).collect().await
        }
    }
}

pub(super) fn check(ctx: &Ctx<'_>, scopes: &[Scope], key_arn: Result<&Option<String>, &StepError>) -> Vec<Finding> {
    scopes.iter().flat_map(|scope| judge(ctx, scope, key_arn)).collect()
}

async fn org_scope(ctx: &Ctx<'_>) -> Scope {
    let acting = ctx.caller.account.clone();
    let mgmt = ctx.management_account().to_string();
    let ct = ctx.aws.cloudtrail(&in_region(ctx.aws.base(), ctx.home_region()));
    let owned_by_mgmt = |t: &LiveTrail| t.is_organization_trail() == Some(true) && t.trail_arn().and_then(crate::aws::Arn::account_of).is_some_and(|a| a == mgmt);
    let trails = match describe(&ct, &acting, true).await {
        Err(e) => Err(e),
        Ok(listed) => {
            let mut seen = std::collections::BTreeSet::new();
            let ours: Vec<LiveTrail> = listed.into_iter().filter(|t| owned_by_mgmt(t) && seen.insert(t.trail_arn().unwrap_or_default().to_string())).collect();
            Ok(read_all(&ct, &acting, ours).await)
        }
    };
    Scope { account: mgmt, expected: ctx.trail_arn(), trails }
}

async fn account_scope(ctx: &Ctx<'_>, account: &str) -> Scope {
    let ct = ctx.aws.cloudtrail(&in_region(&ctx.session(account), ctx.home_region()));
    let expected = account_trail_arn(ctx, account);
    let trails = match describe(&ct, account, false).await {
        Err(e) => Err(e),
        Ok(listed) => Ok(read_all(&ct, account, listed.into_iter().filter(|t| t.trail_arn() == Some(expected.as_str())).collect()).await),
    };
    Scope { account: account.to_string(), expected, trails }
}

async fn read_all(ct: &aws_sdk_cloudtrail::Client, account: &str, trails: Vec<LiveTrail>) -> Vec<TrailRead> {
    let mut out = Vec::new();
    for t in trails {
        let arn = t.trail_arn().unwrap_or_default().to_string();
        out.push(read_one(ct, account, t.clone()).await.map_err(|error| Unread { arn, trail: t, error }));
    }
    out
}

/// Selectors and status, one call each: advanced selectors read the way the org-trail step
/// compares them, basic ones (which it does not keep) from the same answer.
async fn read_one(ct: &aws_sdk_cloudtrail::Client, account: &str, trail: LiveTrail) -> Result<Audited, StepError> {
    let arn = trail.trail_arn().unwrap_or_default().to_string();
    let site = Site::new(account, ct.config().region(), trail_resource(&arn));
    let (sel, status) = tokio::join!(ct.get_event_selectors().trail_name(&arn).send(), ct.get_trail_status().name(&arn).send());
    let sel = sel.map_err(site.fail("CloudTrail.GetEventSelectors"))?;
    let logging = status.map_err(site.fail("CloudTrail.GetTrailStatus"))?.is_logging() == Some(true);
    let coverage = match sel.advanced_event_selectors() {
        [] => Coverage::from_basic(&sel),
        advanced => Coverage::from_advanced(&advanced.iter().map(Selector::from_sdk).collect::<Vec<_>>()),
    };
    Ok(Audited { account: account.to_string(), arn, trail, logging, coverage })
}

fn judge(ctx: &Ctx<'_>, scope: &Scope, key_arn: Result<&Option<String>, &StepError>) -> Vec<Finding> {
    let account = scope.account.as_str();
    let per_trail = [Control::CloudTrail2, Control::CloudTrail4, Control::CloudTrail5];
    let account_level = [Control::CloudTrail1, Control::S3_22, Control::S3_23];
    let trails = match &scope.trails {
        Err(e) => return per_trail.iter().chain(&account_level).map(|c| Finding::error(*c, account, trail_resource(&scope.expected), e)).collect(),
        Ok(t) => t,
    };
    let mut out = Vec::new();
    let readable: Vec<&Audited> = trails.iter().filter_map(|t| t.as_ref().ok()).collect();
    for t in trails {
        match t {
            Err(u) => out.extend(per_trail.iter().map(|c| Finding::error(*c, account, trail_resource(&u.arn), &u.error))),
            Ok(t) => {
                out.push(encryption(ctx, t, key_arn));
                out.push(validation(t));
                out.push(cloudwatch(ctx, t));
            }
        }
    }
    if trails.is_empty() {
        let missing = match ctx.config.trail.mode {
            TrailMode::Organization => format!("no organization trail of the management account {account} in {} (DescribeTrails)", ctx.home_region()),
            TrailMode::Account => format!("trail {} does not exist in account {account} (DescribeTrails)", scope.expected),
        };
        out.extend(per_trail.iter().chain(&account_level).map(|c| Finding::new(*c, account, trail_resource(&scope.expected), Status::Fail, missing.clone())));
        return out;
    }
    let unreadable = trails.iter().find_map(|t| t.as_ref().err());
    out.push(best_of(Control::CloudTrail1, account, &readable, unreadable, |t| t.multi_region() && t.logging && t.coverage.management_read && t.coverage.management_write, Audited::summary));
    let data = |t: &Audited, scope: &DataScope| format!("IsMultiRegionTrail={}; S3 object-level events: {}", t.multi_region(), scope.describe());
    out.push(best_of(Control::S3_22, account, &readable, unreadable, |t| t.multi_region() && t.coverage.s3_write == DataScope::All, |t| data(t, &t.coverage.s3_write)));
    out.push(best_of(Control::S3_23, account, &readable, unreadable, |t| t.multi_region() && t.coverage.s3_read == DataScope::All, |t| data(t, &t.coverage.s3_read)));
    out
}

/// An account-level control: PASS on the first trail that satisfies it, else FAIL with every trail's
/// evidence (ERROR when a trail could not be read and none passed: that one might have).
fn best_of(
    control: Control,
    account: &str,
    trails: &[&Audited],
    unreadable: Option<&Unread>,
    ok: impl Fn(&Audited) -> bool,
    evidence: impl Fn(&Audited) -> String,
) -> Finding {
    if let Some(t) = trails.iter().find(|t| ok(t)) {
        return Finding::new(control, account, trail_resource(&t.arn), Status::Pass, evidence(t));
    }
    if let Some(u) = unreadable {
        return Finding::error(control, account, trail_resource(&u.arn), &u.error);
    }
    let resource = trails.iter().map(|t| trail_resource(&t.arn)).collect::<Vec<_>>().join(", ");
    let evidence = match trails {
        [one] => evidence(one),
        many => many.iter().map(|t| format!("{}: {}", t.arn, evidence(t))).collect::<Vec<_>>().join(" | "),
    };
    Finding::new(control, account, resource, Status::Fail, evidence)
}

/// CloudTrail.2: SSE-KMS; orgtrail's own trail must use the configured key.
fn encryption(ctx: &Ctx<'_>, t: &Audited, key_arn: Result<&Option<String>, &StepError>) -> Finding {
    let live = t.trail.kms_key_id().filter(|k| !k.is_empty());
    let ours = t.arn == ctx.trail_arn() || t.arn == account_trail_arn(ctx, &t.account);
    let alias = &ctx.config.log_archive.kms_alias;
    let (status, evidence) = match (live, ours, key_arn) {
        (None, _, _) => (Status::Fail, "KmsKeyId not set (log files encrypted with SSE-S3 only)".to_string()),
        (Some(k), true, Ok(Some(want))) if k != want => (Status::Fail, format!("KmsKeyId={k}, not the configured key {want} ({alias})")),
        (Some(k), true, Ok(None)) => (Status::Fail, format!("KmsKeyId={k}, but {alias} names no key")),
        (Some(k), _, _) => (Status::Pass, format!("KmsKeyId={k}")),
    };
    Finding::new(Control::CloudTrail2, &t.account, trail_resource(&t.arn), status, evidence)
}

/// CloudTrail.4.
fn validation(t: &Audited) -> Finding {
    let on = t.trail.log_file_validation_enabled() == Some(true);
    Finding::new(Control::CloudTrail4, &t.account, trail_resource(&t.arn), if on { Status::Pass } else { Status::Fail }, format!("LogFileValidationEnabled={on}"))
}

/// CloudTrail.5: NOT-APPLICABLE unless `[trail.cloudwatch_logs]` is configured.
fn cloudwatch(ctx: &Ctx<'_>, t: &Audited) -> Finding {
    let group = t.trail.cloud_watch_logs_log_group_arn().filter(|g| !g.is_empty());
    let evidence = format!("CloudWatchLogsLogGroupArn={}", group.unwrap_or("(none)"));
    let status = match (&ctx.config.trail.cloudwatch_logs, group) {
        (None, _) => return Finding::new(Control::CloudTrail5, &t.account, trail_resource(&t.arn), Status::NotApplicable, format!("{evidence}; [trail.cloudwatch_logs] not configured")),
        (Some(want), Some(g)) if g == want.log_group_arn && t.trail.cloud_watch_logs_role_arn() == Some(want.role_arn.as_str()) => Status::Pass,
        (Some(_), _) => Status::Fail,
    };
    let role = t.trail.cloud_watch_logs_role_arn().unwrap_or("(none)");
    Finding::new(Control::CloudTrail5, &t.account, trail_resource(&t.arn), status, format!("{evidence}; CloudWatchLogsRoleArn={role}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{EventScope, ExistingOrgTrail, LegacyTrails, Trail, TrailMode};
    use crate::steps::trail::desired_selectors;

    fn trail(management: EventScope, s3: EventScope, buckets: Vec<String>) -> Trail {
        Trail {
            name: "t".into(),
            mode: TrailMode::Organization,
            management_events: management,
            existing_org_trail: ExistingOrgTrail::Refuse,
            legacy_trails: LegacyTrails::Keep,
            sns_topic: None,
            cloudwatch_logs: None,
            delivery_check: false,
            s3_data_events: s3,
            s3_data_event_buckets: buckets,
        }
    }

    #[test]
    fn coverage_of_orgtrails_own_selectors() {
        let all = Coverage::from_advanced(&desired_selectors(&trail(EventScope::All, EventScope::All, vec![]), "aws", "logs", true));
        assert_eq!((all.management_read, all.management_write, &all.s3_read, &all.s3_write), (true, true, &DataScope::All, &DataScope::All));
        let write_only = Coverage::from_advanced(&desired_selectors(&trail(EventScope::Write, EventScope::Read, vec!["app".into()]), "aws", "logs", true));
        assert_eq!((write_only.management_read, write_only.management_write), (false, true));
        assert_eq!((&write_only.s3_read, &write_only.s3_write), (&DataScope::Listed(vec!["arn:aws:s3:::app/".into()]), &DataScope::None));
    }
}
