//! The organization trail, converged from the management account (or a CloudTrail delegated
//! administrator) in the home region: read (DescribeTrails, GetEventSelectors, GetTrailStatus),
//! then CreateTrail when absent or UpdateTrail to converge (never delete-and-recreate: that leaves
//! a gap in the audit record), PutEventSelectors, StartLogging, and GetTrailStatus to confirm.
//! The trail is addressed by its full ARN everywhere but CreateTrail: a delegated administrator
//! calling by bare name gets TrailNotFoundException, the trail belonging to the management account.
//!
//! The trail engine (`TrailSpec`, `observe`, `converge_trail`) is shared with `account_trail`;
//! selectors live in `selectors` below, the optional SNS topic in `topic`.
use aws_config::{Region, SdkConfig};
use aws_sdk_cloudtrail::types::Trail as LiveTrail;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::{Action, Change, Ctx, Outcome, StepError, StepResult};
use crate::aws::AwsError;
use crate::config::{CloudWatchLogs, ExistingOrgTrail};

pub use selectors::{desired_selectors, logs_management_events, Selector};

/// An SDK failure as a step error naming the account, the resource and the AWS operation and code.
pub(crate) fn fail<'a, E, R>(account: &'a str, resource: &'a str, operation: &'static str) -> impl FnOnce(SdkError<E, R>) -> StepError + 'a
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    move |e| StepError::Aws { account: account.to_string(), resource: resource.to_string(), source: AwsError::from_sdk(operation, &e) }
}

/// The same session, pinned to a region (trails are regional resources; the base region may differ).
pub(crate) fn in_region(conf: &SdkConfig, region: &str) -> SdkConfig {
    conf.to_builder().region(Region::new(region.to_string())).build()
}

pub(crate) fn trail_resource(arn: &str) -> String {
    format!("cloudtrail-trail {arn}")
}

/// The log-archive key, looked up live through its alias (so this step can run alone on resume).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRef {
    Arn(String),
    /// The alias resolves to nothing yet: the kms-key step has not run.
    Missing { alias: String },
}

/// The key behind the configured alias, from the kms-key step's own lookup. A trail needs the full
/// ARN: the key lives in another account than the trail.
pub async fn lookup_key(ctx: &Ctx<'_>) -> Result<KeyRef, StepError> {
    Ok(match super::kms_key::key_arn(ctx).await? {
        Some(arn) => KeyRef::Arn(arn),
        None => KeyRef::Missing { alias: ctx.config.log_archive.kms_alias.clone() },
    })
}

/// The desired state of one trail (the organization trail, or an account trail).
#[derive(Debug, Clone)]
pub struct TrailSpec {
    /// The account whose credentials act on the trail (errors name it).
    pub account: String,
    pub arn: String,
    pub name: String,
    pub organization: bool,
    pub bucket: String,
    pub prefix: Option<String>,
    pub key: KeyRef,
    pub sns_topic: Option<String>,
    pub cloudwatch: Option<CloudWatchLogs>,
    pub selectors: Vec<Selector>,
}

impl TrailSpec {
    /// The baseline for a trail of this config: multi-region, global events, validation, the
    /// central bucket and key, and the configured selectors (management events only when `management`).
    pub fn new(ctx: &Ctx<'_>, account: &str, arn: String, organization: bool, key: KeyRef, management: bool) -> TrailSpec {
        let la = &ctx.config.log_archive;
        TrailSpec {
            account: account.to_string(),
            arn,
            name: ctx.config.trail.name.clone(),
            organization,
            bucket: la.bucket.clone(),
            prefix: la.prefix.clone().filter(|p| !p.is_empty()),
            key,
            sns_topic: ctx.config.trail.sns_topic.clone(),
            cloudwatch: ctx.config.trail.cloudwatch_logs.clone(),
            selectors: {
                let mut s = desired_selectors(&ctx.config.trail, ctx.partition(), &la.bucket, management);
                // Issue 15: network activity selectors join the organization trail's.
                if organization {
                    s.extend(super::detection::network_selectors(ctx));
                }
                s
            },
        }
    }
}

