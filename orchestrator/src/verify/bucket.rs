//! The log-archive buckets: CloudTrail.6 (log bucket not public), CloudTrail.7 (its server access
//! logging), S3.5 (TLS-only policy, on the log bucket and the access-log bucket) and MFA Delete
//! (CIS 2.1.2, on every bucket `mfa-delete enable` covers). Every setting is read once through the
//! log-archive account's role.
use aws_sdk_s3::types::{BucketVersioningStatus, MfaDeleteStatus, Permission, Type};
use serde_json::Value;

use super::{Control, Finding, Status};
use crate::aws::{aws_err, AwsError, Site};
use crate::steps::support::home_session;
use crate::steps::{mfa_delete, Ctx, StepError};

const GLOBAL_GROUPS: [&str; 2] = ["http://acs.amazonaws.com/groups/global/AllUsers", "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"];

pub(super) async fn check(ctx: &Ctx<'_>) -> Vec<Finding> {
    let la = &ctx.config.log_archive;
    let s3 = ctx.aws.s3(&home_session(ctx, &la.account));
    let reader = Reader { s3: &s3, account: &la.account };
    // The log bucket's versioning is read with its other settings; the other managed buckets' here.
    let others: Vec<String> = mfa_delete::managed_buckets(ctx.config).into_iter().filter(|b| *b != la.bucket).collect();
    let (log, access_log_policy, others_versioning) =
        futures::join!(reader.log_bucket(&la.bucket), reader.policy(&la.access_log_bucket), futures::future::join_all(others.iter().map(|b| reader.versioning(b))));
    let mut out = Vec::new();
    out.extend(not_public(&la.account, &la.bucket, &log));
    out.push(access_logging(&la.account, &la.bucket, &log));
    out.push(ssl_only(&la.account, &la.bucket, &log.policy));
    out.push(ssl_only(&la.account, &la.access_log_bucket, &access_log_policy));
    out.push(mfa_delete_control(ctx, &la.account, &la.bucket, &log.versioning));
    for (bucket, versioning) in others.iter().zip(&others_versioning) {
        out.push(mfa_delete_control(ctx, &la.account, bucket, versioning));
    }
    out
}

/// A read: Ok(None) when S3 says the configuration does not exist; Err(None) when the bucket itself does not.
type Read<T> = Result<Option<T>, Missing>;

#[derive(Debug, Clone)]
enum Missing {
    NoSuchBucket,
    Failed(StepError),
}

struct LogBucket {
    public_access_block: Read<[(&'static str, bool); 4]>,
    public_acl_grants: Read<Vec<String>>,
    policy: Read<String>,
    logging: Read<(String, String)>,
    versioning: Read<(String, bool)>,
}

struct Reader<'a> {
    s3: &'a aws_sdk_s3::Client,
    account: &'a str,
}

impl Reader<'_> {
    fn classify<T>(&self, bucket: &str, r: Result<T, AwsError>, absent: &[&str]) -> Read<T> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(e) if absent.iter().any(|c| e.is_code(c)) => Ok(None),
            Err(e) if e.is_code("NoSuchBucket") => Err(Missing::NoSuchBucket),
            Err(e) => Err(Missing::Failed(Site::new(self.account, self.s3.config().region(), resource(bucket)).error(e).into())),
        }
    }

    async fn log_bucket(&self, bucket: &str) -> LogBucket {
        let (pab, acl, policy, logging, versioning) = futures::join!(
            self.s3.get_public_access_block().bucket(bucket).send(),
            self.s3.get_bucket_acl().bucket(bucket).send(),
            self.policy(bucket),
            self.s3.get_bucket_logging().bucket(bucket).send(),
            self.versioning(bucket),
        );
        let pab = pab.map_err(aws_err("S3.GetPublicAccessBlock")).map(|o| {
            let c = o.public_access_block_configuration.unwrap_or_else(|| aws_sdk_s3::types::PublicAccessBlockConfiguration::builder().build());
            [
                ("BlockPublicAcls", c.block_public_acls() == Some(true)),
                ("IgnorePublicAcls", c.ignore_public_acls() == Some(true)),
                ("BlockPublicPolicy", c.block_public_policy() == Some(true)),
                ("RestrictPublicBuckets", c.restrict_public_buckets() == Some(true)),
            ]
        });
        let acl = acl.map_err(aws_err("S3.GetBucketAcl")).map(|o| {
            o.grants()
                .iter()
                .filter_map(|g| {
                    let grantee = g.grantee()?;
                    let uri = grantee.uri().filter(|u| *grantee.r#type() == Type::Group && GLOBAL_GROUPS.contains(u))?;
                    Some(format!("{} {}", uri.rsplit('/').next().unwrap_or(uri), g.permission().map_or("?", Permission::as_str)))
                })
                .collect::<Vec<_>>()
        });
        let logging = logging.map_err(aws_err("S3.GetBucketLogging")).map(|o| o.logging_enabled().map(|l| (l.target_bucket().to_string(), l.target_prefix().to_string())));
        LogBucket {
            public_access_block: self.classify(bucket, pab, &["NoSuchPublicAccessBlockConfiguration"]),
            public_acl_grants: self.classify(bucket, acl, &[]),
            policy,
            logging: self.classify(bucket, logging, &[]).map(Option::flatten),
            versioning,
        }
    }

    /// (versioning Status, whether MFA Delete is Enabled).
    async fn versioning(&self, bucket: &str) -> Read<(String, bool)> {
        let out = self.s3.get_bucket_versioning().bucket(bucket).send().await.map_err(aws_err("S3.GetBucketVersioning"));
        let out = out.map(|o| (o.status().map_or("(never enabled)", BucketVersioningStatus::as_str).to_string(), o.mfa_delete() == Some(&MfaDeleteStatus::Enabled)));
        self.classify(bucket, out, &[])
    }

    async fn policy(&self, bucket: &str) -> Read<String> {
        let out = self.s3.get_bucket_policy().bucket(bucket).send().await.map_err(aws_err("S3.GetBucketPolicy"));
        self.classify(bucket, out, &["NoSuchBucketPolicy"]).map(|o| o.and_then(|o| o.policy))
    }
}

