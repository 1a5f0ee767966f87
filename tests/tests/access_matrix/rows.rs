//! The rows of the access matrix: who does what to which resource under which rendered document,
//! and the decision AWS must reach.
use serde_json::{json, Map, Value};

use super::inventory::Decision::*;
use super::inventory::*;

pub struct Row {
    pub what: &'static str,
    pub policy: Policy,
    pub caller: Caller,
    pub action: &'static str,
    pub resource: String,
    pub expect: Decision,
}

pub const TABLE_HEADER: &str = "| # | Policy | Who | Action | Resource | Decision | Why |\n|---|---|---|---|---|---|---|";

/// A log object's key cut after its `CloudTrail/` or `CloudTrail-Digest/` segment, for the table.
fn short(resource: &str) -> String {
    match resource.find("/CloudTrail") {
        Some(i) => {
            let rest = &resource[i + 1..];
            let segment = rest.split('/').next().unwrap_or(rest);
            format!("{}{segment}/…", &resource[..=i])
        }
        None => resource.to_string(),
    }
}

impl Row {
    pub fn markdown(&self, n: usize) -> String {
        format!(
            "| {n} | {} | {} | `{}` | `{}` | {} | {} |",
            self.policy.label(),
            self.caller.label,
            self.action,
            short(&self.resource).replace("arn:aws:s3:::", "").replace("arn:aws:kms:us-east-1:222222222222:", "").replace(KEY_ARN.rsplit(':').next().unwrap(), "key/(log key)").replace(ACCESS_KEY_ARN.rsplit(':').next().unwrap(), "key/(access-log key)"),
            self.expect.as_str(),
            self.what
        )
    }
}

pub fn row(what: &'static str, policy: Policy, caller: Caller, action: &'static str, resource: impl Into<String>, expect: Decision) -> Row {
    Row { what, policy, caller, action, resource: resource.into(), expect }
}

fn obj(path: &str) -> String {
    format!("arn:aws:s3:::{BUCKET}/{path}")
}

fn bucket() -> String {
    format!("arn:aws:s3:::{BUCKET}")
}

const LOG_DAY: &str = "CloudTrail/us-east-1/2026/12/01";