/// A trail property that can differ from the spec; named as CreateTrail/UpdateTrail name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    IsOrganizationTrail,
    IsMultiRegionTrail,
    IncludeGlobalServiceEvents,
    EnableLogFileValidation,
    KmsKeyId,
    S3BucketName,
    S3KeyPrefix,
    SnsTopicName,
    CloudWatchLogs,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::IsOrganizationTrail => "IsOrganizationTrail",
            Field::IsMultiRegionTrail => "IsMultiRegionTrail",
            Field::IncludeGlobalServiceEvents => "IncludeGlobalServiceEvents",
            Field::EnableLogFileValidation => "EnableLogFileValidation",
            Field::KmsKeyId => "KmsKeyId",
            Field::S3BucketName => "S3BucketName",
            Field::S3KeyPrefix => "S3KeyPrefix",
            Field::SnsTopicName => "SnsTopicName",
            Field::CloudWatchLogs => "CloudWatchLogsLogGroupArn/CloudWatchLogsRoleArn",
        }
    }
}

pub const SELECTORS_FIELD: &str = "AdvancedEventSelectors";
pub const LOGGING_FIELD: &str = "IsLogging";

fn same(live: Option<&str>, want: Option<&str>) -> bool {
    live.unwrap_or("") == want.unwrap_or("")
}

/// The trail properties that differ from the spec.
pub fn diff_properties(spec: &TrailSpec, t: &LiveTrail) -> Vec<Field> {
    let mut out = Vec::new();
    let flag = |v: Option<bool>| v.unwrap_or(false);
    if flag(t.is_organization_trail()) != spec.organization {
        out.push(Field::IsOrganizationTrail);
    }
    if !flag(t.is_multi_region_trail()) {
        out.push(Field::IsMultiRegionTrail);
    }
    if !flag(t.include_global_service_events()) {
        out.push(Field::IncludeGlobalServiceEvents);
    }
    if !flag(t.log_file_validation_enabled()) {
        out.push(Field::EnableLogFileValidation);
    }
    match &spec.key {
        KeyRef::Arn(arn) if t.kms_key_id() == Some(arn.as_str()) => {}
        _ => out.push(Field::KmsKeyId),
    }
    if t.s3_bucket_name() != Some(spec.bucket.as_str()) {
        out.push(Field::S3BucketName);
    }
    if !same(t.s3_key_prefix(), spec.prefix.as_deref()) {
        out.push(Field::S3KeyPrefix);
    }
    // CloudTrail reports the topic by ARN (SnsTopicName is deprecated in responses).
    let live_topic = t.sns_topic_arn().unwrap_or("").rsplit(':').next().unwrap_or("");
    let topic_ok = live_topic == spec.sns_topic.as_deref().unwrap_or("");
    if !topic_ok {
        out.push(Field::SnsTopicName);
    }
    let cw = spec.cloudwatch.as_ref();
    if !same(t.cloud_watch_logs_log_group_arn(), cw.map(|c| c.log_group_arn.as_str())) || !same(t.cloud_watch_logs_role_arn(), cw.map(|c| c.role_arn.as_str())) {
        out.push(Field::CloudWatchLogs);
    }
    out
}

/// A trail as it is now: its description, its selectors (None: basic or default selectors), and logging.
#[derive(Debug, Clone)]
pub struct Observed {
    pub trail: LiveTrail,
    pub selectors: Option<Vec<Selector>>,
    pub logs_management_events: bool,
    pub logging: bool,
}

/// DescribeTrails in the client's region, shadow trails included (organization trails in members,
/// multi-region trails homed elsewhere).
pub async fn describe(ct: &aws_sdk_cloudtrail::Client, account: &str, include_shadow: bool) -> Result<Vec<LiveTrail>, StepError> {
    let out = ct.describe_trails().include_shadow_trails(include_shadow).send().await.map_err(fail(account, "cloudtrail-trails", "CloudTrail.DescribeTrails"))?;
    Ok(out.trail_list().to_vec())
}

/// Selectors and status of a trail seen in DescribeTrails, read by its ARN.
pub async fn observe(ct: &aws_sdk_cloudtrail::Client, account: &str, trail: LiveTrail) -> Result<Observed, StepError> {
    let arn = trail.trail_arn().unwrap_or_default().to_string();
    let resource = trail_resource(&arn);
    let sel = ct.get_event_selectors().trail_name(&arn).send().await.map_err(fail(account, &resource, "CloudTrail.GetEventSelectors"))?;
    let status = ct.get_trail_status().name(&arn).send().await.map_err(fail(account, &resource, "CloudTrail.GetTrailStatus"))?;
    let advanced = sel.advanced_event_selectors();
    Ok(Observed {
        selectors: (!advanced.is_empty()).then(|| advanced.iter().map(Selector::from_sdk).collect()),
        logs_management_events: logs_management_events(&sel),
        logging: status.is_logging().unwrap_or(false),
        trail,
    })
}

