//! Issue 17: the emulator's CloudTrail delegated-administrator behaviour (fidelity patches h, i, j
//! in tests/fidelity/fid_delegation.py, docs/emulator.md). Each test fails on plain moto 5.2.5:
//! `ORGTRAIL_MOTO_UNPATCHED=1 cargo test -p orgtrail-tests --test fidelity_delegated`.
use aws_config::SdkConfig;
use aws_sdk_cloudtrail::error::ProvideErrorMetadata;
use aws_sdk_cloudtrail::error::SdkError;
use orgtrail_tests::harness::{assumed_conf, event_selector};
use orgtrail_tests::seed::{enable_cloudtrail_trusted_access, register_cloudtrail_admin};
use orgtrail_tests::Sandbox;

const CLOUDTRAIL: &str = "cloudtrail.amazonaws.com";

/// The AWS error code of a failed call (panics when the call succeeded).
fn code<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(r: Result<T, SdkError<E, R>>) -> String {
    let e = r.expect_err("the call must fail");
    e.as_service_error().and_then(|s| s.code()).map(str::to_string).unwrap_or_else(|| format!("no service error: {e:?}"))
}

fn ct(conf: &SdkConfig) -> aws_sdk_cloudtrail::Client {
    aws_sdk_cloudtrail::Client::new(conf)
}

fn orgs(conf: &SdkConfig) -> aws_sdk_organizations::Client {
    aws_sdk_organizations::Client::new(conf)
}

async fn cloudtrail_admins(conf: &SdkConfig) -> Vec<String> {
    let out = orgs(conf).list_delegated_administrators().service_principal(CLOUDTRAIL).send().await.expect("ListDelegatedAdministrators");
    let mut ids: Vec<String> = out.delegated_administrators.unwrap_or_default().into_iter().filter_map(|a| a.id).collect();
    ids.sort();
    ids
}

/// (h) Register/Deregister: management account only, trusted access first, at most three, the
/// Organizations record it implies, and the documented errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fidelity_cloudtrail_delegated_admin_registration() {
    let sb = Sandbox::new(5).await.unwrap();
    let m: Vec<String> = sb.org.members.iter().map(|a| a.id.clone()).collect();
    let mgmt = ct(&sb.conf);
    let register = |id: &str| mgmt.register_organization_delegated_admin().member_account_id(id).send();

    assert_eq!(code(register(&m[0]).await), "CloudTrailAccessNotEnabledException");
    enable_cloudtrail_trusted_access(&sb.conf).await.unwrap();
    register(&m[0]).await.expect("the management account registers a member");
    assert_eq!(cloudtrail_admins(&sb.conf).await, vec![m[0].clone()], "Organizations records the delegated administrator");
    assert_eq!(code(register(&m[0]).await), "AccountRegisteredException");
    assert_eq!(code(register(&sb.org.management_account).await), "CannotDelegateManagementAccountException");
    assert_eq!(code(register("999999999999").await), "AccountNotFoundException", "not a member of the organization");

    // Only the management account registers: not a member, not even a delegated administrator.
    let delegated = assumed_conf(&sb, &m[0]).await;
    assert_eq!(code(ct(&delegated).register_organization_delegated_admin().member_account_id(&m[1]).send().await), "NotOrganizationManagementAccountException");

    register(&m[1]).await.unwrap();
    register(&m[2]).await.unwrap();
    assert_eq!(code(register(&m[3]).await), "DelegatedAdminAccountLimitExceededException", "at most three");
    let mut three = m[..3].to_vec();
    three.sort();
    assert_eq!(cloudtrail_admins(&sb.conf).await, three);

    mgmt.deregister_organization_delegated_admin().delegated_admin_account_id(&m[2]).send().await.expect("deregistered");
    assert_eq!(code(mgmt.deregister_organization_delegated_admin().delegated_admin_account_id(&m[2]).send().await), "AccountNotRegisteredException");
    assert_eq!(code(mgmt.deregister_organization_delegated_admin().delegated_admin_account_id("999999999999").send().await), "AccountNotFoundException");
    assert!(!cloudtrail_admins(&sb.conf).await.contains(&m[2]));
    register(&m[3]).await.expect("a freed slot takes a new administrator");
}

