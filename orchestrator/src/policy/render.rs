//! Rendering of the JSON policy templates in `templates/`.
//!
//! A template is parsed as JSON first and placeholders are substituted inside string values only, so a
//! value (a bucket name, a role ARN) can never change the document's structure. Two template-only
//! devices, both removed from the output:
//! - a string that is exactly `"{list}"` expands to a JSON array (spliced when it is an array element);
//! - `"_when": "flag"` (or a list of flags, all required) on an array element keeps it only when the
//!   flag holds: `organization`, `account`, `enforce_encryption`, `readers`.
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::error::PolicyError;
use crate::aws::Arn;

/// Spec item 6 is split by what it protects: `DenyLogDeletion` (DeleteObject*, and lifecycle / versioning
/// changes, which delete logs indirectly) and `DenyPolicyTampering` (Put/DeleteBucketPolicy). Neither names
/// s3:PutObject or s3:GetBucketAcl, so CloudTrail's delivery is never caught; `DenyExternalPrincipals` and
/// `RestrictLogReads` exempt AWS service principals (`BoolIfExists aws:PrincipalIsAWSService = false`),
/// which carry neither aws:PrincipalOrgID nor aws:PrincipalArn. Deny statements use
/// `"Principal": {"AWS": "*"}`: equivalent to `"*"` in AWS, and the only form the local emulator parses.
const BUCKET_TEMPLATE: &str = include_str!("../../../templates/bucket-policy.json");
/// Key policy, following the CloudTrail User Guide ("Configure AWS KMS key policies for CloudTrail"):
/// - `AllowCloudTrailDecryptForBucketKey` (not in the spec's list): the guide requires `kms:Decrypt` for
///   cloudtrail.amazonaws.com to create or update a trail whose bucket uses an S3 Bucket Key, which ours
///   does. It carries no encryption-context condition (the guide's example has none, and Bucket Key
///   operations use the bucket's context), only the aws:SourceArn the guide recommends on every statement.
/// - Account mode: the guide documents aws:SourceArn (and aws:SourceAccount) for KMS, not aws:SourceOrgID,
///   so the statements use `ArnLike aws:SourceArn arn:…:cloudtrail:{home}:*:trail/{trail}` (constant size,
///   unlike one ARN per account against the 32 KB key-policy limit) and pin the accounts through the
///   encryption context (`arn:…:cloudtrail:*:{account}:trail/*` per targeted account), as the guide does
///   for several accounts.
const KEY_TEMPLATE: &str = include_str!("../../../templates/kms-key-policy.json");
const ACCESS_LOG_TEMPLATE: &str = include_str!("../../../templates/access-log-bucket-policy.json");
/// The access-log bucket's key (`access_log_encryption = "sse-kms"`). The S3 User Guide's statement for
/// an SSE-KMS log destination grants logging.s3.amazonaws.com `kms:GenerateDataKey`; the
/// aws:SourceArn / aws:SourceAccount conditions (the log bucket, the log-archive account) are the
/// confused-deputy guard the access-log bucket policy uses too. No Bucket Key on that bucket, so no
/// `kms:Decrypt` for the service.
const ACCESS_LOG_KEY_TEMPLATE: &str = include_str!("../../../templates/access-log-kms-key-policy.json");
// `cloudwatch_logs`, `alarm_topic`: the key-policy statements of issue 15's detection features.
const KNOWN_FLAGS: &[&str] = &["organization", "account", "enforce_encryption", "readers", "cloudwatch_logs", "alarm_topic"];

/// Which kind of trail writes into the log-archive bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrailMode {
    /// One organization trail owned by the management account.
    Organization,
    /// One trail per member account; `account_ids` are the accounts targeted so far.
    Account { account_ids: Vec<String> },
}

/// Everything the policy templates need. Role lists hold full ARNs; `admin_role_arns` may use the
/// `*`/`?` wildcards of `ArnLike`, `reader_role_arns` may not (they are KMS key-policy principals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyContext {
    pub partition: String,
    pub org_id: String,
    pub management_account: String,
    pub log_archive_account: String,
    pub home_region: String,
    pub trail_name: String,
    pub bucket: String,
    pub prefix: Option<String>,
    pub access_log_bucket: String,
    pub key_arn: String,
    pub reader_role_arns: Vec<String>,
    pub admin_role_arns: Vec<String>,
    pub mode: TrailMode,
    /// Phase two: add the denies that refuse objects not encrypted with the log key.
    pub enforce_encryption: bool,    /// Detection (issue 15): what else uses the key (CloudWatch Logs, the alarm topic).
    pub key_users: super::detection::KeyUsers,
}

