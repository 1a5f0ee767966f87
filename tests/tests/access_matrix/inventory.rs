//! What the access matrix's rows are made of: the fixed inventory (ids, ARNs), the rendered
//! documents a row is evaluated against, and the callers with the request context AWS builds.
use orgtrail::policy::{
    render_access_log_bucket_policy, render_access_log_key_policy, render_bucket_policy, render_key_policy, render_remote_state_bucket_policy, render_scp,
    PolicyContext, ScpContext, TrailMode,
};
use serde_json::{json, Value};

pub const ORG: &str = "o-abc123def4";
pub const MGMT: &str = "111111111111";
pub const LA: &str = "222222222222";
pub const READER_ACCOUNT: &str = "333333333333";
pub const MEMBER: &str = "444444444444";
pub const MEMBER2: &str = "555555555555";
pub const UNTARGETED: &str = "666666666666";
pub const OUTSIDER: &str = "999999999999";
pub const BUCKET: &str = "orgtrail-logs";
pub const ACCESS_BUCKET: &str = "orgtrail-logs-access";
pub const STATE_BUCKET: &str = "orgtrail-state";
pub const KEY_ARN: &str = "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab";
pub const ADMIN: &str = "arn:aws:iam::222222222222:role/OrgtrailExecution";
pub const BREAK_GLASS: &str = "arn:aws:iam::222222222222:role/BreakGlassAdmin";
pub const READER: &str = "arn:aws:iam::333333333333:role/LogReader";
pub const RUNNER: &str = "arn:aws:iam::111111111111:role/OrgtrailRunner";
/// The organization root orgtrail's SCP is attached to (the default: no `[protection] targets`).
pub const ROOT_ID: &str = "r-ab12";
/// Context keys the evaluator does not model (see the test's module docs).
pub const UNMODELLED_PREFIX: &str = "kms:EncryptionContext:";

pub fn trail_arn() -> String {
    format!("arn:aws:cloudtrail:us-east-1:{MGMT}:trail/orgtrail")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    ExplicitlyDenied,
    ImplicitlyDenied,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "Allowed",
            Decision::ExplicitlyDenied => "ExplicitlyDenied",
            Decision::ImplicitlyDenied => "ImplicitlyDenied",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Org,
    Account,
}

