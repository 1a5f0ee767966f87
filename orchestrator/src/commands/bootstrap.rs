//! `orgtrail render-bootstrap`: the CloudFormation template that creates the member role orgtrail
//! assumes, for a service-managed StackSet (docs/quickstart.md). Read from the config alone, no AWS
//! call: the role name, the session length, the account allowed to assume the role, the optional
//! external id (a NoEcho parameter, never printed) and the options that decide which optional
//! statements of `templates/iam/` apply. The policies are those documents with the placeholders
//! filled in; the log-archive account's statements attach only in that account (a condition on
//! `AWS::AccountId`), so one template serves every account.
use anyhow::{bail, Context, Result};
use orgtrail::config::{self, Config, LegacyTrails, TrailMode};
use serde_norway::{Mapping, Value};

use crate::failure::{Exit, ExitClass, Failure};
use crate::settings::Settings;

const MEMBER: &str = include_str!("../../../templates/iam/member-account.json");
const LOG_ARCHIVE: &str = include_str!("../../../templates/iam/log-archive-account.json");
const TRUST: &str = include_str!("../../../templates/iam/member-role-trust-policy.json");

/// The StackSet the `--stack-set` form creates; docs/quickstart.md uses the same name.
pub const STACK_SET_NAME: &str = "orgtrail-bootstrap";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Yaml,
    Json,
}

#[derive(clap::Args)]
pub struct BootstrapArgs {
    /// Output format (default: yaml, or json with --json).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// The account whose principals may assume the role (default: the config's
    /// delegated_admin_account, else its management_account).
    #[arg(long, value_name = "ACCOUNT_ID")]
    management_account: Option<String>,
    /// Wrap the role template in an AWS::CloudFormation::StackSet resource (service-managed, automatic
    /// deployment) targeting these OUs or the root (r-...), to deploy as one stack in the management account.
    #[arg(long, value_name = "OU_ID", value_delimiter = ',')]
    stack_set: Vec<String>,
}

pub fn render_bootstrap(settings: &Settings, args: &BootstrapArgs) -> Result<Exit, Failure> {
    let config = settings.config();
    let config_path = settings.config_path.display().to_string();
    let trusted = trusted_account(config, args.management_account.as_deref(), &config_path)?;
    check_stack_set_targets(&args.stack_set)?;
    // What is left to fail is orgtrail's own templates, not the operator's input.
    let internal = |e: anyhow::Error| Failure::new(ExitClass::Environment, e.context("rendering the bootstrap template"));
    let member = member_template(config, &trusted).map_err(internal)?;
    let (template, how) = if args.stack_set.is_empty() {
        (member, "as a service-managed StackSet (docs/quickstart.md, \"Bootstrap the member role\")")
    } else {
        (stack_set_template(config, &member, &args.stack_set).map_err(internal)?, "as one stack in the management account (docs/quickstart.md, \"One stack instead\")")
    };
    for warning in warnings(config) {
        eprintln!("warning: {warning}");
    }
    let format = args.format.unwrap_or(if settings.output.json { Format::Json } else { Format::Yaml });
    super::output::write(&render(&template, format, &config_path, how).map_err(internal)?)?;
    Ok(Exit::Ok)
}

fn check_stack_set_targets(targets: &[String]) -> Result<(), Failure> {
    for t in targets {
        let ok = (t.starts_with("ou-") || t.starts_with("r-")) && t.len() > 3 && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            return Err(Failure::bad_input(format!("--stack-set {t:?}: expected an OU id (ou-...) or the root id (r-...)")));
        }
    }
    Ok(())
}

/// The template as text: YAML with a comment header saying where it came from, or pretty JSON.
pub fn render(template: &Value, format: Format, config_path: &str, how: &str) -> Result<String> {
    Ok(match format {
        Format::Json => serde_json::to_string_pretty(template)? + "\n",
        Format::Yaml => format!("# orgtrail's member role, rendered by `orgtrail render-bootstrap` from {config_path}.\n# Deploy it {how}.\n{}", quote_dates(&serde_norway::to_string(template)?)),
    })
}