fn resource(bucket: &str) -> String {
    format!("s3-bucket {bucket}")
}

/// The finding for a read that did not yield the setting, if it did not.
fn unread<T>(control: Control, account: &str, bucket: &str, r: &Read<T>) -> Option<Finding> {
    match r {
        Ok(_) => None,
        Err(Missing::NoSuchBucket) => Some(Finding::new(control, account, resource(bucket), Status::Fail, "the bucket does not exist (NoSuchBucket)")),
        Err(Missing::Failed(e)) => Some(Finding::error(control, account, resource(bucket), e)),
    }
}

/// CloudTrail.6. The baseline asks for all four Block Public Access settings; a public policy
/// statement or a public ACL grant is reported even when Block Public Access would neutralise it.
fn not_public(account: &str, bucket: &str, b: &LogBucket) -> Option<Finding> {
    let c = Control::CloudTrail6;
    if let Some(f) = unread(c, account, bucket, &b.public_access_block).or_else(|| unread(c, account, bucket, &b.public_acl_grants)).or_else(|| unread(c, account, bucket, &b.policy)) {
        return Some(f);
    }
    let pab = b.public_access_block.clone().ok().flatten();
    let off: Vec<&str> = pab.map_or_else(|| vec!["(no configuration)"], |p| p.iter().filter(|(_, on)| !on).map(|(n, _)| *n).collect());
    let grants = b.public_acl_grants.clone().ok().flatten().unwrap_or_default();
    let policy = b.policy.clone().ok().flatten();
    let public_sids = policy.as_deref().map(public_statements).unwrap_or_default();
    let evidence = format!(
        "PublicAccessBlock: {}; public ACL grants: {}; public policy statements: {}",
        if off.is_empty() { "all four true".to_string() } else { format!("off: {}", off.join(", ")) },
        if grants.is_empty() { "none".to_string() } else { grants.join(", ") },
        if public_sids.is_empty() { "none".to_string() } else { public_sids.join(", ") },
    );
    let status = if off.is_empty() && grants.is_empty() && public_sids.is_empty() { Status::Pass } else { Status::Fail };
    Some(Finding::new(c, account, resource(bucket), status, evidence))
}

/// Sids of Allow statements open to everyone (`"*"` or `{"AWS": "*"}`) without a condition.
fn public_statements(policy: &str) -> Vec<String> {
    statements(policy)
        .iter()
        .filter(|s| s.get("Effect").and_then(Value::as_str) == Some("Allow") && s.get("Condition").is_none() && principal_is_everyone(s.get("Principal")))
        .map(|s| s.get("Sid").and_then(Value::as_str).unwrap_or("(unnamed)").to_string())
        .collect()
}

fn statements(policy: &str) -> Vec<Value> {
    match serde_json::from_str::<Value>(policy).ok().and_then(|d| d.get("Statement").cloned()) {
        Some(Value::Array(a)) => a,
        Some(single @ Value::Object(_)) => vec![single],
        _ => Vec::new(),
    }
}

fn values(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

fn principal_is_everyone(p: Option<&Value>) -> bool {
    match p {
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(o)) => values(o.get("AWS")).iter().any(|v| v == "*"),
        _ => false,
    }
}