/// Read, compare and (when applying) converge one trail through `ct` (in the trail's home region).
/// `live` is the trail as DescribeTrails showed it, if it exists.
pub async fn converge_trail(ctx: &Ctx<'_>, ct: &aws_sdk_cloudtrail::Client, spec: &TrailSpec, live: Option<LiveTrail>) -> StepResult {
    let resource = trail_resource(&spec.arn);
    if spec.selectors.is_empty() {
        return Err(StepError::refused(&spec.account, resource, "the trail would log nothing: [trail] management_events and [trail.data_events] s3 are both \"none\""));
    }
    let mut outcome = Outcome::default();
    let key_arn = match &spec.key {
        KeyRef::Arn(arn) => Some(arn.clone()),
        KeyRef::Missing { alias } if ctx.apply => {
            return Err(StepError::refused(
                &spec.account,
                resource,
                format!("KMS key {alias} does not exist in the log-archive account {}: the kms-key step must run first", ctx.config.log_archive.account),
            ))
        }
        KeyRef::Missing { .. } => None,
    };
    let Some(live) = live else {
        if let (true, Some(key_arn)) = (ctx.apply, &key_arn) {
            create(ct, spec, key_arn, &resource).await?;
            put_selectors(ct, spec, &resource).await?;
            start_and_confirm(ct, spec, &resource).await?;
        }
        let resource = match &spec.key {
            KeyRef::Missing { alias } => format!("{resource} (KMS key {alias}: created by kms-key step)"),
            KeyRef::Arn(_) => resource,
        };
        outcome.push(Change::new(resource, Action::Create));
        return Ok(outcome);
    };
    let seen = observe(ct, &spec.account, live).await?;
    let props = diff_properties(spec, &seen.trail);
    let selectors_differ = !selectors::same_set(seen.selectors.as_deref(), &spec.selectors);
    let mut fields: Vec<String> = props
        .iter()
        .map(|f| match (f, &spec.key) {
            (Field::KmsKeyId, KeyRef::Missing { .. }) => "KmsKeyId (created by kms-key step)".to_string(),
            _ => f.as_str().to_string(),
        })
        .collect();
    if selectors_differ {
        fields.push(SELECTORS_FIELD.into());
    }
    if !seen.logging {
        fields.push(LOGGING_FIELD.into());
    }
    if ctx.apply {
        if let (false, Some(key_arn)) = (props.is_empty(), &key_arn) {
            update(ct, spec, key_arn, &props, &resource).await?;
        }
        if selectors_differ {
            put_selectors(ct, spec, &resource).await?;
        }
        if !seen.logging {
            start_and_confirm(ct, spec, &resource).await?;
        }
    }
    outcome.push(Change::update(resource, fields));
    Ok(outcome)
}

async fn create(ct: &aws_sdk_cloudtrail::Client, spec: &TrailSpec, key_arn: &str, resource: &str) -> Result<(), StepError> {
    let cw = spec.cloudwatch.as_ref();
    let out = ct
        .create_trail()
        .name(&spec.name)
        .s3_bucket_name(&spec.bucket)
        .set_s3_key_prefix(spec.prefix.clone())
        .set_sns_topic_name(spec.sns_topic.clone())
        .include_global_service_events(true)
        .is_multi_region_trail(true)
        .enable_log_file_validation(true)
        .is_organization_trail(spec.organization)
        .kms_key_id(key_arn)
        .set_cloud_watch_logs_log_group_arn(cw.map(|c| c.log_group_arn.clone()))
        .set_cloud_watch_logs_role_arn(cw.map(|c| c.role_arn.clone()))
        .send()
        .await
        .map_err(fail(&spec.account, resource, "CloudTrail.CreateTrail"))?;
    // Every later call addresses the trail by this ARN (a delegated administrator's organization
    // trail belongs to the management account): a trail created elsewhere would be lost track of.
    match out.trail_arn() {
        Some(arn) if arn != spec.arn => Err(StepError::refused(
            &spec.account,
            resource,
            format!("CreateTrail made {arn}, not the expected {}: the caller is neither the management account nor a registered CloudTrail delegated administrator", spec.arn),
        )),
        _ => Ok(()),
    }
}

