//! Naming rules of AWS identifiers. Each check returns what was expected, for the error message.

pub fn account_id(s: &str) -> Result<(), String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("`{s}` is not an AWS account id: expected exactly 12 digits, as a quoted string (\"111122223333\")"))
    }
}

pub fn org_id(s: &str) -> Result<(), String> {
    let rest = s.strip_prefix("o-").unwrap_or("");
    if (10..=32).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("`{s}` is not an organization id: expected `o-` followed by 10 to 32 lowercase letters or digits"))
    }
}

pub const PARTITIONS: &[&str] = &["aws", "aws-us-gov", "aws-cn"];

/// Regions by partition (commercial regions as of 2026; opt-in regions included).
pub fn regions(partition: &str) -> &'static [&'static str] {
    match partition {
        "aws" => &[
            "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-east-2",
            "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
            "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ap-northeast-1",
            "ap-northeast-2", "ap-northeast-3", "ca-central-1", "ca-west-1", "eu-central-1",
            "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2",
            "eu-north-1", "il-central-1", "me-south-1", "me-central-1", "mx-central-1", "sa-east-1",
        ],
        "aws-us-gov" => &["us-gov-west-1", "us-gov-east-1"],
        "aws-cn" => &["cn-north-1", "cn-northwest-1"],
        _ => &[],
    }
}

pub fn partition(s: &str) -> Result<(), String> {
    if PARTITIONS.contains(&s) {
        Ok(())
    } else {
        Err(format!("`{s}` is not an AWS partition: expected one of {}", PARTITIONS.join(", ")))
    }
}

/// The partition whose region table lists `region`.
fn listed_in(region: &str) -> Option<&'static str> {
    PARTITIONS.iter().copied().find(|p| regions(p).contains(&region))
}

pub fn region(s: &str, partition: &str) -> Result<(), String> {
    if regions(partition).contains(&s) {
        return Ok(());
    }
    match listed_in(s) {
        Some(other) => Err(format!("region `{s}` is in partition `{other}`, not `{partition}`")),
        None => Err(format!("`{s}` is not a region of partition `{partition}` (e.g. {})", regions(partition).first().unwrap_or(&"us-east-1"))),
    }
}

/// S3 general purpose bucket naming rules.
pub fn bucket_name(s: &str) -> Result<(), String> {
    let fail = |why: &str| Err(format!("`{s}` is not a valid S3 bucket name: {why}"));
    if !(3..=63).contains(&s.len()) {
        return fail("it must be 3 to 63 characters long");
    }
    if !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-') {
        return fail("only lowercase letters, digits, dots and hyphens are allowed");
    }
    let (first, last) = (s.as_bytes()[0], s.as_bytes()[s.len() - 1]);
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return fail("it must begin and end with a letter or digit");
    }
    if s.contains("..") || s.contains(".-") || s.contains("-.") {
        return fail("dots may not be adjacent to each other or to hyphens");
    }
    if s.split('.').count() == 4 && s.split('.').all(|p| p.parse::<u8>().is_ok()) {
        return fail("it must not be formatted as an IP address");
    }
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if s.starts_with(prefix) {
            return fail(&format!("the prefix `{prefix}` is reserved"));
        }
    }
    for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        if s.ends_with(suffix) {
            return fail(&format!("the suffix `{suffix}` is reserved"));
        }
    }
    Ok(())
}

/// IAM role names: 1-64 characters of letters, digits and `+=,.@_-`.
pub fn role_name(s: &str) -> Result<(), String> {
    if (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b)) {
        Ok(())
    } else {
        Err(format!("`{s}` is not a valid IAM role name: expected 1 to 64 letters, digits or `+=,.@_-`"))
    }
}

/// `arn:{partition}:iam::{account}:role/{path/}{name}`; `*` allowed in the name part (break-glass patterns).
pub fn role_arn(s: &str, partition: &str) -> Result<(), String> {
    let expected = || format!("`{s}` is not an IAM role ARN: expected arn:{partition}:iam::111122223333:role/RoleName");
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[1] != partition || parts[2] != "iam" || !parts[3].is_empty() {
        return Err(expected());
    }
    account_id(parts[4]).map_err(|_| expected())?;
    let Some(path_and_name) = parts[5].strip_prefix("role/") else { return Err(expected()) };
    let name = path_and_name.rsplit('/').next().unwrap_or("");
    if name == "*" || role_name(&name.replace('*', "x")).is_ok() {
        Ok(())
    } else {
        Err(expected())
    }
}