/// CloudTrail.7: server access logging on the log bucket.
fn access_logging(account: &str, bucket: &str, b: &LogBucket) -> Finding {
    if let Some(f) = unread(Control::CloudTrail7, account, bucket, &b.logging) {
        return f;
    }
    match b.logging.clone().ok().flatten() {
        Some((target, prefix)) => Finding::new(Control::CloudTrail7, account, resource(bucket), Status::Pass, format!("LoggingEnabled: TargetBucket={target}, TargetPrefix={prefix}")),
        None => Finding::new(Control::CloudTrail7, account, resource(bucket), Status::Fail, "GetBucketLogging: no LoggingEnabled (server access logging off)"),
    }
}

/// S3.5: a Deny of s3:* (or *) to everyone on the bucket and its objects when aws:SecureTransport is false.
fn ssl_only(account: &str, bucket: &str, policy: &Read<String>) -> Finding {
    if let Some(f) = unread(Control::S3_5, account, bucket, policy) {
        return f;
    }
    let Some(policy) = policy.clone().ok().flatten() else {
        return Finding::new(Control::S3_5, account, resource(bucket), Status::Fail, "no bucket policy (NoSuchBucketPolicy)");
    };
    let denies: Vec<String> = statements(&policy).iter().filter(|s| denies_insecure_transport(s, bucket)).map(|s| s.get("Sid").and_then(Value::as_str).unwrap_or("(unnamed)").to_string()).collect();
    if denies.is_empty() {
        Finding::new(Control::S3_5, account, resource(bucket), Status::Fail, "the bucket policy has no Deny of s3:* on the bucket and its objects with Bool aws:SecureTransport=false")
    } else {
        Finding::new(Control::S3_5, account, resource(bucket), Status::Pass, format!("Deny s3:* when aws:SecureTransport=false (Sid {})", denies.join(", ")))
    }
}

fn denies_insecure_transport(s: &Value, bucket: &str) -> bool {
    let deny = s.get("Effect").and_then(Value::as_str) == Some("Deny") && principal_is_everyone(s.get("Principal"));
    let actions = values(s.get("Action"));
    let all_actions = actions.iter().any(|a| a == "s3:*" || a == "*");
    let resources = values(s.get("Resource"));
    let covers = |r: &str| resources.iter().any(|x| x == "*" || x.ends_with(r));
    let on_bucket = covers(&format!(":::{bucket}")) && covers(&format!(":::{bucket}/*"));
    let insecure = ["Bool", "BoolIfExists"].iter().any(|op| {
        s.get("Condition").and_then(|c| c.get(*op)).and_then(|b| b.get("aws:SecureTransport")).is_some_and(|v| values(Some(v)).iter().any(|x| x.eq_ignore_ascii_case("false")) || v == &Value::Bool(false))
    });
    deny && all_actions && on_bucket && insecure
}

/// CIS 2.1.2, on one bucket. Versioning off fails (orgtrail converges it); MFA Delete off is
/// MANUAL: only the root user of the log-archive account can enable it.
fn mfa_delete_control(ctx: &Ctx<'_>, account: &str, bucket: &str, versioning: &Read<(String, bool)>) -> Finding {
    let c = Control::MfaDelete;
    if let Some(f) = unread(c, account, bucket, versioning) {
        return f;
    }
    let (status, mfa) = versioning.clone().ok().flatten().unwrap_or_default();
    let evidence = format!("Versioning Status={status}; MFADelete={}", if mfa { "Enabled" } else { "Disabled" });
    if status != BucketVersioningStatus::Enabled.as_str() {
        return Finding::new(c, account, resource(bucket), Status::Fail, format!("{evidence}: versioning must be Enabled"));
    }
    if mfa {
        return Finding::new(c, account, resource(bucket), Status::Pass, evidence);
    }
    let why = if ctx.config.log_archive.mfa_delete {
        let command = mfa_delete::enable_command(&mfa_delete::default_mfa_serial(ctx.partition(), account));
        format!("only the root user of account {account} can enable it: {command} --bucket {bucket}")
    } else {
        "log_archive.mfa_delete = false in the config (lifecycle rules and MFA Delete exclude each other)".to_string()
    };
    Finding::new(c, account, resource(bucket), Status::Manual, format!("{evidence}; {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_deny_must_cover_bucket_and_objects() {
        let p = |res: &str| {
            serde_json::json!({"Statement": [{"Sid": "T", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": serde_json::from_str::<Value>(res).unwrap(),
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})
        };
        let both = p(r#"["arn:aws:s3:::b", "arn:aws:s3:::b/*"]"#);
        assert!(denies_insecure_transport(&both["Statement"][0], "b"));
        let objects_only = p(r#""arn:aws:s3:::b/*""#);
        assert!(!denies_insecure_transport(&objects_only["Statement"][0], "b"));
    }

    #[test]
    fn public_statements_are_unconditioned_allows_to_everyone() {
        let policy = r#"{"Statement": [
            {"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
            {"Sid": "Org", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}},
            {"Sid": "Deny", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}"#;
        assert_eq!(public_statements(policy), vec!["Open".to_string()]);
    }
}