/// UpdateTrail with only the fields that differ (an empty string removes an optional setting).
async fn update(ct: &aws_sdk_cloudtrail::Client, spec: &TrailSpec, key_arn: &str, fields: &[Field], resource: &str) -> Result<(), StepError> {
    let mut req = ct.update_trail().name(&spec.arn);
    for f in fields {
        req = match f {
            Field::IsOrganizationTrail => req.is_organization_trail(spec.organization),
            // A multi-region trail must include global service events: send both.
            Field::IsMultiRegionTrail => req.is_multi_region_trail(true).include_global_service_events(true),
            Field::IncludeGlobalServiceEvents => req.include_global_service_events(true),
            Field::EnableLogFileValidation => req.enable_log_file_validation(true),
            Field::KmsKeyId => req.kms_key_id(key_arn),
            Field::S3BucketName => req.s3_bucket_name(&spec.bucket),
            Field::S3KeyPrefix => req.s3_key_prefix(spec.prefix.clone().unwrap_or_default()),
            Field::SnsTopicName => req.sns_topic_name(spec.sns_topic.clone().unwrap_or_default()),
            Field::CloudWatchLogs => {
                let cw = spec.cloudwatch.as_ref();
                req.cloud_watch_logs_log_group_arn(cw.map(|c| c.log_group_arn.clone()).unwrap_or_default())
                    .cloud_watch_logs_role_arn(cw.map(|c| c.role_arn.clone()).unwrap_or_default())
            }
        };
    }
    req.send().await.map_err(fail(&spec.account, resource, "CloudTrail.UpdateTrail"))?;
    Ok(())
}

async fn put_selectors(ct: &aws_sdk_cloudtrail::Client, spec: &TrailSpec, resource: &str) -> Result<(), StepError> {
    let sdk = spec.selectors.iter().map(Selector::to_sdk).collect::<Result<Vec<_>, _>>().map_err(|e| StepError::Aws {
        account: spec.account.clone(),
        resource: resource.to_string(),
        source: AwsError { operation: "CloudTrail.PutEventSelectors".into(), code: None, message: e.to_string() },
    })?;
    ct.put_event_selectors()
        .trail_name(&spec.arn)
        .set_advanced_event_selectors(Some(sdk))
        .send()
        .await
        .map_err(fail(&spec.account, resource, "CloudTrail.PutEventSelectors"))?;
    Ok(())
}

/// StartLogging, then GetTrailStatus must say IsLogging=true.
async fn start_and_confirm(ct: &aws_sdk_cloudtrail::Client, spec: &TrailSpec, resource: &str) -> Result<(), StepError> {
    ct.start_logging().name(&spec.arn).send().await.map_err(fail(&spec.account, resource, "CloudTrail.StartLogging"))?;
    let status = ct.get_trail_status().name(&spec.arn).send().await.map_err(fail(&spec.account, resource, "CloudTrail.GetTrailStatus"))?;
    if status.is_logging() == Some(true) {
        Ok(())
    } else {
        Err(StepError::Aws {
            account: spec.account.clone(),
            resource: resource.to_string(),
            source: AwsError { operation: "CloudTrail.GetTrailStatus".into(), code: None, message: "IsLogging is still false after StartLogging".into() },
        })
    }
}

/// Organization trails other than orgtrail's, as the management account sees them.
fn other_org_trails<'t>(trails: &'t [LiveTrail], ours: &str) -> Vec<&'t LiveTrail> {
    let mut seen = std::collections::BTreeSet::new();
    trails
        .iter()
        .filter(|t| t.is_organization_trail() == Some(true) && t.trail_arn().is_some_and(|a| a != ours && seen.insert(a.to_string())))
        .collect()
}