impl PolicyContext {
    /// The organization trail's ARN. It is owned by the management account even when a delegated
    /// administrator created it, so it always names `management_account`.
    pub fn trail_arn(&self) -> String {
        format!(
            "arn:{}:cloudtrail:{}:{}:trail/{}",
            self.partition, self.home_region, self.management_account, self.trail_name
        )
    }

    fn prefix_path(&self) -> String {
        match self.prefix.as_deref() {
            Some(p) if !p.is_empty() => format!("{p}/"),
            _ => String::new(),
        }
    }

    fn account_ids(&self) -> &[String] {
        match &self.mode {
            TrailMode::Organization => &[],
            TrailMode::Account { account_ids } => account_ids,
        }
    }

    fn vars(&self) -> Vars {
        let p = &self.partition;
        let scalars = [
            ("partition", p.clone()),
            ("bucket", self.bucket.clone()),
            ("prefix_path", self.prefix_path()),
            ("org_id", self.org_id.clone()),
            ("mgmt", self.management_account.clone()),
            ("log_archive", self.log_archive_account.clone()),
            ("home", self.home_region.clone()),
            ("trail", self.trail_name.clone()),
            ("trail_arn", self.trail_arn()),
            ("key_arn", self.key_arn.clone()),
            ("access_log_bucket", self.access_log_bucket.clone()),
            // Account mode: every member's trail has the same name and lives in the home region.
            (
                "account_trail_arn_pattern",
                format!("arn:{p}:cloudtrail:{}:*:trail/{}", self.home_region, self.trail_name),
            ),
        ];
        let ids = self.account_ids();
        let context_accounts: Vec<&String> = match self.mode {
            TrailMode::Organization => vec![&self.management_account],
            TrailMode::Account { .. } => ids.iter().collect(),
        };
        let mut reader_accounts: Vec<String> =
            self.reader_role_arns.iter().filter_map(|a| Arn::account_of(a)).collect();
        reader_accounts.sort();
        reader_accounts.dedup();
        let lists = [
            ("reader_roles", self.reader_role_arns.clone()),
            ("admin_roles", self.admin_role_arns.clone()),
            ("reader_accounts", reader_accounts),
            (
                "account_log_paths",
                ids.iter()
                    .map(|id| format!("arn:{p}:s3:::{}/{}AWSLogs/{id}/*", self.bucket, self.prefix_path()))
                    .collect(),
            ),
            // Encryption context CloudTrail puts on every data key: the ARN of the trail, so of its owner.
            (
                "trail_context_arns",
                context_accounts.iter().map(|id| format!("arn:{p}:cloudtrail:*:{id}:trail/*")).collect(),
            ),
        ];
        let mut flags = BTreeSet::new();
        flags.insert(if matches!(self.mode, TrailMode::Organization) { "organization" } else { "account" });
        if self.enforce_encryption {
            flags.insert("enforce_encryption");
        }
        if !self.reader_role_arns.is_empty() {
            flags.insert("readers");
        }
        let mut scalars = scalars.to_vec();
        self.key_users.add_vars(self, &mut scalars, &mut flags);
        Vars {
            scalars: scalars.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            lists: lists.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            flags,
        }
    }