/// An OU selector: a path starting at `Root` (`Root/Workloads/Prod`) or an OU id (`ou-ab12-cd34ef56`).
pub fn ou_selector(s: &str) -> Result<(), String> {
    if s == "Root" || s.starts_with("Root/") && !s.ends_with('/') && !s.contains("//") {
        return Ok(());
    }
    if s.starts_with("ou-") && s.len() > 8 && s[3..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Ok(());
    }
    Err(format!("`{s}` is not an OU selector: expected a path from the root such as `Root/Workloads/Prod`, or an OU id such as `ou-ab12-cd34ef56`"))
}

pub fn kms_alias(s: &str) -> Result<(), String> {
    let name = s.strip_prefix("alias/").unwrap_or("");
    if !name.is_empty() && !name.starts_with("aws/") && name.len() <= 250 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_-".contains(&b)) {
        Ok(())
    } else {
        Err(format!("`{s}` is not a valid KMS alias: expected `alias/` followed by letters, digits, `/_-` (not `alias/aws/`)"))
    }
}

/// CloudTrail trail names: 3-128 characters, letters, digits, `._-`, starting with a letter or digit.
pub fn trail_name(s: &str) -> Result<(), String> {
    let ok = (3..=128).contains(&s.len())
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric()
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && !s.contains("..") && !s.contains("--") && !s.contains("__");
    if ok {
        Ok(())
    } else {
        Err(format!("`{s}` is not a valid trail name: expected 3 to 128 letters, digits, `.`, `_` or `-`, starting and ending with a letter or digit"))
    }
}

/// S3 key prefix for logs: no leading or trailing slash, no `AWSLogs` (CloudTrail adds it).
pub fn log_prefix(s: &str) -> Result<(), String> {
    if s.is_empty() || s.starts_with('/') || s.ends_with('/') || s.len() > 200 || s.contains("//") {
        return Err(format!("`{s}` is not a valid log prefix: expected a non-empty S3 key prefix without leading or trailing `/`"));
    }
    if s.split('/').any(|p| p == "AWSLogs") {
        return Err(format!("`{s}`: do not include `AWSLogs` in the prefix; CloudTrail appends `AWSLogs/...` itself"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids() {
        assert!(account_id("111122223333").is_ok());
        assert!(account_id("11112222333").is_err());
        assert!(account_id("11112222333a").is_err());
    }

    #[test]
    fn bucket_names() {
        assert!(bucket_name("orgtrail-logs-111122223333").is_ok());
        for bad in ["ab", "Logs", "-logs", "logs-", "a..b", "192.168.1.1", "xn--abc", "logs-s3alias", "a_b"] {
            assert!(bucket_name(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn regions_by_partition() {
        assert!(region("eu-west-1", "aws").is_ok());
        assert!(region("us-gov-west-1", "aws").unwrap_err().contains("aws-us-gov"));
        assert!(region("mars-east-1", "aws").is_err());
        assert_eq!(listed_in("cn-north-1"), Some("aws-cn"));
    }

    #[test]
    fn role_names_and_arns() {
        assert!(role_name("OrganizationAccountAccessRole").is_ok());
        assert!(role_name("bad role").is_err());
        assert!(role_name(&"r".repeat(65)).is_err());
        assert!(role_arn("arn:aws:iam::111122223333:role/ops/BreakGlass", "aws").is_ok());
        assert!(role_arn("arn:aws:iam::111122223333:role/BreakGlass*", "aws").is_ok());
        assert!(role_arn("arn:aws:iam::111122223333:user/bob", "aws").is_err());
        assert!(role_arn("arn:aws-cn:iam::111122223333:role/x", "aws").is_err());
    }

    #[test]
    fn ou_selectors() {
        assert!(ou_selector("Root/Workloads/Prod").is_ok());
        assert!(ou_selector("ou-ab12-cd34ef56").is_ok());
        assert!(ou_selector("Workloads/Prod").is_err());
        assert!(ou_selector("Root/").is_err());
    }
}
