//! Issue 4: member-side checks (organization trail visible and logging, duplicate management-event
//! trails in every enabled region, found with ListTrails: issue 14), legacy-trail actions gated on the organization-trail check, the
//! delivery check, and the fidelity patches the member side depends on. Against the patched moto.
use aws_sdk_cloudtrail::error::ProvideErrorMetadata;
use aws_sdk_cloudtrail::types::{AdvancedEventSelector, AdvancedFieldSelector};
use orgtrail::steps::{account_trail, member_checks, Action, Change};
use orgtrail_tests::harness::{assert_no_writes, event_selector, refusal as refused, test_aws as aws, ConfigEdit, StepWorld};

orgtrail_tests::step_world!();

impl World {
    async fn new(members: usize, edit: impl FnOnce(ConfigEdit) -> ConfigEdit) -> World {
        World(StepWorld::member_side(members, edit).await)
    }
}

/// The member's own trails: two that duplicate management events (a multi-region one homed in
/// us-east-1, a single-region one in eu-west-1) and two that do not (stopped; data events only).
/// Returns the ARNs of the two duplicates.
async fn legacy_trails(w: &World) -> (String, String) {
    let a = aws(&w.sb);
    let m = w.member();
    a.s3(&a.session(&m)).create_bucket().bucket(format!("legacy-{m}")).send().await.unwrap();
    let east = w.member_ct(&a, "us-east-1");
    let west = w.member_ct(&a, "eu-west-1");
    let multi = east.create_trail().name("legacy-multi").s3_bucket_name(format!("legacy-{m}")).is_multi_region_trail(true).send().await.unwrap().trail_arn.unwrap();
    east.start_logging().name(&multi).send().await.unwrap();
    let single = west.create_trail().name("legacy-west").s3_bucket_name(format!("legacy-{m}")).send().await.unwrap().trail_arn.unwrap();
    west.start_logging().name(&single).send().await.unwrap();
    east.create_trail().name("idle").s3_bucket_name(format!("legacy-{m}")).send().await.unwrap();
    let data = east.create_trail().name("data-only").s3_bucket_name(format!("legacy-{m}")).send().await.unwrap().trail_arn.unwrap();
    let sel = event_selector("s3", &[("eventCategory", "Data"), ("resources.type", "AWS::S3::Object")]);
    east.put_event_selectors().trail_name(&data).advanced_event_selectors(sel).send().await.unwrap();
    east.start_logging().name(&data).send().await.unwrap();
    assert!(multi.contains("us-east-1") && single.contains("eu-west-1"));
    (multi, single)
}

async fn is_logging(ct: &aws_sdk_cloudtrail::Client, arn: &str) -> bool {
    ct.get_trail_status().name(arn).send().await.unwrap().is_logging.unwrap()
}