/// The `org-trail` step.
pub async fn converge(ctx: &Ctx<'_>) -> StepResult {
    // The base credentials act: the management account, or a delegated administrator (the trail
    // is the management account's either way, hence ARNs).
    let acting = ctx.caller.account.clone();
    let conf = in_region(ctx.aws.base(), ctx.home_region());
    let ct = ctx.aws.cloudtrail(&conf);
    let ours = ctx.trail_arn();
    let trails = describe(&ct, &acting, true).await?;
    let others = other_org_trails(&trails, &ours);
    existing_trail_refusal(ctx, &acting, &others)?;
    let management = if others.is_empty() {
        true
    } else {
        match ctx.config.trail.existing_org_trail {
            ExistingOrgTrail::Adopt => return adopt(ctx, &ct, &acting, others.into_iter().cloned().collect()).await,
            ExistingOrgTrail::Refuse | ExistingOrgTrail::DataEventsOnly => false,
        }
    };
    let spec = TrailSpec::new(ctx, &acting, ours.clone(), true, lookup_key(ctx).await?, management);
    let mut outcome = Outcome::default();
    if let Some(name) = &spec.sns_topic {
        outcome.push(topic::converge(ctx, &conf, &acting, name, &ours).await?);
    }
    let live = trails.into_iter().find(|t| t.trail_arn() == Some(ours.as_str()));
    // Issue 15: with a managed log group the cloudwatch-logs step owns the trail's CloudWatch Logs
    // fields (the group and role must exist first): this step leaves them as it finds them.
    let mut spec = spec;
    if ctx.config.detection.log_group.is_some() {
        spec.cloudwatch = live.as_ref().and_then(|t| Some(CloudWatchLogs { log_group_arn: t.cloud_watch_logs_log_group_arn()?.to_string(), role_arn: t.cloud_watch_logs_role_arn()?.to_string() }));
    }
    outcome.changes.extend(converge_trail(ctx, &ct, &spec, live).await?.changes);
    Ok(outcome)
}

/// The refusal the `org-trail` step will give, found before orgtrail's first write (the executor's
/// preflight) and by the step itself: another organization trail under `existing_org_trail =
/// "refuse"`, or a data-events-only trail that would log nothing.
pub async fn preflight(ctx: &Ctx<'_>) -> Result<(), StepError> {
    let acting = ctx.caller.account.clone();
    let ct = ctx.aws.cloudtrail(&in_region(ctx.aws.base(), ctx.home_region()));
    let trails = describe(&ct, &acting, true).await?;
    existing_trail_refusal(ctx, &acting, &other_org_trails(&trails, &ctx.trail_arn()))
}

fn existing_trail_refusal(ctx: &Ctx<'_>, acting: &str, others: &[&LiveTrail]) -> Result<(), StepError> {
    let ours = ctx.trail_arn();
    let names: Vec<&str> = others.iter().filter_map(|t| t.trail_arn()).collect();
    let management = match ctx.config.trail.existing_org_trail {
        _ if others.is_empty() => true,
        ExistingOrgTrail::Refuse => return Err(StepError::refused(acting, trail_resource(&ours), refusal(&names))),
        ExistingOrgTrail::Adopt => return Ok(()),
        ExistingOrgTrail::DataEventsOnly => false,
    };
    if !desired_selectors(&ctx.config.trail, ctx.partition(), &ctx.config.log_archive.bucket, management).is_empty() {
        return Ok(());
    }
    let reason = if management {
        "the trail would log nothing: [trail] management_events and [trail.data_events] s3 are both \"none\""
    } else {
        "the trail would log nothing: management events are left to the existing organization trail (existing_org_trail = \"data-events-only\") and [trail.data_events] s3 = \"none\""
    };
    Err(StepError::refused(acting, trail_resource(&ours), reason))
}

fn refusal(existing: &[&str]) -> String {
    format!(
        "the organization already has an organization trail ({}), e.g. Control Tower's aws-controltower-BaselineCloudTrail. \
         A second organization trail with management events doubles the CloudTrail bill (only the first copy of management \
         events is free). Choose in [trail]: existing_org_trail = \"adopt\" to verify the existing trail instead of creating \
         one, or existing_org_trail = \"data-events-only\" to create orgtrail's trail with S3 data events only, leaving \
         management events to the existing trail",
        existing.join(", ")
    )
}