    /// Checks shared by all templates; each failure would yield a policy AWS rejects or one that misleads.
    fn validate(&self, template: &'static str) -> Result<(), PolicyError> {
        let bad = |message: String| Err(PolicyError::InvalidContext { template, message });
        let is_account = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
        if self.partition.is_empty() || !self.partition.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
            return bad(format!("invalid partition {:?}", self.partition));
        }
        if !self.org_id.starts_with("o-") {
            return bad(format!("invalid organization id {:?} (expected o-...)", self.org_id));
        }
        for (what, id) in
            [("management account", &self.management_account), ("log-archive account", &self.log_archive_account)]
        {
            if !is_account(id) {
                return bad(format!("invalid {what} id {id:?} (expected 12 digits)"));
            }
        }
        if let Some(p) = self.prefix.as_deref() {
            // CloudTrail's S3KeyPrefix has no leading or trailing slash; the policy path must match it exactly.
            if p.starts_with('/') || p.ends_with('/') {
                return bad(format!("prefix {p:?} must not start or end with '/'"));
            }
        }
        if let TrailMode::Account { account_ids } = &self.mode {
            if account_ids.is_empty() {
                return bad("account trail mode needs at least one targeted account".into());
            }
            if let Some(id) = account_ids.iter().find(|id| !is_account(id)) {
                return bad(format!("invalid targeted account id {id:?} (expected 12 digits)"));
            }
        }
        Ok(())
    }
}

/// Placeholder values and flags for one rendering.
pub(crate) struct Vars {
    pub scalars: BTreeMap<String, String>,
    pub lists: BTreeMap<String, Vec<String>>,
    pub flags: BTreeSet<&'static str>,
}

/// The restrictive policy of the log-archive bucket.
pub fn render_bucket_policy(ctx: &PolicyContext) -> Result<Value, PolicyError> {
    let name = "bucket-policy.json";
    ctx.validate(name)?;
    // Every deny of log deletion and policy changes exempts only these roles: with none, nobody but the
    // account root user could ever change the bucket again.
    if ctx.admin_role_arns.is_empty() {
        return Err(PolicyError::InvalidContext {
            template: name,
            message: "log_archive.admin_roles is empty: DenyPolicyTampering would deny every principal, orgtrail \
                      included; list at least the role orgtrail runs as"
                .into(),
        });
    }
    if ctx.enforce_encryption && !ctx.key_arn.starts_with("arn:") {
        return Err(PolicyError::InvalidContext {
            template: name,
            message: format!("key_arn {:?} must be a full key ARN (S3 compares the header with it)", ctx.key_arn),
        });
    }
    render_template(name, BUCKET_TEMPLATE, &ctx.vars())
}

/// The policy of the KMS key that encrypts the logs.
pub fn render_key_policy(ctx: &PolicyContext) -> Result<Value, PolicyError> {
    let name = "kms-key-policy.json";
    ctx.validate(name)?;
    // Reader roles are Principal entries here, where KMS accepts neither wildcards nor non-ARNs.
    if let Some(r) = ctx.reader_role_arns.iter().find(|r| !r.starts_with("arn:") || r.contains(['*', '?'])) {
        return Err(PolicyError::InvalidContext {
            template: name,
            message: format!("reader role {r:?} must be an exact role ARN (no wildcards in a key policy Principal)"),
        });
    }
    render_template(name, KEY_TEMPLATE, &ctx.vars())
}

/// The policy of the bucket that receives the log bucket's S3 server access logs.
pub fn render_access_log_bucket_policy(ctx: &PolicyContext) -> Result<Value, PolicyError> {
    let name = "access-log-bucket-policy.json";
    ctx.validate(name)?;
    render_template(name, ACCESS_LOG_TEMPLATE, &ctx.vars())
}

/// The policy of the access-log bucket's own customer-managed key.
pub fn render_access_log_key_policy(ctx: &PolicyContext) -> Result<Value, PolicyError> {
    let name = "access-log-kms-key-policy.json";
    ctx.validate(name)?;
    render_template(name, ACCESS_LOG_KEY_TEMPLATE, &ctx.vars())
}

/// Parse `template`, drop elements whose `_when` flags do not hold, substitute placeholders, and check
/// the result (no empty array, unique Sids).
pub(crate) fn render_template(name: &'static str, template: &str, vars: &Vars) -> Result<Value, PolicyError> {
    let parsed: Value =
        serde_json::from_str(template).map_err(|source| PolicyError::TemplateJson { template: name, source })?;
    let out = render_value(name, parsed, vars)?;
    check_rendered(name, &out)?;
    Ok(out)
}