/// serde_norway writes YAML 1.2, where `2012-10-17` is a string; YAML 1.1 readers (PyYAML, so
/// cfn-lint) would read a date. The template's strings that look like dates get quotes.
fn quote_dates(yaml: &str) -> String {
    let is_date = |v: &str| {
        let parts: Vec<&str> = v.split('-').collect();
        parts.len() == 3 && parts[0].len() == 4 && parts.iter().all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
    };
    let mut out = String::with_capacity(yaml.len() + 16);
    for line in yaml.lines() {
        let split = line.rfind(": ").map(|i| i + 2).or_else(|| line.trim_start().starts_with("- ").then(|| line.find("- ").unwrap() + 2));
        match split {
            Some(at) if is_date(&line[at..]) => out.push_str(&format!("{}'{}'", &line[..at], &line[at..])),
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// `--management-account`, else the delegated administrator (whose credentials then run orgtrail),
/// else the management account, from the config: no AWS call.
fn trusted_account(config: &Config, flag: Option<&str>, config_path: &str) -> Result<String, Failure> {
    let source = std::fs::read_to_string(config_path).unwrap_or_default();
    let missing = keys_to_set(config, flag.is_some(), &source);
    if !missing.is_empty() {
        return Err(Failure::bad_input(format!("{config_path}: render-bootstrap needs {}:\n{}", if missing.len() == 1 { "this key set" } else { "these keys set" }, missing.join("\n")))
            .with_hint(format!("set them in {config_path} and run `orgtrail render-bootstrap` again")));
    }
    let org = &config.organization;
    let account = flag.map(String::from).or_else(|| org.delegated_admin_account.clone()).or_else(|| org.management_account.clone()).unwrap_or_default();
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Failure::bad_input(format!("--management-account {account:?}: expected a 12-digit account id")));
    }
    if let Some(other) = config.access.trusted_principals.iter().find(|p| p.split(':').nth(4) != Some(account.as_str())) {
        return Err(Failure::bad_input(format!(
            "{config_path}: [access] trusted_principals names {other}, which is not a principal of account {account} that the role trusts; \
             list that account's roles only, or pass --management-account with their account"
        )));
    }
    Ok(account)
}

/// The keys a config (its text `source`, for the lines) must set before `render-bootstrap` renders
/// it, one line each, `  line N: [table] key = "VALUE"  # why`; empty when it renders.
/// `init` prints the same list for the example it writes.
pub fn keys_to_set(config: &Config, account_flag: bool, source: &str) -> Vec<String> {
    let line = |needle: &str| source.lines().position(|l| l.trim_start().starts_with(needle)).map_or_else(String::new, |i| format!("line {}: ", i + 1));
    let mut keys = Vec::new();
    let org = &config.organization;
    if !account_flag && org.delegated_admin_account.is_none() && org.management_account.is_none() {
        let at = [("# management_account", "# management_account"), ("[organization]", "[organization]")].iter().map(|(n, _)| line(n)).find(|l| !l.is_empty()).unwrap_or_default();
        keys.push(format!(
            "  {at}[organization] management_account = \"ACCOUNT_ID\"  # the account orgtrail runs from, which the role trusts (or delegated_admin_account, or pass --management-account ACCOUNT_ID)"
        ));
    }
    if config.access.role_name == config::DEFAULT_ROLE_NAME {
        keys.push(format!(
            "  {}[access] role_name = \"OrgtrailExecution\"  # a dedicated role: {} is the role Organizations already created (with AdministratorAccess) in the accounts it created, so the StackSet cannot create it",
            line("role_name"),
            config::DEFAULT_ROLE_NAME
        ));
    }
    keys
}

fn warnings(config: &Config) -> Vec<String> {
    let role = format!(":role/{}", config.access.role_name);
    let la = &config.log_archive;
    if la.admin_roles.iter().any(|r| r.contains(&la.account) && r.ends_with(&role)) {
        return vec![];
    }
    vec![format!("[log_archive] admin_roles has no arn:{}:iam::{}{role}: apply refuses a bucket policy that would lock that role out; add it", config.partition(), la.account)]
}

/// The stack each account runs: the role, its member policy, and the log-archive policy there only.
pub fn member_template(config: &Config, trusted_account: &str) -> Result<Value> {
    let values = placeholders(config, trusted_account);
    let member = policy(MEMBER, &values, |sid| optional_member_statement(config, sid)).context("templates/iam/member-account.json")?;
    let log_archive = policy(LOG_ARCHIVE, &values, |sid| optional_log_archive_statement(config, sid)).context("templates/iam/log-archive-account.json")?;
    let trust = trust_policy(config, &values).context("templates/iam/member-role-trust-policy.json")?;
    let role_name = config.access.role_name.as_str();
    let role = map([
        ("Type", s("AWS::IAM::Role")),
        (
            "Properties",
            map([
                ("RoleName", s(role_name)),
                ("Description", s(&format!("Assumed by orgtrail from account {trusted_account} to roll out and verify CloudTrail"))),
                ("MaxSessionDuration", Value::from(config.access.session_duration_seconds.max(3600))),
                ("AssumeRolePolicyDocument", trust),
                ("Policies", Value::Sequence(vec![map([("PolicyName", s("orgtrail-member")), ("PolicyDocument", member)])])),
                ("Tags", Value::Sequence(vec![map([("Key", s("managed-by")), ("Value", s("orgtrail"))])])),
            ]),
        ),
    ]);
    let la_policy = map([
        ("Type", s("AWS::IAM::RolePolicy")),
        ("Condition", s("IsLogArchiveAccount")),
        ("Properties", map([("RoleName", map([("Ref", s("MemberRole"))])), ("PolicyName", s("orgtrail-log-archive")), ("PolicyDocument", log_archive)])),
    ]);
    let is_log_archive = map([("Fn::Equals", Value::Sequence(vec![map([("Ref", s("AWS::AccountId"))]), s(&config.log_archive.account)]))]);
    let mut template = map([
        ("AWSTemplateFormatVersion", s("2010-09-09")),
        ("Description", s(&format!("orgtrail member role {role_name}: least-privilege access for orgtrail, trusted by account {trusted_account}"))),
    ]);
    let fields = template.as_mapping_mut().expect("a map");
    if config.access.external_id.is_some() {
        fields.insert(s("Parameters"), map([("ExternalId", external_id_parameter())]));
    }
    fields.insert(s("Conditions"), map([("IsLogArchiveAccount", is_log_archive)]));
    fields.insert(s("Resources"), map([("MemberRole", role), ("LogArchivePolicy", la_policy)]));
    fields.insert(s("Outputs"), map([("RoleArn", map([("Description", s("The role orgtrail assumes")), ("Value", map([("Fn::GetAtt", Value::Sequence(vec![s("MemberRole"), s("Arn")]))]))]))]));
    Ok(template)
}

fn external_id_parameter() -> Value {
    map([
        ("Type", s("String")),
        ("NoEcho", Value::Bool(true)),
        ("MinLength", Value::from(2)),
        ("MaxLength", Value::from(1224)),
        ("AllowedPattern", s(r"[\w+=,.@:/-]*")),
        ("Description", s("[access] external_id of the orgtrail config: the trust policy requires it (never printed by orgtrail)")),
    ])
}

/// The member template as a service-managed StackSet deployed to `targets`, and to every account
/// that joins them later (AutoDeployment). IAM is global: one region, the home region.
pub fn stack_set_template(config: &Config, member: &Value, targets: &[String]) -> Result<Value> {
    let mut props = map([
        ("StackSetName", s(STACK_SET_NAME)),
        ("Description", s("orgtrail member role in every account of the targeted OUs")),
        ("PermissionModel", s("SERVICE_MANAGED")),
        ("AutoDeployment", map([("Enabled", Value::Bool(true)), ("RetainStacksOnAccountRemoval", Value::Bool(false))])),
        ("Capabilities", Value::Sequence(vec![s("CAPABILITY_NAMED_IAM")])),
        ("OperationPreferences", map([("MaxConcurrentPercentage", Value::from(25)), ("FailureTolerancePercentage", Value::from(0))])),
        (
            "StackInstancesGroup",
            Value::Sequence(vec![map([
                ("DeploymentTargets", map([("OrganizationalUnitIds", Value::Sequence(targets.iter().map(|t| s(t)).collect()))])),
                ("Regions", Value::Sequence(vec![s(&config.organization.home_region)])),
            ])]),
        ),
        ("TemplateBody", s(&serde_json::to_string(member)?)),
    ]);
    let mut template =
        map([("AWSTemplateFormatVersion", s("2010-09-09")), ("Description", s("orgtrail bootstrap: a service-managed StackSet that creates orgtrail's member role across the organization"))]);
    if config.access.external_id.is_some() {
        let passed = map([("ParameterKey", s("ExternalId")), ("ParameterValue", map([("Ref", s("ExternalId"))]))]);
        props.as_mapping_mut().expect("a map").insert(s("Parameters"), Value::Sequence(vec![passed]));
        template.as_mapping_mut().expect("a map").insert(s("Parameters"), map([("ExternalId", external_id_parameter())]));
    }
    let resource = map([("Type", s("AWS::CloudFormation::StackSet")), ("Properties", props)]);
    let fields = template.as_mapping_mut().expect("a map");
    fields.insert(s("Resources"), map([("MemberRoleStackSet", resource)]));
    fields.insert(s("Outputs"), map([("StackSetId", map([("Value", map([("Ref", s("MemberRoleStackSet"))]))]))]));
    Ok(template)
}

/// The statements of member-account.json that carry a `_comment` apply only with their option.
fn optional_member_statement(config: &Config, sid: &str) -> Result<bool> {
    Ok(match sid {
        "StopOrDeleteLegacyTrails" => config.trail.legacy_trails != LegacyTrails::Keep,
        "AccountModeTrail" => config.trail.mode == TrailMode::Account,
        "AccountModeDeliveryTopic" => config.trail.mode == TrailMode::Account && config.trail.sns_topic.is_some(),
        other => bail!("optional statement {other} has no rule in render-bootstrap"),
    })
}

fn optional_log_archive_statement(config: &Config, sid: &str) -> Result<bool> {
    Ok(match sid {
        "KmsAccessLogAlias" => config.log_archive.access_log_kms_alias.is_some(),
        other => bail!("optional statement {other} has no rule in render-bootstrap"),
    })
}

fn placeholders(config: &Config, trusted_account: &str) -> Vec<(&'static str, Option<String>)> {
    let la = &config.log_archive;
    vec![
        ("partition", Some(config.partition().to_string())),
        ("home_region", Some(config.organization.home_region.clone())),
        ("management_account", Some(trusted_account.to_string())),
        ("log_archive_account", Some(la.account.clone())),
        ("bucket", Some(la.bucket.clone())),
        ("access_log_bucket", Some(la.access_log_bucket.clone())),
        ("kms_alias", Some(la.kms_alias.clone())),
        ("access_log_kms_alias", la.access_log_kms_alias.clone()),
        ("trail_name", Some(config.trail.name.clone())),
        ("role_name", Some(config.access.role_name.clone())),
        ("sns_topic", config.trail.sns_topic.clone()),
    ]
}

/// A policy document: optional statements kept or dropped (`keep` decides by Sid), `_comment`
/// keys removed (IAM refuses them), every `{placeholder}` filled in.
fn policy(text: &str, values: &[(&str, Option<String>)], keep: impl Fn(&str) -> Result<bool>) -> Result<Value> {
    let mut doc: Value = serde_norway::from_str(text)?;
    let statements = doc.get_mut("Statement").and_then(Value::as_sequence_mut).context("no Statement list")?;
    let mut kept = Vec::new();
    for mut st in std::mem::take(statements) {
        let fields = st.as_mapping_mut().context("a statement is not an object")?;
        if fields.remove("_comment").is_some() {
            let sid = fields.get("Sid").and_then(Value::as_str).context("an optional statement without Sid")?;
            if !keep(sid)? {
                continue;
            }
        }
        kept.push(st);
    }
    *statements = kept;
    fill(&mut doc, values)?;
    Ok(doc)
}

/// The trust policy: the external id's condition only when the config has one, bound to the
/// template's NoEcho parameter so the secret itself never appears in the template. With
/// `[access] trusted_principals`, only those principals of the trusted account (`aws:PrincipalArn`,
/// the role ARN of a role session, wildcards allowed): the account stays the Principal.
fn trust_policy(config: &Config, values: &[(&str, Option<String>)]) -> Result<Value> {
    let mut doc: Value = serde_norway::from_str(TRUST)?;
    for st in doc.get_mut("Statement").and_then(Value::as_sequence_mut).context("no Statement list")? {
        let fields = st.as_mapping_mut().context("a statement is not an object")?;
        if config.access.external_id.is_none() {
            fields.remove("Condition");
        } else if let Some(id) = fields.get_mut("Condition").and_then(|c| c.get_mut("StringEquals")).and_then(|c| c.get_mut("sts:ExternalId")) {
            *id = map([("Ref", s("ExternalId"))]);
        }
        let principals = &config.access.trusted_principals;
        if !principals.is_empty() {
            let condition = fields.entry(s("Condition")).or_insert_with(|| Value::Mapping(Mapping::new()));
            let arns = Value::Sequence(principals.iter().map(|p| s(p)).collect());
            condition.as_mapping_mut().context("Condition is not an object")?.insert(s("ArnLike"), map([("aws:PrincipalArn", arns)]));
        }
    }
    fill(&mut doc, values)?;
    Ok(doc)
}

fn fill(value: &mut Value, values: &[(&str, Option<String>)]) -> Result<()> {
    match value {
        Value::String(text) => {
            for (name, v) in values {
                let token = format!("{{{name}}}");
                if text.contains(&token) {
                    let v = v.as_deref().with_context(|| format!("{token} has no value in this config"))?;
                    *text = text.replace(&token, v);
                }
            }
            if let Some(start) = text.find('{') {
                bail!("unknown placeholder in {:?}", &text[start..]);
            }
        }
        Value::Sequence(items) => items.iter_mut().try_for_each(|v| fill(v, values))?,
        Value::Mapping(m) => m.values_mut().try_for_each(|v| fill(v, values))?,
        _ => {}
    }
    Ok(())
}

fn s(text: &str) -> Value {
    Value::String(text.to_string())
}

fn map<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Mapping(pairs.into_iter().map(|(k, v)| (s(k), v)).collect::<Mapping>())
}