/// `existing_org_trail = "adopt"`: verify the existing organization trails against the baseline and
/// report drift as a manual action. Another tool owns them: orgtrail never writes to them.
async fn adopt(ctx: &Ctx<'_>, ct: &aws_sdk_cloudtrail::Client, acting: &str, others: Vec<LiveTrail>) -> StepResult {
    let mut outcome = Outcome::default();
    for t in others {
        let seen = observe(ct, acting, t).await?;
        let arn = seen.trail.trail_arn().unwrap_or_default().to_string();
        let bucket = seen.trail.s3_bucket_name().unwrap_or_default().to_string();
        // Judged against its own bucket (whose object events it must not log) and any KMS key.
        let want = desired_selectors(&ctx.config.trail, ctx.partition(), &bucket, true);
        let flag = |v: Option<bool>| v.unwrap_or(false);
        let mut fields: Vec<&str> = Vec::new();
        for (ok, name) in [
            (flag(seen.trail.is_multi_region_trail()), Field::IsMultiRegionTrail.as_str()),
            (flag(seen.trail.include_global_service_events()), Field::IncludeGlobalServiceEvents.as_str()),
            (flag(seen.trail.log_file_validation_enabled()), Field::EnableLogFileValidation.as_str()),
            (!seen.trail.kms_key_id().unwrap_or("").is_empty(), Field::KmsKeyId.as_str()),
            (selectors::same_set(seen.selectors.as_deref(), &want), SELECTORS_FIELD),
            (seen.logging, LOGGING_FIELD),
        ] {
            if !ok {
                fields.push(name);
            }
        }
        let resource = format!("{} (adopted)", trail_resource(&arn));
        outcome.push(if fields.is_empty() {
            Change::no_change(resource)
        } else {
            Change::new(
                resource,
                Action::ManualAction {
                    instructions: format!(
                        "the adopted organization trail {arn} differs from the baseline in: {}. orgtrail does not modify a trail \
                         another tool owns: fix it in that tool (for Control Tower, its landing zone settings), or set \
                         existing_org_trail = \"data-events-only\" to add orgtrail's own data-events trail",
                        fields.join(", ")
                    ),
                },
            )
        });
    }
    Ok(outcome)
}

/// Advanced event selectors: what orgtrail wants, and a canonical form to compare them by.
pub mod selectors {
    use std::collections::{BTreeMap, BTreeSet};

    use aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput;
    use aws_sdk_cloudtrail::types::{AdvancedEventSelector, AdvancedFieldSelector};
    use aws_smithy_types::error::operation::BuildError;

    use crate::config::{EventScope, Trail};

    /// field → operator → values. Selector names are free text, so they take no part in comparing.
    type Fields = BTreeMap<String, BTreeMap<&'static str, BTreeSet<String>>>;

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Selector {
        pub name: String,
        pub fields: Fields,
    }

    const OPS: [&str; 6] = ["Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith"];

    impl Selector {
        fn new(name: &str) -> Self {
            Selector { name: name.into(), fields: Fields::new() }
        }

        fn with(mut self, field: &str, op: &'static str, values: impl IntoIterator<Item = String>) -> Self {
            let set: BTreeSet<String> = values.into_iter().collect();
            if !set.is_empty() {
                self.fields.entry(field.into()).or_default().entry(op).or_default().extend(set);
            }
            self
        }

        fn read_only(self, scope: EventScope) -> Self {
            match scope {
                EventScope::Read => self.with("readOnly", "Equals", ["true".to_string()]),
                EventScope::Write => self.with("readOnly", "Equals", ["false".to_string()]),
                EventScope::All | EventScope::None => self,
            }
        }

        fn selects_management(&self) -> bool {
            self.fields.get("eventCategory").and_then(|ops| ops.get("Equals")).is_some_and(|v| v.contains("Management"))
        }

        pub fn from_sdk(s: &AdvancedEventSelector) -> Selector {
            let mut out = Selector::new(s.name().unwrap_or(""));
            for f in s.field_selectors() {
                let lists: [&[String]; 6] = [f.equals(), f.starts_with(), f.ends_with(), f.not_equals(), f.not_starts_with(), f.not_ends_with()];
                for (op, values) in OPS.iter().zip(lists) {
                    out = out.with(f.field(), op, values.iter().cloned());
                }
            }
            out
        }

        pub fn to_sdk(&self) -> Result<AdvancedEventSelector, BuildError> {
            let mut b = AdvancedEventSelector::builder().name(&self.name);
            for (field, ops) in &self.fields {
                let mut f = AdvancedFieldSelector::builder().field(field);
                for (op, values) in ops {
                    let v: Option<Vec<String>> = Some(values.iter().cloned().collect());
                    f = match *op {
                        "Equals" => f.set_equals(v),
                        "StartsWith" => f.set_starts_with(v),
                        "EndsWith" => f.set_ends_with(v),
                        "NotEquals" => f.set_not_equals(v),
                        "NotStartsWith" => f.set_not_starts_with(v),
                        _ => f.set_not_ends_with(v),
                    };
                }
                b = b.field_selectors(f.build()?);
            }
            b.build()
        }
    }

    /// The name the console gives the management-events selector. Auditors match it by name (Prowler's
    /// CIS 3.1 / CloudTrail.1 check recognises advanced selectors for management events only by it).
    pub const MANAGEMENT_SELECTOR_NAME: &str = "Management events selector";