fn render_value(name: &'static str, v: Value, vars: &Vars) -> Result<Value, PolicyError> {
    Ok(match v {
        Value::String(s) => match whole_list(&s, vars) {
            Some(items) => Value::Array(items.iter().cloned().map(Value::String).collect()),
            None => Value::String(substitute(name, &s, vars)?),
        },
        Value::Array(items) => {
            let mut out: Vec<Value> = Vec::with_capacity(items.len());
            for item in items {
                if let Value::Object(obj) = &item {
                    if !when_holds(name, obj, vars)? {
                        continue;
                    }
                }
                // A list placeholder inside an array is spliced, so ["{a}", "{b}"] concatenates the lists.
                let spliced = matches!(&item, Value::String(s) if whole_list(s, vars).is_some());
                match render_value(name, item, vars)? {
                    Value::Array(inner) if spliced => out.extend(inner),
                    other => out.push(other),
                }
            }
            // A role both reader and admin must appear once.
            let mut seen = BTreeSet::new();
            out.retain(|x| !x.is_string() || seen.insert(x.to_string()));
            Value::Array(out)
        }
        Value::Object(obj) => {
            let mut out = Map::new();
            for (k, val) in obj {
                if k == "_when" {
                    continue;
                }
                out.insert(substitute(name, &k, vars)?, render_value(name, val, vars)?);
            }
            Value::Object(out)
        }
        other => other,
    })
}

fn whole_list<'a>(s: &str, vars: &'a Vars) -> Option<&'a Vec<String>> {
    s.strip_prefix('{').and_then(|r| r.strip_suffix('}')).and_then(|n| vars.lists.get(n))
}

fn when_holds(name: &'static str, obj: &Map<String, Value>, vars: &Vars) -> Result<bool, PolicyError> {
    let flags: Vec<&str> = match obj.get("_when") {
        None => return Ok(true),
        Some(Value::String(f)) => vec![f.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        Some(other) => {
            return Err(PolicyError::Template {
                template: name,
                message: format!("_when must be a string or list: {other}"),
            })
        }
    };
    for f in &flags {
        if !KNOWN_FLAGS.contains(f) {
            return Err(PolicyError::Template { template: name, message: format!("unknown _when flag {f:?}") });
        }
    }
    Ok(flags.iter().all(|f| vars.flags.contains(f)))
}

/// One left-to-right pass: substituted values are never rescanned, so a value containing `{x}` stays
/// literal. `${...}` (IAM policy variables) is left alone.
fn substitute(name: &'static str, s: &str, vars: &Vars) -> Result<String, PolicyError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        let literal = &rest[..open];
        let after_dollar = literal.ends_with('$');
        out.push_str(literal);
        let after = &rest[open + 1..];
        let ident_len = after.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
        let is_placeholder = ident_len > 0 && after[ident_len..].starts_with('}') && !after_dollar;
        if !is_placeholder {
            out.push('{');
            rest = after;
            continue;
        }
        let key = &after[..ident_len];
        if let Some(v) = vars.scalars.get(key) {
            out.push_str(v);
        } else if vars.lists.contains_key(key) {
            return Err(PolicyError::ListInString { template: name, placeholder: key.to_string() });
        } else {
            return Err(PolicyError::UnknownPlaceholder { template: name, placeholder: key.to_string() });
        }
        rest = &after[ident_len + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn check_rendered(name: &'static str, doc: &Value) -> Result<(), PolicyError> {
    fn find_empty(v: &Value, path: &str) -> Option<String> {
        match v {
            Value::Array(a) if a.is_empty() => Some(path.to_string()),
            Value::Array(a) => a.iter().enumerate().find_map(|(i, x)| find_empty(x, &format!("{path}[{i}]"))),
            Value::Object(o) => o.iter().find_map(|(k, x)| find_empty(x, &format!("{path}.{k}"))),
            _ => None,
        }
    }
    // AWS rejects empty Principal / Resource / condition value lists; catch an empty input list here.
    if let Some(path) = find_empty(doc, "$") {
        return Err(PolicyError::Template { template: name, message: format!("rendered an empty list at {path}") });
    }
    let mut sids = BTreeSet::new();
    for st in doc.get("Statement").and_then(Value::as_array).into_iter().flatten() {
        if let Some(sid) = st.get("Sid").and_then(Value::as_str) {
            if !sids.insert(sid) {
                return Err(PolicyError::Template { template: name, message: format!("duplicate Sid {sid}") });
            }
        }
    }
    Ok(())
}
