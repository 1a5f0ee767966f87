//! The policies of issue 15's detection and tamper protection, rendered from `templates/` like the
//! others: the role CloudTrail writes to CloudWatch Logs with (trust + permissions), the alarm
//! topic's policy, the tamper-protection SCP, and the key-policy statements for the key's new users.
use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::error::PolicyError;
use super::lockout::arn_like;
use super::render::{render_template, PolicyContext, Vars};

const SCP_TEMPLATE: &str = include_str!("../../../templates/scp.json");
const LOGS_TRUST_TEMPLATE: &str = include_str!("../../../templates/detection/logs-role-trust.json");
const LOGS_POLICY_TEMPLATE: &str = include_str!("../../../templates/detection/logs-role-policy.json");
const TOPIC_TEMPLATE: &str = include_str!("../../../templates/detection/alarm-topic-policy.json");

/// Organizations' limit on an SCP document (characters, whitespace included: orgtrail sends it minified).
pub const SCP_MAX_CHARS: usize = 5120;

/// Who else uses the log-archive key, so its policy lets them (empty: the statements are left out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyUsers {
    /// `arn:…:logs:{home}:{mgmt}:log-group:NAME` (no `:*`): the encryption context CloudWatch Logs sets.
    pub log_group_arn: Option<String>,
    /// The CIS alarm topic is encrypted with the key: CloudWatch must be able to publish to it.
    pub alarm_topic: bool,
}

impl KeyUsers {
    pub(super) fn add_vars(&self, ctx: &PolicyContext, scalars: &mut Vec<(&'static str, String)>, flags: &mut BTreeSet<&'static str>) {
        if let Some(arn) = &self.log_group_arn {
            flags.insert("cloudwatch_logs");
            scalars.push(("log_group_arn", arn.clone()));
            // The regional service principal; China's partition uses its own domain.
            let suffix = if ctx.partition == "aws-cn" { "amazonaws.com.cn" } else { "amazonaws.com" };
            scalars.push(("logs_principal", format!("logs.{}.{suffix}", ctx.home_region)));
        }
        if self.alarm_topic {
            flags.insert("alarm_topic");
        }
    }
}

/// What the detection templates need beyond names already in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScpContext {
    pub partition: String,
    pub org_id: String,
    pub management_account: String,
    pub log_archive_account: String,
    pub home_region: String,
    pub trail_arn: String,
    pub key_arn: String,
    pub bucket: String,
    pub access_log_bucket: String,
    pub admin_role_arns: Vec<String>,
    /// `arn:…:log-group:NAME` (no `:*`), for the role's permissions.
    pub log_group_arn: String,
    pub topic_arn: String,
}

impl ScpContext {
    fn vars(&self) -> Vars {
        let scalars = [
            ("partition", &self.partition),
            ("org_id", &self.org_id),
            ("mgmt", &self.management_account),
            ("log_archive", &self.log_archive_account),
            ("home", &self.home_region),
            ("trail_arn", &self.trail_arn),
            ("key_arn", &self.key_arn),
            ("bucket", &self.bucket),
            ("access_log_bucket", &self.access_log_bucket),
            ("log_group_arn", &self.log_group_arn),
            ("topic_arn", &self.topic_arn),
        ];
        Vars {
            scalars: scalars.into_iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            lists: BTreeMap::from([("admin_roles".to_string(), self.admin_role_arns.clone())]),
            flags: BTreeSet::new(),
        }
    }
}

/// The tamper-protection SCP. Refused when over Organizations' size limit or with no admin role
/// (then nobody but the management account could ever change the trail, key or buckets again).
pub fn render_scp(ctx: &ScpContext) -> Result<Value, PolicyError> {
    let name = "scp.json";
    if ctx.admin_role_arns.is_empty() {
        return Err(PolicyError::InvalidContext { template: name, message: "log_archive.admin_roles is empty: the SCP would deny every principal".into() });
    }
    let doc = render_template(name, SCP_TEMPLATE, &ctx.vars())?;
    let size = doc.to_string().len();
    if size > SCP_MAX_CHARS {
        return Err(PolicyError::InvalidContext {
            template: name,
            message: format!("the rendered SCP is {size} characters, over Organizations' limit of {SCP_MAX_CHARS}: list fewer log_archive.admin_roles (wildcards such as arn:aws:iam::*:role/Admin* cover several)"),
        });
    }
    Ok(doc)
}

pub fn render_logs_role_trust(ctx: &ScpContext) -> Result<Value, PolicyError> {
    render_template("detection/logs-role-trust.json", LOGS_TRUST_TEMPLATE, &ctx.vars())
}

pub fn render_logs_role_policy(ctx: &ScpContext) -> Result<Value, PolicyError> {
    render_template("detection/logs-role-policy.json", LOGS_POLICY_TEMPLATE, &ctx.vars())
}

pub fn render_alarm_topic_policy(ctx: &ScpContext) -> Result<Value, PolicyError> {
    render_template("detection/alarm-topic-policy.json", TOPIC_TEMPLATE, &ctx.vars())
}