pub fn all() -> Vec<Row> {
    let org = |readers, enforce| Policy::LogBucket { mode: Mode::Org, readers, enforce };
    let acct = |enforce| Policy::LogBucket { mode: Mode::Account, readers: true, enforce };
    let key = |mode, readers| Policy::Key { mode, readers };
    let ct = || cloudtrail(&trail_arn(), ORG);
    let member_trail = |account: &str| format!("arn:aws:cloudtrail:us-east-1:{account}:trail/orgtrail");
    let mgmt_log = obj(&format!("org/AWSLogs/{MGMT}/{LOG_DAY}/{MGMT}_CloudTrail_us-east-1_x.json.gz"));
    let member_log = obj(&format!("org/AWSLogs/{ORG}/{MEMBER}/{LOG_DAY}/{MEMBER}_CloudTrail_us-east-1_x.json.gz"));
    let digest = obj(&format!("org/AWSLogs/{ORG}/{MEMBER}/CloudTrail-Digest/us-east-1/2026/12/01/{MEMBER}_CloudTrail-Digest_x.json.gz"));
    let la_other = "arn:aws:iam::222222222222:role/Operator";
    let member_dev = "arn:aws:iam::444444444444:role/Developer";
    let outsider = "arn:aws:iam::999999999999:role/Attacker";
    let mut rows = vec![
        // CloudTrail delivering for the organization trail.
        row("CloudTrail checks the bucket ACL for the org trail", org(true, false), ct(), "s3:GetBucketAcl", bucket(), Allowed),
        row("org trail delivers the management account's logs", org(true, false), ct().put_headers(Some(KEY_ARN)), "s3:PutObject", mgmt_log.clone(), Allowed),
        row("org trail delivers a member account's logs", org(true, false), ct().put_headers(Some(KEY_ARN)), "s3:PutObject", member_log.clone(), Allowed),
        row("org trail delivers digest files", org(true, false), ct().put_headers(Some(KEY_ARN)), "s3:PutObject", digest.clone(), Allowed),
        row("a write without bucket-owner-full-control is not CloudTrail's", org(true, false), ct(), "s3:PutObject", member_log.clone(), ImplicitlyDenied),
        row("a trail in another organization is refused", org(true, false), cloudtrail("arn:aws:cloudtrail:us-east-1:999999999999:trail/orgtrail", "o-zzzzzzzzzz").put_headers(None), "s3:PutObject", member_log.clone(), ImplicitlyDenied),
        row("another trail of the management account is refused", org(true, false), cloudtrail(&format!("arn:aws:cloudtrail:us-east-1:{MGMT}:trail/shadow"), ORG).put_headers(None), "s3:PutObject", member_log.clone(), ImplicitlyDenied),
        row("the org trail cannot write outside its prefix", org(true, false), ct().put_headers(Some(KEY_ARN)), "s3:PutObject", obj("elsewhere/x.json.gz"), ImplicitlyDenied),
        // Reading the logs.
        row("a reader role (another account) reads the logs", org(true, false), role(READER), "s3:GetObject", member_log.clone(), Allowed),
        row("a reader over plain HTTP is refused", org(true, false), role(READER).http(), "s3:GetObject", member_log.clone(), ExplicitlyDenied),
        row("a member account's role is not a reader", org(true, false), role(member_dev), "s3:GetObject", member_log.clone(), ExplicitlyDenied),
        row("a log-archive role that is no reader is refused", org(true, false), role(la_other), "s3:GetObject", member_log.clone(), ExplicitlyDenied),
        row("an admin role may read", org(true, false), role(ADMIN), "s3:GetObject", member_log.clone(), Allowed),
        row("an outsider cannot read", org(true, false), role(outsider), "s3:GetObject", member_log.clone(), ExplicitlyDenied),
        row("an outsider cannot write", org(true, false), role(outsider).put_headers(Some(KEY_ARN)), "s3:PutObject", member_log.clone(), ExplicitlyDenied),
        row("without readers, a former reader is refused", org(false, false), role(READER), "s3:GetObject", member_log.clone(), ExplicitlyDenied),
        row("without readers, admins still read", org(false, false), role(ADMIN), "s3:GetObject", member_log.clone(), Allowed),
        // Deleting logs, lifecycle, versioning and policy changes: admins only.
        row("a log-archive operator cannot delete logs", org(true, false), role(la_other), "s3:DeleteObject", member_log.clone(), ExplicitlyDenied),
        row("a reader cannot delete logs", org(true, false), role(READER), "s3:DeleteObjectVersion", member_log.clone(), ExplicitlyDenied),
        row("an admin role may delete (break-glass)", org(true, false), role(ADMIN), "s3:DeleteObject", member_log.clone(), Allowed),
        row("a log-archive operator cannot change the policy", org(true, false), role(la_other), "s3:PutBucketPolicy", bucket(), ExplicitlyDenied),
        row("a log-archive operator cannot delete the policy", org(true, false), role(la_other), "s3:DeleteBucketPolicy", bucket(), ExplicitlyDenied),
        row("a log-archive operator cannot change lifecycle", org(true, false), role(la_other), "s3:PutLifecycleConfiguration", bucket(), ExplicitlyDenied),
        row("a log-archive operator cannot suspend versioning", org(true, false), role(la_other), "s3:PutBucketVersioning", bucket(), ExplicitlyDenied),
        row("the role orgtrail runs as changes the policy", org(true, false), role(ADMIN), "s3:PutBucketPolicy", bucket(), Allowed),
        row("a break-glass role (pattern) changes the policy", org(true, false), role(BREAK_GLASS), "s3:PutBucketPolicy", bucket(), Allowed),
        row("an admin over plain HTTP is refused", org(true, false), role(ADMIN).http(), "s3:PutBucketPolicy", bucket(), ExplicitlyDenied),
        // MFA Delete: only the log-archive root user, through PutBucketVersioning.
        row("the log-archive root user can enable MFA Delete", org(true, false), root_user(LA), "s3:PutBucketVersioning", bucket(), Allowed),
        row("… also once encryption is enforced", org(true, true), root_user(LA), "s3:PutBucketVersioning", bucket(), Allowed),
        row("… also in account-trail mode", acct(true), root_user(LA), "s3:PutBucketVersioning", bucket(), Allowed),
        row("the root user over plain HTTP is refused (MFA Delete needs HTTPS anyway)", org(true, false), root_user(LA).http(), "s3:PutBucketVersioning", bucket(), ExplicitlyDenied),
        row("the root user gets no other exemption: no deleting logs", org(true, false), root_user(LA), "s3:DeleteObject", member_log.clone(), ExplicitlyDenied),
        row("the root user gets no other exemption: no lifecycle", org(true, false), root_user(LA), "s3:PutLifecycleConfiguration", bucket(), ExplicitlyDenied),
        row("a member account's root user cannot touch versioning", org(true, false), root_user(MEMBER), "s3:PutBucketVersioning", bucket(), ExplicitlyDenied),
        // Phase two: encryption enforced.
        row("enforced: CloudTrail's SSE-KMS write with the log key", org(true, true), ct().put_headers(Some(KEY_ARN)), "s3:PutObject", member_log.clone(), Allowed),
        row("enforced: a write without SSE-KMS is refused", org(true, true), ct().put_headers(None), "s3:PutObject", member_log.clone(), ExplicitlyDenied),
        row("enforced: a write with another KMS key is refused", org(true, true), ct().put_headers(Some("arn:aws:kms:us-east-1:222222222222:key/other")), "s3:PutObject", member_log.clone(), ExplicitlyDenied),
        row("enforced: even an admin's SSE-S3 upload is refused", org(true, true), role(ADMIN).with("s3:x-amz-server-side-encryption", "AES256"), "s3:PutObject", member_log.clone(), ExplicitlyDenied),
        // Account-trail mode.
        row("account mode: CloudTrail checks the ACL for a member trail", acct(true), cloudtrail(&member_trail(MEMBER), ORG), "s3:GetBucketAcl", bucket(), Allowed),
        row("account mode: a targeted member's trail delivers", acct(true), cloudtrail(&member_trail(MEMBER), ORG).put_headers(Some(KEY_ARN)), "s3:PutObject", obj(&format!("org/AWSLogs/{MEMBER}/{LOG_DAY}/x.json.gz")), Allowed),
        row("account mode: an untargeted account's path is refused", acct(true), cloudtrail(&member_trail(UNTARGETED), ORG).put_headers(Some(KEY_ARN)), "s3:PutObject", obj(&format!("org/AWSLogs/{UNTARGETED}/{LOG_DAY}/x.json.gz")), ImplicitlyDenied),
        row("account mode: a trail outside the organization is refused", acct(true), cloudtrail("arn:aws:cloudtrail:us-east-1:999999999999:trail/orgtrail", "o-zzzzzzzzzz").put_headers(Some(KEY_ARN)), "s3:PutObject", obj(&format!("org/AWSLogs/{MEMBER}/{LOG_DAY}/x.json.gz")), ImplicitlyDenied),
        row("account mode: a reader reads", acct(true), role(READER), "s3:GetObject", obj(&format!("org/AWSLogs/{MEMBER}/{LOG_DAY}/x.json.gz")), Allowed),
        // The log key.
        row("CloudTrail generates data keys for the org trail", key(Mode::Org, true), ct().trail_context(&trail_arn()), "kms:GenerateDataKey", KEY_ARN, Allowed),
        row("CloudTrail describes the key for the org trail", key(Mode::Org, true), ct(), "kms:DescribeKey", KEY_ARN, Allowed),
        row("CloudTrail decrypts for the S3 Bucket Key", key(Mode::Org, true), ct(), "kms:Decrypt", KEY_ARN, Allowed),
        row("a foreign trail gets no data keys", key(Mode::Org, true), cloudtrail("arn:aws:cloudtrail:us-east-1:999999999999:trail/orgtrail", "o-zzzzzzzzzz").trail_context("arn:aws:cloudtrail:us-east-1:999999999999:trail/orgtrail"), "kms:GenerateDataKey", KEY_ARN, ImplicitlyDenied),
        row("a reader decrypts the logs", key(Mode::Org, true), role(READER).caller_account(READER_ACCOUNT).trail_context(&trail_arn()), "kms:Decrypt", KEY_ARN, Allowed),
        row("a member account's role cannot decrypt", key(Mode::Org, true), role(member_dev).caller_account(MEMBER).trail_context(&trail_arn()), "kms:Decrypt", KEY_ARN, ImplicitlyDenied),
        row("an outsider cannot decrypt", key(Mode::Org, true), role(outsider).caller_account(OUTSIDER).trail_context(&trail_arn()), "kms:Decrypt", KEY_ARN, ImplicitlyDenied),
        row("without readers, a former reader cannot decrypt", key(Mode::Org, false), role(READER).caller_account(READER_ACCOUNT).trail_context(&trail_arn()), "kms:Decrypt", KEY_ARN, ImplicitlyDenied),
        row("log-archive principals use the key through IAM (EnableRootAccess)", key(Mode::Org, true), role(ADMIN).caller_account(LA), "kms:PutKeyPolicy", KEY_ARN, Allowed),
        row("a log-archive role without an IAM grant cannot use the key", key(Mode::Org, true), role(la_other).caller_account(LA).identity(None), "kms:Decrypt", KEY_ARN, ImplicitlyDenied),
        row("account mode: a member trail generates data keys", key(Mode::Account, true), cloudtrail(&member_trail(MEMBER), ORG).trail_context(&member_trail(MEMBER)), "kms:GenerateDataKey", KEY_ARN, Allowed),
        row("account mode: a differently named trail gets no data keys", key(Mode::Account, true), cloudtrail(&format!("arn:aws:cloudtrail:us-east-1:{MEMBER}:trail/other"), ORG).trail_context(&member_trail(MEMBER)), "kms:GenerateDataKey", KEY_ARN, ImplicitlyDenied),
        // The access-log bucket.
        row("S3 delivers the log bucket's access logs", Policy::AccessLogBucket, s3_logging(BUCKET, LA), "s3:PutObject", format!("arn:aws:s3:::{ACCESS_BUCKET}/{BUCKET}/2026-12-01-00-00-00-X"), Allowed),
        row("S3 log delivery for another bucket is refused", Policy::AccessLogBucket, s3_logging("someone-elses-bucket", LA), "s3:PutObject", format!("arn:aws:s3:::{ACCESS_BUCKET}/x"), ImplicitlyDenied),
        row("S3 log delivery from another account is refused", Policy::AccessLogBucket, s3_logging(BUCKET, OUTSIDER), "s3:PutObject", format!("arn:aws:s3:::{ACCESS_BUCKET}/x"), ImplicitlyDenied),
        row("plain HTTP to the access-log bucket is refused", Policy::AccessLogBucket, role(ADMIN).http(), "s3:GetObject", format!("arn:aws:s3:::{ACCESS_BUCKET}/x"), ExplicitlyDenied),
        // The remote-state bucket (management account), with the runner's statements from templates/iam.
        row("the role running orgtrail writes the state", Policy::StateBucket, role(RUNNER).identity(Some(runner_policy())), "s3:PutObject", format!("arn:aws:s3:::{STATE_BUCKET}/orgtrail/state.db"), Allowed),
        row("the role running orgtrail takes the lock", Policy::StateBucket, role(RUNNER).identity(Some(runner_policy())), "s3:GetObject", format!("arn:aws:s3:::{STATE_BUCKET}/orgtrail/lock.json"), Allowed),
        row("the runner over plain HTTP is refused", Policy::StateBucket, role(RUNNER).identity(Some(runner_policy())).http(), "s3:GetObject", format!("arn:aws:s3:::{STATE_BUCKET}/orgtrail/state.db"), ExplicitlyDenied),
        row("a management-account role without orgtrail's grant cannot read the state", Policy::StateBucket, role("arn:aws:iam::111111111111:role/Billing").identity(None), "s3:GetObject", format!("arn:aws:s3:::{STATE_BUCKET}/orgtrail/state.db"), ImplicitlyDenied),
        row("another account cannot read the state, whatever its IAM grants", Policy::StateBucket, role(member_dev), "s3:GetObject", format!("arn:aws:s3:::{STATE_BUCKET}/orgtrail/state.db"), ImplicitlyDenied),
    ];
    rows.extend(extra_rows());
    rows.extend(scp_rows());
    rows.extend(super::own_roles::rows());
    rows
}