fn resources(changes: &[Change], pred: impl Fn(&Action) -> bool) -> Vec<String> {
    let mut v: Vec<String> = changes.iter().filter(|c| pred(&c.action)).map(|c| c.resource.clone()).collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_trail_check_fails_until_visible_and_logging() {
    let w = World::new(2, |c| c).await;
    let m = w.member();
    // Fail side: no organization trail at all.
    let err = member_checks::check_member(&w.ctx(&aws(&w.sb), false), &m).await.unwrap_err();
    assert!(refused(&err).contains("is not visible") && refused(&err).contains(&m), "{err}");

    w.converge_org_trail().await;
    let a = aws(&w.sb);
    let f = member_checks::inspect_member(&w.ctx(&a, false), &m).await.unwrap();
    assert!(f.visible && f.logging && f.confirmed(), "{f:?}");
    assert_eq!(f.expected_trail, w.org_trail_arn());
    assert_eq!(f.regions.len(), 17, "the default-enabled regions: {:?}", f.regions);
    assert_eq!(f.regions[0], "us-east-1");
    assert!(f.regions.iter().any(|r| r == "eu-west-1") && !f.regions.iter().any(|r| r == "af-south-1"), "{:?}", f.regions);
    let out = member_checks::check_member(&w.ctx(&a, false), &m).await.unwrap();
    assert!(out.changes.iter().all(|c| !c.is_change()), "{out:?}");
    assert!(a.metrics.write_calls().is_empty(), "checks only read: {:?}", a.metrics.write_calls());

    // Fail side: visible, but logging stopped by someone in the management account.
    w.mgmt_ct().stop_logging().name(w.org_trail_arn()).send().await.unwrap();
    let err = member_checks::check_member(&w.ctx(&aws(&w.sb), false), &m).await.unwrap_err();
    assert!(refused(&err).contains("not logging"), "{err}");
    // Fail side: the config names a trail the organization does not have.
    w.mgmt_ct().start_logging().name(w.org_trail_arn()).send().await.unwrap();
    let mut w = w;
    w.reconfigure(|c| c.trail_name("other-trail"));
    let err = member_checks::check_member(&w.ctx(&aws(&w.sb), false), &m).await.unwrap_err();
    assert!(refused(&err).contains("trail/other-trail is not visible"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_trails_are_found_in_every_region_and_reported() {
    let w = World::new(1, |c| c).await;
    w.converge_org_trail().await;
    let (multi, single) = legacy_trails(&w).await;
    let a = aws(&w.sb);
    let f = member_checks::inspect_member(&w.ctx(&a, false), &w.member()).await.unwrap();
    let mut found: Vec<(String, String, bool)> = f.duplicates.iter().map(|d| (d.arn.clone(), d.home_region.clone(), d.multi_region)).collect();
    found.sort();
    let mut want = vec![(multi.clone(), "us-east-1".to_string(), true), (single.clone(), "eu-west-1".to_string(), false)];
    want.sort();
    assert_eq!(found, want);

    // legacy_trails = "keep": reported for a person to decide, with the command to stop each.
    let out = member_checks::check_member(&w.ctx(&a, true), &w.member()).await.unwrap();
    let manual = resources(&out.changes, |a| matches!(a, Action::ManualAction { .. }));
    assert_eq!(manual.len(), 2, "{out:?}");
    for arn in [&multi, &single] {
        assert!(manual.iter().any(|r| r.contains(arn.as_str())), "{arn} in {manual:?}");
    }
    assert!(out.manual_instructions().unwrap().contains(&format!("stop-logging --name {single} --region eu-west-1")));
    assert_no_writes(&a);
    assert!(is_logging(&w.member_ct(&a, "us-east-1"), &multi).await && is_logging(&w.member_ct(&a, "eu-west-1"), &single).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_stop_acts_only_after_the_org_trail_check_passed() {
    let mut w = World::new(1, |c| c.legacy_trails("stop")).await;
    w.converge_org_trail().await;
    let (multi, single) = legacy_trails(&w).await;
    let m = w.member();
    let (east, west) = (w.member_ct(&aws(&w.sb), "us-east-1"), w.member_ct(&aws(&w.sb), "eu-west-1"));

    // Check failed (the organization trail stopped): refused, nothing touched.
    w.mgmt_ct().stop_logging().name(w.org_trail_arn()).send().await.unwrap();
    let a = aws(&w.sb);
    let err = member_checks::legacy_trails(&w.ctx(&a, true), &m).await.unwrap_err();
    assert!(refused(&err).contains("legacy trails left untouched") && refused(&err).contains("not logging"), "{err}");
    assert_no_writes(&a);
    assert!(is_logging(&east, &multi).await && is_logging(&west, &single).await);
    w.mgmt_ct().start_logging().name(w.org_trail_arn()).send().await.unwrap();

    // Check failed (the config points at a trail the organization does not have): same.
    let other = ConfigEdit::sandbox(&w.sb.org).trail_name("other-trail").legacy_trails("stop").config();
    let good = std::mem::replace(&mut w.config, other);
    let a = aws(&w.sb);
    let err = member_checks::legacy_trails(&w.ctx(&a, true), &m).await.unwrap_err();
    assert!(refused(&err).contains("is not visible"), "{err}");
    assert_no_writes(&a);
    w.config = good;

    // Findings from a failed check are refused too, even when handed in directly.
    let mut stale = member_checks::inspect_member(&w.ctx(&aws(&w.sb), false), &m).await.unwrap();
    stale.logging = false;
    assert!(member_checks::act_on_legacy_trails(&w.ctx(&aws(&w.sb), true), &m, &stale).await.is_err());

    // Plan: both would be stopped; nothing written.
    let p = aws(&w.sb);
    let plan = member_checks::legacy_trails(&w.ctx(&p, false), &m).await.unwrap();
    assert_eq!(plan.changes.len(), 2);
    assert!(plan.changes.iter().all(|c| c.action == Action::Update { fields: vec!["IsLogging".into()] }), "{plan:?}");
    assert_no_writes(&p);
    assert!(is_logging(&east, &multi).await && is_logging(&west, &single).await);

    // Check passed: both stopped, each in its home region; the others untouched.
    let a = aws(&w.sb);
    member_checks::legacy_trails(&w.ctx(&a, true), &m).await.unwrap();
    assert_eq!(a.metrics.write_calls().get("CloudTrail.StopLogging"), Some(&2), "{:?}", a.metrics.write_calls());
    assert!(!is_logging(&east, &multi).await && !is_logging(&west, &single).await);
    assert!(is_logging(&east, &format!("arn:aws:cloudtrail:us-east-1:{m}:trail/data-only")).await, "not a duplicate: left alone");
    assert!(is_logging(&w.mgmt_ct(), &w.org_trail_arn()).await);

    // Converged: nothing left to stop.
    let again = aws(&w.sb);
    let out = member_checks::legacy_trails(&w.ctx(&again, true), &m).await.unwrap();
    assert!(out.changes.is_empty() && again.metrics.write_calls().is_empty(), "{out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_delete_removes_only_duplicates() {
    let w = World::new(1, |c| c.legacy_trails("delete")).await;
    w.converge_org_trail().await;
    let (multi, single) = legacy_trails(&w).await;
    let a = aws(&w.sb);
    let out = member_checks::legacy_trails(&w.ctx(&a, true), &w.member()).await.unwrap();
    assert_eq!(resources(&out.changes, |a| *a == Action::Delete), vec![format!("cloudtrail-trail {single}"), format!("cloudtrail-trail {multi}")]);
    let names = |ct: aws_sdk_cloudtrail::Client| async move {
        let mut v: Vec<String> = ct.describe_trails().include_shadow_trails(false).send().await.unwrap().trail_list.unwrap_or_default().into_iter().filter_map(|t| t.name).collect();
        v.sort();
        v
    };
    assert_eq!(names(w.member_ct(&a, "us-east-1")).await, vec!["data-only", "idle"]);
    assert!(names(w.member_ct(&a, "eu-west-1")).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_mode_legacy_trails_wait_for_the_account_trail() {
    let w = World::new(1, |c| c.trail_mode("account").legacy_trails("stop")).await;
    let (multi, _) = legacy_trails(&w).await;
    let m = w.member();
    let err = member_checks::legacy_trails(&w.ctx(&aws(&w.sb), true), &m).await.unwrap_err();
    assert!(refused(&err).contains(&format!("arn:aws:cloudtrail:us-east-1:{m}:trail/orgtrail is not visible")), "{err}");
    account_trail::converge(&w.ctx(&aws(&w.sb), true), &m).await.unwrap();
    let out = member_checks::legacy_trails(&w.ctx(&aws(&w.sb), true), &m).await.unwrap();
    assert_eq!(out.changes.len(), 2, "{out:?}");
    let east = w.member_ct(&aws(&w.sb), "us-east-1");
    assert!(!is_logging(&east, &multi).await);
    assert!(is_logging(&east, &format!("arn:aws:cloudtrail:us-east-1:{m}:trail/orgtrail")).await, "orgtrail's own account trail is never a legacy trail");
}

// ---- Fidelity patches the member side depends on (docs/emulator.md) ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fidelity_member_sees_the_org_trail_but_cannot_change_it() {
    let w = World::new(1, |c| c).await;
    w.converge_org_trail().await;
    let arn = w.org_trail_arn();
    let a = aws(&w.sb);
    // Shadow trails (the default) include the organization trail, in every region (multi-region).
    for region in ["us-east-1", "ap-southeast-2"] {
        let ct = w.member_ct(&a, region);
        let seen: Vec<String> = ct.describe_trails().send().await.unwrap().trail_list.unwrap_or_default().into_iter().filter_map(|t| t.trail_arn).collect();
        assert_eq!(seen, vec![arn.clone()], "{region}");
        assert!(ct.describe_trails().include_shadow_trails(false).send().await.unwrap().trail_list.unwrap_or_default().is_empty());
    }
    let ct = w.member_ct(&a, "us-east-1");
    assert!(ct.get_trail_status().name(&arn).send().await.unwrap().is_logging.unwrap());
    // By bare name the member means its own trail, which does not exist.
    let err = ct.get_trail_status().name("orgtrail").send().await.unwrap_err();
    assert_eq!(err.as_service_error().and_then(|e| e.code()), Some("TrailNotFoundException"));

    let code = |e: Option<&str>| e.map(str::to_string);
    let stop = ct.stop_logging().name(&arn).send().await.unwrap_err();
    assert_eq!(code(stop.as_service_error().and_then(|e| e.code())).as_deref(), Some("NotOrganizationMasterAccountException"));
    let update = ct.update_trail().name(&arn).enable_log_file_validation(false).send().await.unwrap_err();
    assert_eq!(code(update.as_service_error().and_then(|e| e.code())).as_deref(), Some("NotOrganizationMasterAccountException"));
    let delete = ct.delete_trail().name(&arn).send().await.unwrap_err();
    assert_eq!(code(delete.as_service_error().and_then(|e| e.code())).as_deref(), Some("NotOrganizationMasterAccountException"));
    let sel = AdvancedEventSelector::builder().field_selectors(AdvancedFieldSelector::builder().field("eventCategory").equals("Management").build().unwrap()).build().unwrap();
    let put = ct.put_event_selectors().trail_name(&arn).advanced_event_selectors(sel).send().await.unwrap_err();
    assert_eq!(code(put.as_service_error().and_then(|e| e.code())).as_deref(), Some("NotOrganizationMasterAccountException"));
    let t = w.mgmt_ct().get_trail().name(&arn).send().await.unwrap().trail.unwrap();
    assert_eq!(t.log_file_validation_enabled, Some(true));
    assert!(is_logging(&w.mgmt_ct(), &arn).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fidelity_account_list_regions() {
    let w = World::new(2, |c| c).await;
    let a = aws(&w.sb);
    let regions = member_checks::enabled_regions(&w.ctx(&a, false), &w.member()).await.unwrap();
    assert_eq!(regions.len(), 17, "{regions:?}");
    assert_eq!(regions[0].name, "us-east-1");
    assert!(regions.iter().all(|r| !r.opt_in), "{regions:?}");
    assert!(!regions.iter().any(|r| r.name == "me-south-1"), "opt-in regions are not enabled by default");
    let other = w.targets[1].clone(); // another account's regions: its management account may ask, a fellow member may not
    let by_member = aws_sdk_account::Client::new(&a.session(&w.member())).list_regions().account_id(&other).send().await.unwrap_err();
    assert_eq!(aws_sdk_account::error::ProvideErrorMetadata::code(&by_member), Some("AccessDeniedException"));
    assert!(!aws_sdk_account::Client::new(&w.sb.conf).list_regions().account_id(&other).send().await.unwrap().regions().is_empty());
    // EnableRegion takes time ("it can take several minutes"): ENABLING first, not yet usable.
    aws_sdk_account::Client::new(&a.session(&w.member())).enable_region().region_name("me-south-1").send().await.unwrap();
    assert!(!member_checks::enabled_regions(&w.ctx(&a, false), &w.member()).await.unwrap().iter().any(|r| r.name == "me-south-1"), "ENABLING is not enabled");
    enable_region(&w, "me-south-1").await;
    let regions = member_checks::enabled_regions(&w.ctx(&a, false), &w.member()).await.unwrap();
    assert_eq!(regions.iter().filter(|r| r.opt_in).map(|r| r.name.as_str()).collect::<Vec<_>>(), vec!["me-south-1"]);
}

/// Enables an opt-in region for the member (its own role) and waits until it reads ENABLED (patch g).
async fn enable_region(w: &World, region: &str) {
    use aws_sdk_account::types::RegionOptStatus;
    let a = aws(&w.sb);
    let account = aws_sdk_account::Client::new(&a.session(&w.member()));
    account.enable_region().region_name(region).send().await.unwrap();
    for _ in 0..50 {
        let page = account.list_regions().region_opt_status_contains(RegionOptStatus::Enabled).send().await.unwrap();
        if page.regions().iter().any(|r| r.region_name() == Some(region)) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{region} still not ENABLED");
}

// ---- ListTrails: one call finds the account's trails in every region (docs/design.md) ----

/// (l) ListTrails from the home region names the account's single-region trails of other regions
/// with their home region; moto alone lists only the called region's and multi-region ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fidelity_list_trails_names_trails_of_every_region() {
    let w = World::new(1, |c| c).await;
    w.converge_org_trail().await;
    let (multi, single) = legacy_trails(&w).await;
    let a = aws(&w.sb);
    let listed: Vec<(String, String)> = w
        .member_ct(&a, "us-east-1")
        .list_trails()
        .send()
        .await
        .unwrap()
        .trails
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.trail_arn.unwrap_or_default(), t.home_region.unwrap_or_default()))
        .collect();
    for (arn, home) in [(&single, "eu-west-1"), (&multi, "us-east-1")] {
        assert!(listed.iter().any(|(a, h)| a == arn && h == home), "{arn} (home {home}) not in {listed:?}");
    }
    let m = w.member();
    assert_eq!(listed.iter().filter(|(a, _)| a.contains(&format!(":{m}:"))).count(), 4, "each own trail once: {listed:?}");
    // Stricter than AWS documents (it is silent): a trail homed in an enabled opt-in region is
    // listed when ListTrails is asked there.
    enable_region(&w, "me-south-1").await;
    a.s3(&a.session(&m)).create_bucket().bucket(format!("optin-{m}")).send().await.unwrap();
    let bahrain = w.member_ct(&a, "me-south-1");
    let arn = bahrain.create_trail().name("legacy-bahrain").s3_bucket_name(format!("optin-{m}")).send().await.unwrap().trail_arn.unwrap();
    let in_region = bahrain.list_trails().send().await.unwrap().trails.unwrap_or_default();
    assert!(in_region.iter().any(|t| t.trail_arn.as_deref() == Some(arn.as_str()) && t.home_region.as_deref() == Some("me-south-1")), "{in_region:?}");
    let from_home = w.member_ct(&a, "us-east-1").list_trails().send().await.unwrap().trails.unwrap_or_default();
    assert!(!from_home.iter().any(|t| t.trail_arn.as_deref() == Some(arn.as_str())), "absent from a default region's listing: {from_home:?}");
}

/// The per-account cost of the member check with no legacy trails, by operation: one AssumeRole,
/// ListRegions, ListTrails and the organization trail's status (a count, not a time). The trail's
/// selectors matter only to judge the account's own trails: none here, so none are read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_check_costs_four_calls_without_legacy_trails() {
    let w = World::new(2, |c| c).await;
    w.converge_org_trail().await;
    let a = aws(&w.sb);
    member_checks::check_member(&w.ctx(&a, true), &w.member()).await.unwrap();
    let calls: std::collections::BTreeMap<String, u64> = a.metrics.snapshot().into_iter().map(|(op, c)| (op, c.calls)).collect();
    let want: std::collections::BTreeMap<String, u64> =
        [("STS.AssumeRole", 1), ("Account.ListRegions", 1), ("CloudTrail.ListTrails", 1), ("CloudTrail.GetTrailStatus", 1)].into_iter().map(|(op, n)| (op.to_string(), n)).collect();
    assert_eq!(calls, want);
}

/// A duplicate homed in an enabled opt-in region is found (ListTrails asked there too), and the
/// account's calls grow only by that region's ListTrails and the duplicate's own reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_in_an_opt_in_region_is_found() {
    let w = World::new(1, |c| c).await;
    w.converge_org_trail().await;
    let m = w.member();
    enable_region(&w, "me-south-1").await;
    let a = aws(&w.sb);
    a.s3(&a.session(&m)).create_bucket().bucket(format!("optin-{m}")).send().await.unwrap();
    let bahrain = w.member_ct(&a, "me-south-1");
    let arn = bahrain.create_trail().name("legacy-bahrain").s3_bucket_name(format!("optin-{m}")).send().await.unwrap().trail_arn.unwrap();
    bahrain.start_logging().name(&arn).send().await.unwrap();

    let a = aws(&w.sb);
    let f = member_checks::inspect_member(&w.ctx(&a, false), &m).await.unwrap();
    assert_eq!(f.listed_in, vec!["us-east-1", "me-south-1"]);
    assert_eq!(f.duplicates, vec![member_checks::LegacyTrail { arn: arn.clone(), name: "legacy-bahrain".into(), home_region: "me-south-1".into(), multi_region: false }]);
    let calls = a.metrics.snapshot();
    assert_eq!(calls["CloudTrail.ListTrails"].calls, 2, "{calls:?}");
    assert_eq!(calls["CloudTrail.GetTrail"].calls, 1, "{calls:?}");
    assert!(!calls.contains_key("CloudTrail.DescribeTrails"), "{calls:?}");
}

/// A regional call that fails names its region: GetEventSelectors of a trail that does not exist,
/// through the member's role in eu-west-1 (TrailNotFoundException from the emulator).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_regional_call_names_account_region_and_operation() {
    let w = World::new(1, |c| c).await;
    let (a, m) = (aws(&w.sb), w.member());
    let arn = format!("arn:aws:cloudtrail:eu-west-1:{m}:trail/no-such-trail");
    let trail = aws_sdk_cloudtrail::types::Trail::builder().trail_arn(&arn).build();
    let err = orgtrail::steps::trail::observe(&w.member_ct(&a, "eu-west-1"), &m, trail).await.unwrap_err();
    assert_eq!(err.code().as_deref(), Some("TrailNotFoundException"), "{err}");
    let want = format!("account {m} (eu-west-1): cloudtrail-trail {arn}: cloudtrail GetEventSelectors: TrailNotFoundException");
    assert!(err.to_string().starts_with(&want), "{err}");
}
