//! Amazon Resource Names: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, parsed once instead of
//! split by position wherever one is read. The resource keeps any further `:` (`log-group:NAME:*`).
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Arn {
    partition: String,
    service: String,
    region: String,
    account: String,
    resource: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an ARN (expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)")]
pub struct NotAnArn(pub String);

impl Arn {
    pub fn new(partition: &str, service: &str, region: &str, account: &str, resource: &str) -> Arn {
        Arn { partition: partition.into(), service: service.into(), region: region.into(), account: account.into(), resource: resource.into() }
    }

    pub fn partition(&self) -> &str {
        &self.partition
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    /// Empty for global resources (IAM, S3 buckets).
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Empty for S3 buckets.
    pub fn account(&self) -> &str {
        &self.account
    }

    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The account of an ARN, or None when `s` is not one.
    pub fn account_of(s: &str) -> Option<String> {
        s.parse::<Arn>().ok().map(|a| a.account)
    }
}

impl FromStr for Arn {
    type Err = NotAnArn;

    fn from_str(s: &str) -> Result<Arn, NotAnArn> {
        match s.splitn(6, ':').collect::<Vec<_>>().as_slice() {
            ["arn", partition, service, region, account, resource] if !partition.is_empty() && !service.is_empty() => Ok(Arn::new(partition, service, region, account, resource)),
            _ => Err(NotAnArn(s.to_string())),
        }
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "arn:{}:{}:{}:{}:{}", self.partition, self.service, self.region, self.account, self.resource)
    }
}

/// The partition a region's name belongs to (`cn-…` China, `us-gov-…` GovCloud, else commercial),
/// for regions orgtrail's region table does not list yet too.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_back() {
        let s = "arn:aws-us-gov:logs:us-gov-west-1:111111111111:log-group:/aws/cloudtrail/x:*";
        let a: Arn = s.parse().unwrap();
        assert_eq!((a.partition(), a.service(), a.region(), a.account()), ("aws-us-gov", "logs", "us-gov-west-1", "111111111111"));
        assert_eq!(a.resource(), "log-group:/aws/cloudtrail/x:*");
        assert_eq!(a.to_string(), s);
        let bucket: Arn = "arn:aws:s3:::logs".parse().unwrap();
        assert_eq!((bucket.region(), bucket.account(), bucket.resource()), ("", "", "logs"));
        assert_eq!(Arn::account_of("arn:aws:iam::222222222222:role/R").as_deref(), Some("222222222222"));
        for bad in ["", "111111111111", "arn:aws:iam", "arn::iam::1:root", "urn:aws:iam::1:root"] {
            assert!(bad.parse::<Arn>().is_err(), "{bad}");
        }
    }

    #[test]
    fn partitions_by_region_prefix() {
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of("eu-west-1"), "aws");
    }
}