/// The Sid of an SCP Deny statement that denies `action` on `resource` to the principal whose
/// `aws:PrincipalArn` is `principal_arn`, if any. Evaluates the forms the template uses (Action
/// lists with `*`, Resource ARNs with `*`, `ArnNotLike`/`ArnLike` on aws:PrincipalArn); any other
/// condition counts as holding, the cautious reading for a lock-out check.
pub fn scp_denies(scp: &Value, principal_arn: &str, action: &str, resource: &str) -> Option<String> {
    let strings = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    };
    let statements = match scp.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(one) => vec![one.clone()],
        None => Vec::new(),
    };
    statements.iter().filter(|st| st.get("Effect").and_then(Value::as_str) == Some("Deny")).find_map(|st| {
        let acts = strings(st.get("Action"));
        let action_hit = acts.iter().any(|a| super::lockout::wildcard_match(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()));
        let resource_hit = strings(st.get("Resource")).iter().any(|r| r == "*" || arn_like(r, resource));
        let principal_denied = st.get("Condition").and_then(Value::as_object).is_none_or(|cond| {
            cond.iter().all(|(op, keys)| {
                let Some(pats) = keys.as_object().and_then(|k| k.iter().find(|(k, _)| k.eq_ignore_ascii_case("aws:PrincipalArn")).map(|(_, v)| strings(Some(v)))) else { return true };
                let any = pats.iter().any(|p| arn_like(p, principal_arn));
                match op.trim_end_matches("IfExists") {
                    "ArnNotLike" | "ArnNotEquals" => !any,
                    "ArnLike" | "ArnEquals" => any,
                    _ => true,
                }
            })
        });
        (action_hit && resource_hit && principal_denied).then(|| st.get("Sid").and_then(Value::as_str).unwrap_or("(no Sid)").to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LA: &str = "222222222222";

    fn ctx() -> ScpContext {
        ScpContext {
            partition: "aws".into(),
            org_id: "o-abc123def4".into(),
            management_account: "111111111111".into(),
            log_archive_account: LA.into(),
            home_region: "us-east-1".into(),
            trail_arn: "arn:aws:cloudtrail:us-east-1:111111111111:trail/orgtrail".into(),
            key_arn: "arn:aws:kms:us-east-1:222222222222:key/k".into(),
            bucket: "logs".into(),
            access_log_bucket: "logs-access-logs".into(),
            admin_role_arns: vec!["arn:aws:iam::222222222222:role/OrganizationAccountAccessRole".into(), "arn:aws:iam::*:role/BreakGlass*".into()],
            log_group_arn: "arn:aws:logs:us-east-1:111111111111:log-group:/aws/cloudtrail/orgtrail".into(),
            topic_arn: "arn:aws:sns:us-east-1:111111111111:orgtrail-alarms".into(),
        }
    }

    #[test]
    fn scp_denies_tampering_to_all_but_admins_and_leaves_root_versioning() {
        let c = ctx();
        let scp = render_scp(&c).unwrap();
        let attacker = "arn:aws:iam::333333333333:role/Admin";
        let root = format!("arn:aws:iam::{LA}:root");
        let bucket = "arn:aws:s3:::logs";
        for action in ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors", "cloudtrail:PutInsightSelectors"] {
            assert!(scp_denies(&scp, attacker, action, &c.trail_arn).is_some(), "{action}");
            assert!(scp_denies(&scp, &c.admin_role_arns[0], action, &c.trail_arn).is_none(), "{action} for the admin role");
        }
        for action in ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration"] {
            assert!(scp_denies(&scp, attacker, action, bucket).is_some(), "{action}");
            assert!(scp_denies(&scp, "arn:aws:iam::444444444444:role/BreakGlassOps", action, bucket).is_none(), "wildcard admin {action}");
        }
        assert!(scp_denies(&scp, attacker, "kms:PutKeyPolicy", &c.key_arn).is_some());
        assert!(scp_denies(&scp, attacker, "s3:DeleteObject", "arn:aws:s3:::logs/org/AWSLogs/x").is_some());
        // MFA Delete: only the log-archive root user may enable it, so it keeps PutBucketVersioning...
        assert_eq!(scp_denies(&scp, &root, "s3:PutBucketVersioning", bucket), None);
        // ...and nothing else.
        assert_eq!(scp_denies(&scp, &root, "s3:PutBucketPolicy", bucket).as_deref(), Some("ProtectLogBuckets"));
        // Other resources are untouched.
        assert!(scp_denies(&scp, attacker, "s3:PutBucketPolicy", "arn:aws:s3:::app-data").is_none());
        assert!(scp_denies(&scp, attacker, "cloudtrail:StopLogging", "arn:aws:cloudtrail:us-east-1:333333333333:trail/app").is_none());
    }

    #[test]
    fn scp_is_refused_over_the_size_limit_or_without_admins() {
        let many = ScpContext { admin_role_arns: (0..60).map(|i| format!("arn:aws:iam::222222222222:role/AdminRoleNumber{i:03}")).collect(), ..ctx() };
        assert!(render_scp(&many).unwrap_err().to_string().contains("5120"));
        assert!(render_scp(&ScpContext { admin_role_arns: vec![], ..ctx() }).is_err());
    }

    #[test]
    fn logs_role_is_least_privilege_and_source_scoped() {
        let c = ctx();
        let trust = render_logs_role_trust(&c).unwrap();
        assert_eq!(trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceArn"], c.trail_arn.as_str());
        let perms = render_logs_role_policy(&c).unwrap();
        let actions: Vec<&str> = perms["Statement"].as_array().unwrap().iter().map(|s| s["Action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["logs:CreateLogStream", "logs:PutLogEvents"]);
        for s in perms["Statement"].as_array().unwrap() {
            for r in s["Resource"].as_array().unwrap() {
                assert!(r.as_str().unwrap().starts_with(&format!("{}:log-stream:", c.log_group_arn)), "{r}");
            }
        }
        let topic = render_alarm_topic_policy(&c).unwrap();
        assert!(!topic.to_string().contains("\"AWS\":\"*\""), "no open principal: {topic}");
    }
}