/// Which rendered document a row is evaluated against.
#[derive(Debug, Clone)]
pub enum Policy {
    LogBucket { mode: Mode, readers: bool, enforce: bool },
    Key { mode: Mode, readers: bool },
    AccessLogBucket,
    /// The access-log bucket's key (`access_log_encryption = "sse-kms"`).
    AccessLogKey,
    StateBucket,
    /// The tamper-protection SCP (`templates/scp.json`), attached to the organization root. It is
    /// a separate layer: `resource_account` is the account the request is authorized in, and
    /// `resource_policy` the one AWS also evaluates where the service grants nothing without it
    /// (a KMS key policy); otherwise none (see `scp_rows`).
    Scp { resource_account: &'static str, resource_policy: Option<Box<Policy>> },
    /// A policy of the test's own, to calibrate the evaluator.
    Literal(Value, &'static str),
    /// orgtrail's own roles: the caller's identity policy is the role's rendered policy (see
    /// `own_roles`), over the resource's own policy where it has one (a key policy, a bucket
    /// policy, a role's trust), in `resource_account`; no SCP.
    Identity { resource_account: &'static str, resource_policy: Option<Box<Policy>>, label: &'static str },
}

/// The fixed inventory the policies are rendered for: no live ids needed.
pub fn context(mode: Mode, readers: bool, enforce: bool) -> PolicyContext {
    PolicyContext {
        partition: "aws".into(),
        org_id: ORG.into(),
        management_account: MGMT.into(),
        log_archive_account: LA.into(),
        home_region: "us-east-1".into(),
        trail_name: "orgtrail".into(),
        bucket: BUCKET.into(),
        prefix: Some("org".into()),
        access_log_bucket: ACCESS_BUCKET.into(),
        key_arn: KEY_ARN.into(),
        reader_role_arns: if readers { vec![READER.into()] } else { vec![] },
        admin_role_arns: vec![ADMIN.into(), "arn:aws:iam::222222222222:role/BreakGlass*".into()],
        mode: match mode {
            Mode::Org => TrailMode::Organization,
            Mode::Account => TrailMode::Account { account_ids: vec![MEMBER.into(), MEMBER2.into()] },
        },
        enforce_encryption: enforce,
        key_users: Default::default(),
    }
}

/// The SCP's inputs for the same inventory as `context`: the trail, key, buckets and admin roles.
pub fn scp_context() -> ScpContext {
    let c = context(Mode::Org, true, false);
    ScpContext {
        partition: c.partition,
        org_id: c.org_id,
        management_account: c.management_account,
        log_archive_account: c.log_archive_account,
        home_region: c.home_region,
        trail_arn: trail_arn(),
        key_arn: c.key_arn,
        bucket: c.bucket,
        access_log_bucket: c.access_log_bucket,
        admin_role_arns: c.admin_role_arns,
        log_group_arn: format!("arn:aws:logs:us-east-1:{MGMT}:log-group:/aws/cloudtrail/orgtrail"),
        topic_arn: format!("arn:aws:sns:us-east-1:{MGMT}:orgtrail-alarms"),
    }
}

impl Policy {
    pub fn document(&self) -> Value {
        match self {
            Policy::LogBucket { mode, readers, enforce } => render_bucket_policy(&context(*mode, *readers, *enforce)).unwrap(),
            Policy::Key { mode, readers } => render_key_policy(&context(*mode, *readers, false)).unwrap(),
            Policy::AccessLogBucket => render_access_log_bucket_policy(&context(Mode::Org, true, false)).unwrap(),
            Policy::AccessLogKey => render_access_log_key_policy(&context(Mode::Org, true, false)).unwrap(),
            Policy::StateBucket => render_remote_state_bucket_policy("aws", STATE_BUCKET).unwrap(),
            Policy::Scp { .. } => render_scp(&scp_context()).unwrap(),
            Policy::Literal(v, _) => v.clone(),
            Policy::Identity { resource_policy, .. } => resource_policy.as_ref().map_or(Value::Null, |p| p.document()),
        }
    }

    /// The resource policy the evaluator sees: none for an SCP row, so the SCP decides.
    pub fn resource_policy(&self) -> Option<Value> {
        match self {
            Policy::Scp { resource_policy, .. } | Policy::Identity { resource_policy, .. } => resource_policy.as_ref().map(|p| p.document_for_evaluator()),
            _ => Some(self.document_for_evaluator()),
        }
    }

    /// The SCPs on the path from the organization root to the caller's account, root first, as
    /// Organizations evaluates them: every level needs an Allow (the default `FullAWSAccess` is
    /// attached to each), and orgtrail's SCP is attached to the root. Empty for non-SCP rows.
    pub fn scps(&self, caller_account: &str) -> Value {
        let Policy::Scp { .. } = self else { return json!([]) };
        let full = json!({ "name": "FullAWSAccess", "policy": { "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "*", "Resource": "*" }] } });
        json!([
            { "orgIdentifier": ROOT_ID, "policies": [full, { "name": "orgtrail-tamper-protection", "policy": self.document() }] },
            { "orgIdentifier": caller_account, "policies": [full] },
        ])
    }

    /// The document with the conditions the evaluator cannot model removed.
    pub fn document_for_evaluator(&self) -> Value {
        let mut doc = self.document();
        for st in doc["Statement"].as_array_mut().unwrap() {
            let Some(cond) = st.get_mut("Condition").and_then(Value::as_object_mut) else { continue };
            for keys in cond.values_mut() {
                keys.as_object_mut().unwrap().retain(|k, _| !k.starts_with(UNMODELLED_PREFIX));
            }
            cond.retain(|_, keys| !keys.as_object().unwrap().is_empty());
        }
        doc
    }

    pub fn resource_account(&self) -> &'static str {
        match self {
            Policy::StateBucket => MGMT,
            Policy::Scp { resource_account, .. } | Policy::Identity { resource_account, .. } => resource_account,
            _ => LA,
        }
    }

    pub fn label(&self) -> String {
        let mode = |m: &Mode| if *m == Mode::Org { "org" } else { "account" };
        match self {
            Policy::LogBucket { mode: m, readers, enforce } => format!(
                "log bucket ({}, {}, {})",
                mode(m),
                if *readers { "readers" } else { "no readers" },
                if *enforce { "encryption enforced" } else { "phase 1" }
            ),
            Policy::Key { mode: m, readers } => format!("log key ({}, {})", mode(m), if *readers { "readers" } else { "no readers" }),
            Policy::AccessLogBucket => "access-log bucket".into(),
            Policy::AccessLogKey => "access-log key (sse-kms)".into(),
            Policy::StateBucket => "state bucket".into(),
            Policy::Scp { resource_policy: None, .. } => "tamper-protection SCP".into(),
            Policy::Scp { resource_policy: Some(p), .. } => format!("tamper-protection SCP over the {}", p.label()),
            Policy::Literal(_, name) => (*name).into(),
            Policy::Identity { label, .. } => (*label).into(),
        }
    }
}

/// Who makes the request, with the request context AWS builds for that kind of caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: String,
    pub label: String,
    pub context: Value,
    pub identity: Option<Value>,
}

fn allow_all() -> Value {
    json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": ["s3:*", "kms:*"], "Resource": "*" }] })
}

/// An IAM role session. Outside the organization (OUTSIDER) it carries no `aws:PrincipalOrgID`.
pub fn role(role_arn: &str) -> Caller {
    let account = role_arn.split(':').nth(4).unwrap();
    let name = role_arn.rsplit('/').next().unwrap();
    let mut ctx = json!({
        "aws:PrincipalArn": role_arn,
        "aws:PrincipalAccount": account,
        "aws:PrincipalIsAWSService": "false",
        "aws:SecureTransport": "true",
    });
    if account != OUTSIDER {
        ctx["aws:PrincipalOrgID"] = json!(ORG);
    }
    Caller {
        principal: format!("arn:aws:sts::{account}:assumed-role/{name}/session"),
        label: format!("role {name} ({account})"),
        context: ctx,
        identity: Some(allow_all()),
    }
}

/// An account's root user: `aws:PrincipalArn` is the account's root ARN.
pub fn root_user(account: &str) -> Caller {
    let arn = format!("arn:aws:iam::{account}:root");
    Caller {
        principal: arn.clone(),
        label: format!("root user ({account})"),
        context: json!({
            "aws:PrincipalArn": arn,
            "aws:PrincipalAccount": account,
            "aws:PrincipalOrgID": ORG,
            "aws:PrincipalIsAWSService": "false",
            "aws:SecureTransport": "true",
        }),
        identity: Some(allow_all()),
    }
}

/// CloudTrail delivering for `trail` (its ARN names the owning account).
pub fn cloudtrail(trail: &str, org: &str) -> Caller {
    let account = trail.split(':').nth(4).unwrap();
    Caller {
        principal: "cloudtrail.amazonaws.com".into(),
        label: format!("CloudTrail for {} of {account}", trail.split(':').nth(5).unwrap_or(trail)),
        context: json!({
            "aws:SourceArn": trail,
            "aws:SourceAccount": account,
            "aws:SourceOrgID": org,
            "aws:PrincipalIsAWSService": "true",
            "aws:PrincipalServiceName": "cloudtrail.amazonaws.com",
            "aws:SecureTransport": "true",
        }),
        identity: None,
    }
}

/// S3 server access log delivery for `source_bucket`, owned by `account`.
pub fn s3_logging(source_bucket: &str, account: &str) -> Caller {
    Caller {
        principal: "logging.s3.amazonaws.com".into(),
        label: format!("S3 log delivery for {source_bucket} of {account}"),
        context: json!({
            "aws:SourceArn": format!("arn:aws:s3:::{source_bucket}"),
            "aws:SourceAccount": account,
            "aws:PrincipalIsAWSService": "true",
            "aws:PrincipalServiceName": "logging.s3.amazonaws.com",
            "aws:SecureTransport": "true",
        }),
        identity: None,
    }
}

impl Caller {
    /// The account the caller's request is made from (`aws:PrincipalAccount`; a service's source account).
    pub fn account(&self) -> &str {
        self.context.get("aws:PrincipalAccount").or(self.context.get("aws:SourceAccount")).and_then(Value::as_str).unwrap_or_default()
    }

    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.context[key] = json!(value);
        self
    }

    pub fn http(self) -> Self {
        let mut c = self.with("aws:SecureTransport", "false");
        c.label.push_str(" over plain HTTP");
        c
    }

    /// The headers CloudTrail sends with every log object of a trail that has a KMS key.
    pub fn put_headers(self, kms_key: Option<&str>) -> Self {
        let c = self.with("s3:x-amz-acl", "bucket-owner-full-control");
        match kms_key {
            Some(k) => c.with("s3:x-amz-server-side-encryption", "aws:kms").with("s3:x-amz-server-side-encryption-aws-kms-key-id", k),
            None => c,
        }
    }

    /// The encryption context CloudTrail puts on the data keys of `trail`'s logs.
    pub fn trail_context(self, trail: &str) -> Self {
        self.with("kms:EncryptionContext:aws:cloudtrail:arn", trail)
    }

    pub fn caller_account(self, account: &str) -> Self {
        self.with("kms:CallerAccount", account)
    }

    pub fn identity(mut self, policy: Option<Value>) -> Self {
        self.identity = policy;
        self
    }
}