pub const ACCESS_KEY_ARN: &str = "arn:aws:kms:us-east-1:222222222222:key/5678efgh-12ab-34cd-56ef-1234567890ab";

/// Rows of options added later; kept apart so the list above stays the baseline's.
fn extra_rows() -> Vec<Row> {
    let key = || Policy::AccessLogKey;
    vec![
        row("access-log key: S3 log delivery for the log bucket generates data keys", key(), s3_logging(BUCKET, LA), "kms:GenerateDataKey", ACCESS_KEY_ARN, Allowed),
        row("access-log key: S3 log delivery for another bucket is refused", key(), s3_logging("someone-elses-bucket", LA), "kms:GenerateDataKey", ACCESS_KEY_ARN, ImplicitlyDenied),
        row("access-log key: S3 log delivery for another account is refused", key(), s3_logging(BUCKET, OUTSIDER), "kms:GenerateDataKey", ACCESS_KEY_ARN, ImplicitlyDenied),
        row("access-log key: CloudTrail cannot use it", key(), cloudtrail(&trail_arn(), ORG), "kms:GenerateDataKey", ACCESS_KEY_ARN, ImplicitlyDenied),
        row("access-log key: a reader of the trail logs cannot decrypt access logs", key(), role(READER).caller_account(READER_ACCOUNT), "kms:Decrypt", ACCESS_KEY_ARN, ImplicitlyDenied),
        row("access-log key: log-archive admins decrypt through IAM (EnableRootAccess)", key(), role(ADMIN).caller_account(LA), "kms:Decrypt", ACCESS_KEY_ARN, Allowed),
    ]
}