    /// Same selectors, whatever their order and names, except that the management-events selector must
    /// carry MANAGEMENT_SELECTOR_NAME: a trail made under an older name is renamed by the normal
    /// PutEventSelectors. `live == None` (basic or default selectors) never equals a wanted advanced set.
    pub fn same_set(live: Option<&[Selector]>, want: &[Selector]) -> bool {
        let canon = |s: &[Selector]| {
            let mut v: Vec<(Fields, Option<String>)> = s.iter().map(|x| (x.fields.clone(), x.selects_management().then(|| x.name.clone()))).collect();
            v.sort();
            v
        };
        match live {
            Some(live) => canon(live) == canon(want),
            None => want.is_empty(),
        }
    }

    /// Management events per `management_events` (when `management`), and S3 object-level events
    /// per `data_events`, never of the log bucket itself: logging its own writes feeds on itself.
    pub fn desired_selectors(trail: &Trail, partition: &str, log_bucket: &str, management: bool) -> Vec<Selector> {
        let mut out = Vec::new();
        if management && trail.management_events != EventScope::None {
            out.push(Selector::new(MANAGEMENT_SELECTOR_NAME).with("eventCategory", "Equals", ["Management".to_string()]).read_only(trail.management_events));
        }
        if trail.s3_data_events != EventScope::None {
            let listed = trail.s3_data_event_buckets.iter().map(|b| format!("arn:{partition}:s3:::{b}/"));
            out.push(
                Selector::new("S3 object-level events")
                    .with("eventCategory", "Equals", ["Data".to_string()])
                    .with("resources.type", "Equals", ["AWS::S3::Object".to_string()])
                    .read_only(trail.s3_data_events)
                    .with("resources.ARN", "StartsWith", listed)
                    .with("resources.ARN", "NotStartsWith", [format!("arn:{partition}:s3:::{log_bucket}/")]),
            );
        }
        out
    }

    /// Whether a trail's selectors log management events. No selectors at all is CloudTrail's
    /// default: all management events.
    pub fn logs_management_events(out: &GetEventSelectorsOutput) -> bool {
        let advanced = out.advanced_event_selectors();
        let basic = out.event_selectors();
        if !advanced.is_empty() {
            advanced.iter().any(|s| s.field_selectors().iter().any(|f| f.field() == "eventCategory" && f.equals().iter().any(|v| v == "Management")))
        } else if !basic.is_empty() {
            basic.iter().any(|s| s.include_management_events() != Some(false))
        } else {
            true
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn trail() -> Trail {
            crate::config::parse(std::path::Path::new("t.toml"), crate::config::EXAMPLE).map(|c| c.trail).expect("example parses")
        }

        #[test]
        fn compares_by_content_not_order_or_name() {
            let t = trail();
            let want = desired_selectors(&t, "aws", "logs", true);
            assert_eq!(want[0].name, "Management events selector");
            let mut shuffled: Vec<Selector> = want.iter().rev().cloned().map(|mut s| {
                if !s.selects_management() {
                    s.name = "renamed".into();
                }
                s
            }).collect();
            assert!(same_set(Some(&shuffled), &want));
            // The management selector under its old name ("Management events") is drift: Prowler would not see it.
            let mut old_name = want.clone();
            old_name[0].name = "Management events".into();
            assert!(!same_set(Some(&old_name), &want));
            shuffled[0].fields.remove("resources.ARN");
            assert!(!same_set(Some(&shuffled), &want));
            assert!(!same_set(None, &want));
        }

        #[test]
        fn always_excludes_the_log_bucket_and_maps_scopes() {
            let mut t = trail();
            t.management_events = EventScope::Write;
            t.s3_data_events = EventScope::Read;
            t.s3_data_event_buckets = vec!["data".into()];
            let s = desired_selectors(&t, "aws-us-gov", "logs", true);
            assert_eq!(s[0].fields["readOnly"]["Equals"], BTreeSet::from(["false".to_string()]));
            let arn = &s[1].fields["resources.ARN"];
            assert_eq!(arn["NotStartsWith"], BTreeSet::from(["arn:aws-us-gov:s3:::logs/".to_string()]));
            assert_eq!(arn["StartsWith"], BTreeSet::from(["arn:aws-us-gov:s3:::data/".to_string()]));
            assert_eq!(s[1].fields["readOnly"]["Equals"], BTreeSet::from(["true".to_string()]));
            assert_eq!(desired_selectors(&t, "aws", "logs", false).len(), 1, "data-events-only: no management selector");
            let back = Selector::from_sdk(&s[1].to_sdk().expect("builds"));
            assert_eq!(back, s[1]);
        }
    }
}

/// The trail's delivery-notification topic, owned by this step: created in the trail's account and
/// home region, with a statement letting CloudTrail publish for this trail only (aws:SourceArn).
pub mod topic {
    use aws_config::SdkConfig;
    use serde_json::{json, Value};

