//! Organization discovery and credentials against the emulator (issue: foundation).
use std::collections::BTreeMap;

use orgtrail::aws::Aws;
use orgtrail::discovery::{discover, DiscoverOptions};
use orgtrail_tests::harness::{role, stderr, stdout};
use orgtrail_tests::{seed, Sandbox};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_ou_paths_tags_pagination_and_suspended_accounts() {
    // 90 members round-robin over 4 OUs: > 20 (one ListAccountsForParent page) in each.
    let sb = Sandbox::new(90).await.unwrap();
    let suspended = sb.org.members[0].id.clone(); // in Root/Workloads/Prod
    seed::suspend(&sb.conf, &suspended).await.unwrap();
    let aws = Aws::from_config(sb.conf.clone(), 50);
    let inv = discover(&aws, &DiscoverOptions { with_tags: true }).await.unwrap();

    assert_eq!(inv.organization.id, sb.org.org_id);
    // management + log-archive + 90 members, less the suspended one.
    assert_eq!(inv.accounts.len(), 91);
    assert_eq!(inv.skipped.len(), 1);
    assert_eq!(inv.skipped[0].account.id, suspended);
    assert!(inv.skipped[0].reason.contains("SUSPENDED"), "{:?}", inv.skipped[0]);
    assert!(inv.account(&suspended).is_none());

    // Every member's OU path and tags as seeded, including the doubly nested Experiments OU.
    let by_id: BTreeMap<_, _> = inv.accounts.iter().map(|a| (a.id.as_str(), a)).collect();
    for m in sb.org.members.iter().filter(|m| m.id != suspended) {
        let a = by_id[m.id.as_str()];
        assert_eq!(a.ou_path, m.ou_path, "{}", m.name);
        assert_eq!(a.tags, m.tags, "{}", m.name);
    }
    let nested = inv.accounts.iter().filter(|a| a.ou_path == "Root/Workloads/Dev/Experiments").count();
    assert_eq!(nested, 22);
    let exp = &inv.accounts.iter().find(|a| a.ou_path == "Root/Workloads/Dev/Experiments").unwrap();
    assert_eq!(exp.ou_ids.len(), 4, "Root, Workloads, Dev, Experiments: {:?}", exp.ou_ids);
    assert_eq!(by_id[sb.org.log_archive_account.as_str()].ou_path, "Root/Security");
    assert_eq!(by_id[sb.org.management_account.as_str()].ou_path, "Root");

    // Calls grow with OUs and pages, not accounts: ListAccountsForParent needed 2 pages in 4 OUs.
    let ops = aws.metrics.snapshot();
    assert_eq!(ops["Organizations.ListAccountsForParent"].calls, 7 + 4, "{ops:?}");
    assert_eq!(ops["Organizations.ListOrganizationalUnitsForParent"].calls, 7, "{ops:?}");
    assert_eq!(ops["Organizations.ListTagsForResource"].calls, 92, "{ops:?}");
    assert!(!ops.contains_key("Organizations.ListParents") && !ops.contains_key("Organizations.DescribeAccount"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assumed_credentials_act_in_the_member_account() {
    let sb = Sandbox::new(3).await.unwrap();
    let aws = Aws::from_config(sb.conf.clone(), 50).with_role(role("orgtrail-test"), 4);
    for m in &sb.org.members {
        let session = aws.session(&m.id);
        let who = aws.sts_in(&session).get_caller_identity().send().await.unwrap();
        assert_eq!(who.account(), Some(m.id.as_str()));
        assert!(who.arn().unwrap().contains("assumed-role/OrganizationAccountAccessRole/orgtrail-test"), "{:?}", who.arn());
        // A resource made with those credentials belongs to the member account.
        let s3 = aws.s3(&session);
        s3.create_bucket().bucket(format!("probe-{}", m.id)).send().await.unwrap();
        let mine = aws.s3(&aws.session(&sb.org.log_archive_account)).list_buckets().send().await.unwrap();
        assert!(mine.buckets().iter().all(|b| b.name() != Some(&format!("probe-{}", m.id))));
    }
    // One AssumeRole per account however many clients use the session (the identity cache).
    for m in &sb.org.members {
        aws.sts_in(&aws.session(&m.id)).get_caller_identity().send().await.unwrap();
    }
    assert_eq!(aws.metrics.snapshot()["STS.AssumeRole"].calls, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_command_prints_table_and_json_with_access_check() {
    let sb = Sandbox::new(25).await.unwrap();
    let out = sb.orgtrail(&["accounts", "--check-access", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["accounts"].as_array().unwrap().len(), 27);
    let access = v["access"].as_array().unwrap();
    assert_eq!(access.len(), 27);
    assert!(access.iter().all(|a| a["outcome"] == "ok"), "{access:?}");
    let mgmt = access.iter().find(|a| a["account"] == sb.org.management_account.as_str()).unwrap();
    assert_eq!(mgmt["via"], "base-credentials");
    assert!(v["api_calls"]["discovery"]["calls"].as_u64().unwrap() > 0);
    // Tags are not fetched for --check-access / --json consumers that did not ask for them.
    assert_eq!(v["tags_fetched"], false);
    assert!(v["api_calls"]["by_operation"].get("Organizations.ListTagsForResource").is_none(), "{}", v["api_calls"]);
    assert!(v["accounts"].as_array().unwrap().iter().all(|a| a["tags"].as_object().unwrap().is_empty()));

    let tagged = sb.orgtrail(&["accounts", "--tags", "--json"]);
    assert!(tagged.status.success(), "{}", stderr(&tagged));
    let t: serde_json::Value = serde_json::from_str(&stdout(&tagged)).unwrap();
    assert_eq!(t["tags_fetched"], true);
    assert_eq!(t["api_calls"]["by_operation"]["Organizations.ListTagsForResource"]["calls"], 27);
    let la = t["accounts"].as_array().unwrap().iter().find(|a| a["id"] == sb.org.log_archive_account.as_str()).unwrap();
    assert_eq!(la["tags"]["role"], "log-archive");
    let both = sb.orgtrail(&["accounts", "--tags", "--no-tags"]);
    assert_eq!(both.status.code(), Some(2), "conflicting flags are a usage error: {}", stderr(&both));

    let table = sb.orgtrail(&["accounts"]);
    assert!(table.status.success(), "{}", stderr(&table));
    let text = stdout(&table);
    assert!(text.starts_with("ACCOUNT"), "{text}");
    let la = text.lines().find(|l| l.starts_with(&sb.org.log_archive_account)).unwrap();
    assert!(la.contains("Root/Security") && la.contains("role=log-archive"), "{la}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_config_exits_2_naming_file_line_and_column() {
    let sb = Sandbox::new(0).await.unwrap();
    let path = sb.config_path();
    sb.edit_config(|c| c.home_region("us-east-7"));
    let out = sb.orgtrail(&["accounts"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&format!("{}:3:15: `us-east-7` is not a region of partition `aws`", path.display())) || err.contains("orgtrail.toml:3:15:"), "{err}");
    assert!(stdout(&out).is_empty());
}
