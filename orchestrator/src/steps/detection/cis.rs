//! CIS AWS Foundations Benchmark section 4 (monitoring, 4.1–4.15): one CloudWatch Logs metric filter
//! on the trail's log group per recommendation, with the filter pattern the benchmark gives (the
//! same ones Security Hub's CloudWatch.1–14 check), and one alarm on each metric.

/// One CIS 4.x recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CisFilter {
    /// `4.1` … `4.15`
    pub id: &'static str,
    /// Short kebab-case name: filter and alarm are `orgtrail-cis-<id>-<slug>`.
    pub slug: &'static str,
    pub metric: &'static str,
    pub pattern: &'static str,
    pub title: &'static str,
}

impl CisFilter {
    pub fn name(&self) -> String {
        format!("orgtrail-cis-{}-{}", self.id, self.slug)
    }
}

/// The namespace of the filters' metrics (the one AWS's CIS walkthroughs use).
pub const NAMESPACE: &str = "CISBenchmark";

pub const FILTERS: [CisFilter; 15] = [
    CisFilter {
        id: "4.1",
        slug: "unauthorized-api-calls",
        metric: "UnauthorizedAPICalls",
        pattern: r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") && ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }"#,
        title: "Unauthorized API calls are monitored",
    },
    CisFilter {
        id: "4.2",
        slug: "console-signin-without-mfa",
        metric: "ConsoleSigninWithoutMFA",
        pattern: r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }"#,
        title: "Management Console sign-in without MFA is monitored",
    },
    CisFilter {
        id: "4.3",
        slug: "root-account-usage",
        metric: "RootAccountUsage",
        pattern: r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
        title: "Usage of the root user is monitored",
    },
    CisFilter {
        id: "4.4",
        slug: "iam-policy-changes",
        metric: "IAMPolicyChanges",
        pattern: "{ ($.eventName = DeleteGroupPolicy) || ($.eventName = DeleteRolePolicy) || ($.eventName = DeleteUserPolicy) || ($.eventName = PutGroupPolicy) || ($.eventName = PutRolePolicy) || ($.eventName = PutUserPolicy) || ($.eventName = CreatePolicy) || ($.eventName = DeletePolicy) || ($.eventName = CreatePolicyVersion) || ($.eventName = DeletePolicyVersion) || ($.eventName = AttachRolePolicy) || ($.eventName = DetachRolePolicy) || ($.eventName = AttachUserPolicy) || ($.eventName = DetachUserPolicy) || ($.eventName = AttachGroupPolicy) || ($.eventName = DetachGroupPolicy) }",
        title: "IAM policy changes are monitored",
    },
    CisFilter {
        id: "4.5",
        slug: "cloudtrail-changes",
        metric: "CloudTrailChanges",
        pattern: "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }",
        title: "CloudTrail configuration changes are monitored",
    },
    CisFilter {
        id: "4.6",
        slug: "console-authentication-failures",
        metric: "ConsoleAuthenticationFailures",
        pattern: r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#,
        title: "Management Console authentication failures are monitored",
    },
    CisFilter {
        id: "4.7",
        slug: "cmk-disable-or-deletion",
        metric: "DisableOrDeleteCMK",
        pattern: "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }",
        title: "Disabling or scheduled deletion of customer managed keys is monitored",
    },
    CisFilter {
        id: "4.8",
        slug: "s3-bucket-policy-changes",
        metric: "S3BucketPolicyChanges",
        pattern: "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }",
        title: "S3 bucket policy changes are monitored",
    },
    CisFilter {
        id: "4.9",
        slug: "aws-config-changes",
        metric: "AWSConfigChanges",
        pattern: "{ ($.eventSource = config.amazonaws.com) && (($.eventName = StopConfigurationRecorder) || ($.eventName = DeleteDeliveryChannel) || ($.eventName = PutDeliveryChannel) || ($.eventName = PutConfigurationRecorder)) }",
        title: "AWS Config configuration changes are monitored",
    },
    CisFilter {
        id: "4.10",
        slug: "security-group-changes",
        metric: "SecurityGroupChanges",
        pattern: "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }",
        title: "Security group changes are monitored",
    },
    CisFilter {
        id: "4.11",
        slug: "nacl-changes",
        metric: "NACLChanges",
        pattern: "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }",
        title: "Network ACL changes are monitored",
    },
    CisFilter {
        id: "4.12",
        slug: "network-gateway-changes",
        metric: "NetworkGatewayChanges",
        pattern: "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }",
        title: "Network gateway changes are monitored",
    },
    CisFilter {
        id: "4.13",
        slug: "route-table-changes",
        metric: "RouteTableChanges",
        pattern: "{ ($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }",
        title: "Route table changes are monitored",
    },
    CisFilter {
        id: "4.14",
        slug: "vpc-changes",
        metric: "VPCChanges",
        pattern: "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }",
        title: "VPC changes are monitored",
    },
    CisFilter {
        id: "4.15",
        slug: "organizations-changes",
        metric: "OrganizationsChanges",
        pattern: r#"{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CancelHandshake") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganization") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "EnableAllFeatures") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdateOrganizationalUnit") || ($.eventName = "UpdatePolicy")) }"#,
        title: "AWS Organizations changes are monitored",
    },
];

#[cfg(test)]
mod tests {
    use super::FILTERS;

    #[test]
    fn fifteen_distinct_filters_within_cloudwatch_limits() {
        let mut names: Vec<String> = FILTERS.iter().map(|f| f.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 15);
        for (i, f) in FILTERS.iter().enumerate() {
            assert_eq!(f.id, format!("4.{}", i + 1));
            // PutMetricFilter: pattern up to 1024 characters, balanced braces and parentheses.
            assert!(f.pattern.len() <= 1024, "{}", f.id);
            assert!(f.pattern.starts_with('{') && f.pattern.ends_with('}'));
            assert_eq!(f.pattern.matches('(').count(), f.pattern.matches(')').count(), "{}", f.id);
        }
    }
}
