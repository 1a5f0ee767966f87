//! Issue 12: the management-events advanced selector is named "Management events selector", as the
//! console names it (Prowler's CIS 3.1 / CloudTrail.1 check recognises it only by that name). A trail
//! made under the old name ("Management events") is renamed by the normal diff, once; verify passes
//! CloudTrail.1 with the new name. Against the (patched) moto server.
use aws_sdk_cloudtrail::types::{AdvancedEventSelector, AdvancedFieldSelector};
use orgtrail::steps::org_trail::{self, selectors::MANAGEMENT_SELECTOR_NAME};
use orgtrail::verify::{self, Control, Status};
use orgtrail_tests::harness::{assert_no_writes, test_aws as aws, StepWorld};

async fn names(ct: &aws_sdk_cloudtrail::Client, arn: &str) -> Vec<String> {
    let out = ct.get_event_selectors().trail_name(arn).send().await.unwrap();
    let mut v: Vec<String> = out.advanced_event_selectors().iter().map(|s| s.name().unwrap_or_default().to_string()).collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trail_with_the_old_selector_name_is_renamed_once_and_verify_passes() {
    let w = StepWorld::sandbox(1, |c| c).await;
    w.key_and_bucket().await;
    let a = aws(&w.sb);

    org_trail::converge(&w.ctx(&a, true)).await.unwrap();
    let arn = w.ctx(&a, true).trail_arn();
    let ct = aws_sdk_cloudtrail::Client::new(&w.sb.conf);
    assert!(names(&ct, &arn).await.contains(&MANAGEMENT_SELECTOR_NAME.to_string()), "created with the console's name");

    // The trail as an older orgtrail made it: the same selectors, the management one named "Management events".
    let live = ct.get_event_selectors().trail_name(&arn).send().await.unwrap();
    let old: Vec<AdvancedEventSelector> = live
        .advanced_event_selectors()
        .iter()
        .map(|sel| {
            let name = if sel.name() == Some(MANAGEMENT_SELECTOR_NAME) { "Management events" } else { sel.name().unwrap_or_default() };
            let fields: Vec<AdvancedFieldSelector> = sel.field_selectors().to_vec();
            AdvancedEventSelector::builder().name(name).set_field_selectors(Some(fields)).build().unwrap()
        })
        .collect();
    ct.put_event_selectors().trail_name(&arn).set_advanced_event_selectors(Some(old)).send().await.unwrap();
    assert!(names(&ct, &arn).await.contains(&"Management events".to_string()));

    // A plan reports it, an apply renames it with one PutEventSelectors, the next apply writes nothing.
    let plan_aws = aws(&w.sb);
    let plan = org_trail::converge(&w.ctx(&plan_aws, false)).await.unwrap();
    assert!(format!("{plan:?}").contains(org_trail::SELECTORS_FIELD), "{plan:?}");
    assert!(plan_aws.metrics.write_calls().is_empty());
    let apply_aws = aws(&w.sb);
    org_trail::converge(&w.ctx(&apply_aws, true)).await.unwrap();
    assert_eq!(apply_aws.metrics.write_calls().get("CloudTrail.PutEventSelectors"), Some(&1), "{:?}", apply_aws.metrics.write_calls());
    let after = names(&ct, &arn).await;
    assert!(after.contains(&MANAGEMENT_SELECTOR_NAME.to_string()) && !after.contains(&"Management events".to_string()), "{after:?}");
    let again = aws(&w.sb);
    let out = org_trail::converge(&w.ctx(&again, true)).await.unwrap();
    assert!(out.changes.iter().all(|c| !c.is_change()), "{out:?}");
    assert_no_writes(&again);

    // verify: CloudTrail.1 passes on the renamed selector.
    let report = verify::verify(&w.ctx(&aws(&w.sb), false)).await;
    let ct1: Vec<_> = report.findings.iter().filter(|f| f.control == Control::CloudTrail1).collect();
    assert!(!ct1.is_empty() && ct1.iter().all(|f| f.status == Status::Pass), "{ct1:?}");
}
