//! The member-side delivery check against the patched moto: a missing digest of the member is a
//! finding for an operator (another account's digests do not count), and it passes once one is delivered.
use orgtrail_tests::harness::{test_aws as aws, ConfigEdit, StepWorld};

orgtrail_tests::step_world!();

impl World {
    async fn new(members: usize, edit: impl FnOnce(ConfigEdit) -> ConfigEdit) -> World {
        World(StepWorld::member_side(members, edit).await)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_check_reports_a_missing_digest_and_passes_once_one_is_delivered() {
    use orgtrail::steps::delivery_check::delivery_check;
    let w = World::new(1, |c| c.add("trail.delivery_check", true)).await;
    let a = aws(&w.sb);
    // The central steps CloudTrail's delivery needs: the key, the log bucket and its policy, the trail.
    orgtrail::steps::kms_key::converge(&w.ctx(&a, true)).await.unwrap();
    orgtrail::steps::log_bucket::converge_access_log_bucket(&w.ctx(&a, true)).await.unwrap();
    orgtrail::steps::log_bucket::converge_log_bucket(&w.ctx(&a, true)).await.unwrap();
    w.converge_org_trail().await;
    let m = w.member();
    let a = aws(&w.sb); // a fresh call log: the check itself writes nothing
    let out = delivery_check(&w.ctx(&a, true), &m).await.unwrap();
    let prefix = format!("org/AWSLogs/{}/{m}/CloudTrail-Digest/us-east-1/", w.sb.org.org_id);
    let instructions = out.manual_instructions().expect("a finding for an operator");
    assert!(instructions.contains(&prefix) && instructions.contains("OrgTrail.Delivery"), "{instructions}");
    assert!(a.metrics.write_calls().is_empty());

    // Another account's digests do not count.
    orgtrail_tests::harness::deliver(&w.sb, 1, None, Some(&[w.la()]));
    assert!(delivery_check(&w.ctx(&a, true), &m).await.unwrap().manual_instructions().is_some());

    let counts = orgtrail_tests::harness::deliver(&w.sb, 1, None, Some(&[m.as_str()]));
    assert!(counts["trails"].as_object().unwrap().values().all(|t| t["failures"] == 0), "{counts:#}");
    let out = delivery_check(&w.ctx(&a, true), &m).await.unwrap();
    assert!(out.changes.iter().all(|c| !c.is_change()), "{out:?}");
}