    use super::fail;
    use crate::aws::AwsError;
    use crate::steps::{Action, Change, Ctx, StepError};

    pub const SID: &str = "AWSCloudTrailSNSPolicy";

    pub fn statement(topic_arn: &str, trail_arn: &str) -> Value {
        json!({
            "Sid": SID,
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "SNS:Publish",
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
        })
    }

    /// Scalars and one-element lists alike, lists sorted, action names case-insensitive.
    fn normalize(v: &Value, key: &str) -> Value {
        match v {
            Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), normalize(v, k))).collect()),
            Value::Array(a) if a.len() == 1 => normalize(&a[0], key),
            Value::Array(a) => {
                let mut items: Vec<Value> = a.iter().map(|x| normalize(x, key)).collect();
                items.sort_by_key(|x| x.to_string());
                Value::Array(items)
            }
            Value::String(s) if key == "Action" => Value::String(s.to_ascii_lowercase()),
            other => other.clone(),
        }
    }

    /// The policy with orgtrail's statement in place (other statements kept), or None when it already is.
    pub fn merged(policy: Option<&str>, want: &Value) -> Option<Value> {
        let mut doc: Value = policy.and_then(|p| serde_json::from_str(p).ok()).unwrap_or_else(|| json!({"Version": "2012-10-17", "Statement": []}));
        if !doc["Statement"].is_array() {
            doc["Statement"] = json!([doc["Statement"].take()].into_iter().filter(|s| !s.is_null()).collect::<Vec<_>>());
        }
        let statements = doc["Statement"].as_array_mut()?;
        if statements.iter().any(|s| normalize(s, "") == normalize(want, "")) {
            return None;
        }
        statements.retain(|s| s["Sid"] != SID);
        statements.push(want.clone());
        Some(doc)
    }

    pub async fn converge(ctx: &Ctx<'_>, conf: &SdkConfig, account: &str, name: &str, trail_arn: &str) -> Result<Change, StepError> {
        let topic_arn = format!("arn:{}:sns:{}:{account}:{name}", ctx.partition(), ctx.home_region());
        let resource = format!("sns-topic {topic_arn}");
        let sns = ctx.aws.sns(conf);
        let policy = match sns.get_topic_attributes().topic_arn(&topic_arn).send().await {
            Ok(out) => Some(out.attributes().and_then(|a| a.get("Policy")).cloned().unwrap_or_default()),
            Err(e) => {
                let e = AwsError::from_sdk("SNS.GetTopicAttributes", &e);
                if !e.is_code("NotFound") {
                    return Err(StepError::Aws { account: account.to_string(), resource, source: e });
                }
                None
            }
        };
        let want = statement(&topic_arn, trail_arn);
        let (action, new_policy) = match &policy {
            None => (Action::Create, merged(None, &want)),
            Some(p) => {
                let m = merged(Some(p), &want);
                (if m.is_some() { Action::Update { fields: vec!["Policy".into()] } } else { Action::NoChange }, m)
            }
        };
        if ctx.apply {
            if policy.is_none() {
                sns.create_topic().name(name).send().await.map_err(fail(account, &resource, "SNS.CreateTopic"))?;
            }
            if let Some(doc) = new_policy {
                sns.set_topic_attributes()
                    .topic_arn(&topic_arn)
                    .attribute_name("Policy")
                    .attribute_value(doc.to_string())
                    .send()
                    .await
                    .map_err(fail(account, &resource, "SNS.SetTopicAttributes"))?;
            }
        }
        Ok(Change::new(resource, action))
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn merge_keeps_other_statements_and_is_idempotent() {
            let want = super::statement("arn:aws:sns:us-east-1:1:t", "arn:aws:cloudtrail:us-east-1:1:trail/x");
            let other = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Owner","Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes"],"Resource":"x"}]}"#;
            let m = super::merged(Some(other), &want).expect("statement added");
            assert_eq!(m["Statement"].as_array().map(Vec::len), Some(2));
            assert!(super::merged(Some(&m.to_string()), &want).is_none());
        }
    }
}