/// An administrator: an identity policy allowing every action, so only the SCP can refuse.
fn admin(role_arn: &str) -> Caller {
    role(role_arn).identity(Some(json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "*", "Resource": "*" }] })))
}

/// The tamper-protection SCP, attached to the root: every caller is an administrator of its
/// account (identity policy `*`) and no resource policy is given (but the key policy, without
/// which KMS allows nothing; it defers to IAM in the log archive), so the decision is the SCP's
/// (an SCP can only refuse: Allowed means the SCP lets IAM decide). Each row is evaluated in the
/// account where AWS authorizes it: the key and log buckets live in the log archive; the trail
/// rows are evaluated in the caller's own account, because a trail has no resource policy and
/// CloudTrail authorizes a delegated administrator's calls on the organization trail (whose ARN
/// names the management account) by that caller's own IAM policies and SCPs. SCPs never apply to
/// the management account, which the evaluator cannot know, so no row has a management caller.
fn scp_rows() -> Vec<Row> {
    let in_la = || Policy::Scp { resource_account: LA, resource_policy: None };
    let in_member = || Policy::Scp { resource_account: MEMBER, resource_policy: None };
    // KMS grants nothing without a key policy: the log key's, whose EnableRootAccess defers to IAM.
    let on_key = || Policy::Scp { resource_account: LA, resource_policy: Some(Box::new(Policy::Key { mode: Mode::Org, readers: true })) };
    let member_admin = || admin("arn:aws:iam::444444444444:role/Admin");
    let trail = trail_arn;
    let log_obj = obj(&format!("org/AWSLogs/{ORG}/{MEMBER}/{LOG_DAY}/{MEMBER}_CloudTrail_us-east-1_x.json.gz"));
    let access_bucket = format!("arn:aws:s3:::{ACCESS_BUCKET}");
    let access_obj = format!("arn:aws:s3:::{ACCESS_BUCKET}/{BUCKET}/2026-12-01-00-00-00-X");
    vec![
        // The organization trail.
        row("SCP: a member account's admin cannot stop the org trail", in_member(), member_admin(), "cloudtrail:StopLogging", trail(), ExplicitlyDenied),
        row("SCP: a member account's admin cannot delete the org trail", in_member(), member_admin(), "cloudtrail:DeleteTrail", trail(), ExplicitlyDenied),
        row("SCP: a member account's admin cannot reconfigure the org trail", in_member(), member_admin(), "cloudtrail:UpdateTrail", trail(), ExplicitlyDenied),
        row("SCP: a member account's admin cannot change its event selectors", in_member(), member_admin(), "cloudtrail:PutEventSelectors", trail(), ExplicitlyDenied),
        row("SCP: a member account's admin cannot change its Insights selectors", in_member(), member_admin(), "cloudtrail:PutInsightSelectors", trail(), ExplicitlyDenied),
        row("SCP: the access role's name in a member account is no admin role", in_member(), admin("arn:aws:iam::444444444444:role/OrgtrailExecution"), "cloudtrail:StopLogging", trail(), ExplicitlyDenied),
        row("SCP: a configured admin role (pattern) may stop the org trail", in_la(), admin(BREAK_GLASS), "cloudtrail:StopLogging", trail(), Allowed),
        row("SCP: the role orgtrail runs as updates the org trail", in_la(), admin(ADMIN), "cloudtrail:UpdateTrail", trail(), Allowed),
        row("SCP: the role orgtrail runs as sets the event selectors", in_la(), admin(ADMIN), "cloudtrail:PutEventSelectors", trail(), Allowed),
        // The log-archive key.
        row("SCP: a member account's admin cannot schedule the log key's deletion", on_key(), member_admin(), "kms:ScheduleKeyDeletion", KEY_ARN, ExplicitlyDenied),
        row("SCP: a member account's admin cannot change the key policy", on_key(), member_admin(), "kms:PutKeyPolicy", KEY_ARN, ExplicitlyDenied),
        row("SCP: a log-archive role that is no admin cannot disable the key", on_key(), admin("arn:aws:iam::222222222222:role/Operator"), "kms:DisableKey", KEY_ARN, ExplicitlyDenied),
        row("SCP: the role orgtrail runs as converges the key policy", on_key(), admin(ADMIN), "kms:PutKeyPolicy", KEY_ARN, Allowed),
        // The log buckets.
        row("SCP: a member account's admin cannot change the bucket policy", in_la(), member_admin(), "s3:PutBucketPolicy", bucket(), ExplicitlyDenied),
        row("SCP: a member account's admin cannot delete logs", in_la(), member_admin(), "s3:DeleteObject", log_obj.clone(), ExplicitlyDenied),
        row("SCP: a member account's admin cannot delete access logs", in_la(), member_admin(), "s3:DeleteObject", access_obj.clone(), ExplicitlyDenied),
        row("SCP: a log-archive role that is no admin cannot change lifecycle", in_la(), admin("arn:aws:iam::222222222222:role/Operator"), "s3:PutLifecycleConfiguration", bucket(), ExplicitlyDenied),
        row("SCP: the log-archive root user can enable MFA Delete on the log bucket", in_la(), root_user(LA), "s3:PutBucketVersioning", bucket(), Allowed),
        row("SCP: … and on the access-log bucket", in_la(), root_user(LA), "s3:PutBucketVersioning", access_bucket.clone(), Allowed),
        row("SCP: the log-archive root user cannot delete logs", in_la(), root_user(LA), "s3:DeleteObject", log_obj.clone(), ExplicitlyDenied),
        row("SCP: the log-archive root user cannot change the bucket policy", in_la(), root_user(LA), "s3:PutBucketPolicy", bucket(), ExplicitlyDenied),
        row("SCP: a member account's root user cannot touch versioning", in_la(), root_user(MEMBER), "s3:PutBucketVersioning", bucket(), ExplicitlyDenied),
        row("SCP: the role orgtrail runs as converges the bucket policy", in_la(), admin(ADMIN), "s3:PutBucketPolicy", bucket(), Allowed),
        row("SCP: the role orgtrail runs as converges versioning", in_la(), admin(ADMIN), "s3:PutBucketVersioning", bucket(), Allowed),
        row("SCP: the role orgtrail runs as converges the access-log bucket's lifecycle", in_la(), admin(ADMIN), "s3:PutLifecycleConfiguration", access_bucket.clone(), Allowed),
        row("SCP: the role orgtrail runs as converges server access logging", in_la(), admin(ADMIN), "s3:PutBucketLogging", bucket(), Allowed),
        // Everything else is left to IAM.
        row("SCP: other buckets are untouched (writes)", in_member(), member_admin(), "s3:PutObject", "arn:aws:s3:::app-data/x", Allowed),
        row("SCP: other buckets are untouched (policy changes)", in_member(), member_admin(), "s3:PutBucketPolicy", "arn:aws:s3:::app-data", Allowed),
        row("SCP: a member account's own trail is untouched", in_member(), member_admin(), "cloudtrail:StopLogging", "arn:aws:cloudtrail:us-east-1:444444444444:trail/app", Allowed),
        row("SCP: unrelated services are untouched", in_member(), member_admin(), "ec2:RunInstances", "arn:aws:ec2:us-east-1:444444444444:instance/i-0123456789abcdef0", Allowed),
    ]
}