/// (i) An organization trail created by a registered delegated administrator belongs to the
/// management account; the administrator manages it by ARN only; an unregistered member cannot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fidelity_delegated_admin_org_trail_is_the_management_accounts_and_addressed_by_arn() {
    let sb = Sandbox::new(2).await.unwrap();
    let (admin, other) = (sb.org.members[0].id.clone(), sb.org.members[1].id.clone());
    enable_cloudtrail_trusted_access(&sb.conf).await.unwrap();
    register_cloudtrail_admin(&sb.conf, &admin).await.unwrap();
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sb.conf).force_path_style(true).build()).create_bucket().bucket("org-logs").send().await.unwrap();

    let delegated = ct(&assumed_conf(&sb, &admin).await);
    let created = delegated.create_trail().name("orgtrail").s3_bucket_name("org-logs").is_organization_trail(true).is_multi_region_trail(true).send().await.expect("CreateTrail by the delegated administrator");
    let arn = format!("arn:aws:cloudtrail:us-east-1:{}:trail/orgtrail", sb.org.management_account);
    assert_eq!(created.trail_arn.as_deref(), Some(arn.as_str()), "the trail lands in the management account");
    let owned = ct(&sb.conf).get_trail().name("orgtrail").send().await.expect("the management account owns it by name").trail.unwrap();
    assert_eq!(owned.is_organization_trail, Some(true));

    // By ARN the delegated administrator reads and changes it ...
    delegated.start_logging().name(&arn).send().await.expect("StartLogging by ARN");
    assert_eq!(delegated.get_trail_status().name(&arn).send().await.unwrap().is_logging, Some(true));
    delegated.update_trail().name(&arn).enable_log_file_validation(true).send().await.expect("UpdateTrail by ARN");
    let sel = event_selector("Management events selector", &[("eventCategory", "Management")]);
    delegated.put_event_selectors().trail_name(&arn).advanced_event_selectors(sel).send().await.expect("PutEventSelectors by ARN");
    assert_eq!(delegated.get_event_selectors().trail_name(&arn).send().await.unwrap().advanced_event_selectors().len(), 1);
    let t = ct(&sb.conf).get_trail().name("orgtrail").send().await.unwrap().trail.unwrap();
    assert_eq!(t.log_file_validation_enabled, Some(true), "the change reached the management account's trail");
    // ... and by bare name it fails: the name means a trail of its own account.
    assert_eq!(code(delegated.start_logging().name("orgtrail").send().await), "TrailNotFoundException");
    assert_eq!(code(delegated.update_trail().name("orgtrail").enable_log_file_validation(true).send().await), "TrailNotFoundException");
    assert_eq!(code(delegated.get_trail_status().name("orgtrail").send().await), "TrailNotFoundException");
    delegated.stop_logging().name(&arn).send().await.expect("StopLogging by ARN");
    assert_eq!(ct(&sb.conf).get_trail_status().name("orgtrail").send().await.unwrap().is_logging, Some(false));

    // A member that is not registered can neither create an organization trail nor change this one.
    let member = ct(&assumed_conf(&sb, &other).await);
    assert_eq!(code(member.create_trail().name("member-org").s3_bucket_name("org-logs").is_organization_trail(true).send().await), "NotOrganizationMasterAccountException");
    assert_eq!(code(member.start_logging().name(&arn).send().await), "NotOrganizationMasterAccountException");
    assert_eq!(code(member.update_trail().name(&arn).enable_log_file_validation(false).send().await), "NotOrganizationMasterAccountException");
}

/// (j) Organizations reads from a member: answered for a delegated administrator (of any
/// service), AccessDeniedException for any other member; DescribeOrganization for all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fidelity_organizations_reads_from_a_delegated_admin() {
    let sb = Sandbox::new(2).await.unwrap();
    let (admin, other) = (sb.org.members[0].id.clone(), sb.org.members[1].id.clone());
    // A service moto itself accepts, so this test needs only patch j.
    orgs(&sb.conf).register_delegated_administrator().account_id(&admin).service_principal("guardduty.amazonaws.com").send().await.unwrap();

    let delegated = orgs(&assumed_conf(&sb, &admin).await);
    let accounts = delegated.list_accounts().send().await.expect("ListAccounts from a delegated administrator").accounts.unwrap_or_default();
    assert_eq!(accounts.len(), 4, "management, log archive and two members");
    let root = &sb.org.ous["Root"];
    let ous = delegated.list_organizational_units_for_parent().parent_id(root).send().await.expect("ListOrganizationalUnitsForParent").organizational_units.unwrap_or_default();
    assert_eq!(ous.len(), 3, "Security, Workloads, Sandbox: {ous:?}");
    let under_security = delegated.list_accounts_for_parent().parent_id(&sb.org.ous["Root/Security"]).send().await.expect("ListAccountsForParent").accounts.unwrap_or_default();
    assert_eq!(under_security.into_iter().filter_map(|a| a.id).collect::<Vec<_>>(), vec![sb.org.log_archive_account.clone()]);
    delegated.list_aws_service_access_for_organization().send().await.expect("ListAWSServiceAccessForOrganization");

    let member = orgs(&assumed_conf(&sb, &other).await);
    assert_eq!(code(member.list_accounts().send().await), "AccessDeniedException");
    assert_eq!(code(member.list_organizational_units_for_parent().parent_id(root).send().await), "AccessDeniedException");
    assert_eq!(code(member.list_aws_service_access_for_organization().send().await), "AccessDeniedException");
    let described = member.describe_organization().send().await.expect("any member describes its organization").organization.unwrap();
    assert_eq!(described.master_account_id.as_deref(), Some(sb.org.management_account.as_str()));
}