/// The runner's remote-state statements of templates/iam/management-account.json, filled in.
fn runner_policy() -> Value {
    let text = std::fs::read_to_string(super::root().join("templates/iam/management-account.json")).unwrap();
    let text = text.replace("{partition}", "aws").replace("{state_bucket}", STATE_BUCKET).replace("{state_prefix}", "orgtrail");
    let doc: Value = serde_json::from_str(&text).unwrap();
    let statements: Vec<Value> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Sid"].as_str().is_some_and(|sid| sid.starts_with("RemoteState")))
        .map(|s| {
            let mut s: Map<String, Value> = s.as_object().unwrap().clone();
            s.remove("_comment");
            Value::Object(s)
        })
        .collect();
    assert_eq!(statements.len(), 2, "templates/iam/management-account.json has the two RemoteState statements");
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// Three requests whose decisions differ, against a policy of the test's own.
pub fn calibration() -> Vec<Row> {
    let policy = json!({ "Version": "2012-10-17", "Statement": [
        { "Sid": "Deny", "Effect": "Deny", "Principal": { "AWS": "*" }, "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::cal/*" },
        { "Sid": "Allow", "Effect": "Allow", "Principal": { "AWS": READER }, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::cal/*" }
    ]});
    let p = || Policy::Literal(policy.clone(), "calibration");
    vec![
        row("allowed by the bucket policy", p(), role(READER), "s3:GetObject", "arn:aws:s3:::cal/x", Allowed),
        row("denied by the bucket policy", p(), role(READER), "s3:DeleteObject", "arn:aws:s3:::cal/x", ExplicitlyDenied),
        row("not granted cross-account", p(), role(READER), "s3:PutObject", "arn:aws:s3:::cal/x", ImplicitlyDenied),
    ]
}
