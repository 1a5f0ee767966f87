//! validate-logs over time: a stop of logging is a stop, not tampering (and the AWS CLI agrees);
//! `--since-last` reads only what arrived since the recorded heads and still fails when a digest
//! behind a head is replaced; `--shard 1/2` + `--shard 2/2` merged equal the unsharded result; a
//! wrong flag exits 2 having written nothing.
#[path = "validate_logs_support/mod.rs"]
mod support;

use orgtrail_tests::harness::{requests_by_account, requests_since, stderr, stdout, Operator};
use serde_json::Value;
use support::*;

fn pair_args(accounts: &[String]) -> Vec<String> {
    vec!["--accounts".into(), accounts.join(","), "--regions".into(), REGIONS.join(",")]
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_hour_stop_is_reported_as_a_stop_not_as_tampering() {
    let sb = applied(5).await;
    let who = vec![sb.org.management_account.clone(), sb.org.members[0].id.clone()];
    let end = hour(0);
    deliver(&sb, 2, end - time::Duration::hours(3), &who);
    let ct = Operator::new(&sb).cloudtrail();
    ct.stop_logging().name(sb.org_trail_arn()).send().await.unwrap();
    // Two hours pass with the trail stopped: CloudTrail delivers nothing for them.
    ct.start_logging().name(sb.org_trail_arn()).send().await.unwrap();
    deliver(&sb, 1, end, &who);
    let (start, end) = (iso(end - time::Duration::hours(5)), iso(end));
    let mut a = vec!["--start-time".to_string(), start.clone(), "--end-time".into(), end.clone()];
    a.extend(pair_args(&who));
    let (code, v) = validate(&sb, &args(&a));
    assert_eq!(code, 0, "a stop is not tampering: {v:#}");
    let found = findings(&v);
    assert_eq!(found.len(), 4, "one stop per account x region: {v:#}");
    assert!(found.iter().all(|f| f.2 == "stopped"), "{v:#}");
    let s = &v["summary"];
    assert_eq!((s["stops"].as_u64(), s["digests_valid"].as_u64(), s["digests_missing"].as_u64()), (Some(4), Some(12), Some(0)), "{s:#}");
    let detail = v["findings"][0]["detail"].as_str().unwrap();
    assert!(detail.contains(&iso(hour(3))) && detail.contains(&iso(hour(1))), "the stop's period: {detail}");
    let cli = aws_validate(&sb, &who[1], "eu-west-1", &start, &end).await;
    assert_eq!(cli.code, 0, "{cli:?}");
    assert!(cli.stderr.contains("No log files were delivered by CloudTrail between"), "the AWS CLI reports it as a gap too: {cli:?}");
}

fn without_shard(mut v: Value) -> Value {
    v["shard"] = Value::Null;
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn since_last_reads_only_new_digests_and_shards_merge_to_the_whole() {
    let sb = applied(5).await;
    let mut who = vec![sb.org.management_account.clone(), sb.org.members[0].id.clone(), sb.org.members[1].id.clone()];
    // Account ids are random per emulator: add members until each shard holds a pair, so the
    // merge below joins two real halves (6 pairs fall all in one shard 1 time in 32).
    let half = |k: u32, who: &[String]| who.iter().any(|a| REGIONS.iter().any(|r| orgtrail::validate::shard::Shard { k, n: 2 }.takes(a, r)));
    for m in &sb.org.members[2..] {
        if half(1, &who) && half(2, &who) {
            break;
        }
        who.push(m.id.clone());
    }
    let pairs = (who.len() * REGIONS.len()) as u64;
    let end = hour(0);
    deliver(&sb, 3, end - time::Duration::hours(1), &who);
    let mut window = vec!["--start-time".to_string(), iso(end - time::Duration::hours(4)), "--end-time".into(), iso(end - time::Duration::hours(1))];
    window.extend(pair_args(&who));

    // Shards: each a fixed share, none recording heads; merged, the unsharded result.
    let dir = sb.dir.path();
    for k in ["1/2", "2/2"] {
        let file = dir.join(format!("shard-{}.json", &k[..1]));
        let mut a = window.clone();
        a.extend(["--shard".into(), k.into(), "--output".into(), file.display().to_string()]);
        let (code, _) = validate_file(&sb, &args(&a), &file);
        assert_eq!(code, 0);
    }
    let s1: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("shard-1.json")).unwrap()).unwrap();
    let s2: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("shard-2.json")).unwrap()).unwrap();
    let (n1, n2) = (s1["pairs"].as_array().unwrap().len(), s2["pairs"].as_array().unwrap().len());
    assert_eq!((n1 + n2) as u64, pairs, "the shards split the pairs");
    assert!(n1 > 0 && n2 > 0, "both shards have work: {n1} + {n2}");
    let heads = orgtrail_state::Store::open_read_only(dir.join("orgtrail.state")).map(|s| s.chain_heads(&sb.org_trail_arn()).unwrap().len()).unwrap_or(0);
    assert_eq!(heads, 0, "shards record no heads");
    let (code, whole) = validate(&sb, &args(&window));
    assert_eq!(code, 0, "{whole:#}");
    let merged = sb.orgtrail(&["validate-logs", "merge", "--format", "json", &dir.join("shard-1.json").display().to_string(), &dir.join("shard-2.json").display().to_string()]);
    assert_eq!(merged.status.code(), Some(0), "{}", stderr(&merged));
    let merged: Value = serde_json::from_str(&stdout(&merged)).unwrap();
    let strip_heads = |mut v: Value| {
        for p in v["pairs"].as_array_mut().unwrap() {
            p["head"]["recorded_at"] = Value::Null;
        }
        v
    };
    assert_eq!(strip_heads(without_shard(merged)), strip_heads(whole.clone()), "merged shards == unsharded");

    // The unsharded run recorded a head per pair; one more hour arrives.
    deliver(&sb, 1, end, &who);
    let mut since = vec!["--since-last".to_string()];
    since.extend(pair_args(&who));
    let (code, v) = validate(&sb, &args(&since));
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["summary"]["digests_valid"].as_u64(), Some(pairs), "only the new digest of each pair: {:#}", v["summary"]);
    assert_eq!(v["summary"]["logs_valid"].as_u64(), Some(pairs), "{:#}", v["summary"]);
    let table = sb.orgtrail(&args(&[vec!["validate-logs".to_string()], since.clone()].concat()));
    assert_eq!(table.status.code(), Some(0));
    // Run again right after: the heads moved, so nothing is new (and the count says so).
    assert!(stdout(&table).contains("; 0/0 digests valid since the last run"), "the count is printed: {}", stdout(&table));

    // A digest behind the recorded head replaced (re-written with another's body and signature).
    let b = Bucket::of(&sb);
    let policy = b.unguard().await;
    let target = b.keys(&digest_folder(&sb, &who[1], "eu-west-1")).await;
    let donor = b.keys(&digest_folder(&sb, &who[2], "eu-west-1")).await;
    let replaced = target[target.len() - 2].clone();
    let (body, meta) = b.get(&donor[donor.len() - 2]).await;
    b.put(&replaced, body, meta).await;
    b.guard(policy).await;
    let (code, v) = validate(&sb, &args(&since));
    assert_eq!(code, 1, "{v:#}");
    let found = findings(&v);
    assert!(found.iter().any(|f| f.0 == who[1] && f.1 == "eu-west-1" && f.3 == replaced && f.2 == "not in chain"), "the replaced digest behind the head is named: {v:#}");
    assert_eq!(v["summary"]["digests_valid"].as_u64(), Some(0), "nothing new to read: {:#}", v["summary"]);
}

fn validate_file(sb: &orgtrail_tests::Sandbox, a: &[&str], file: &std::path::Path) -> (i32, Value) {
    let mut all = vec!["validate-logs", "--format", "json"];
    all.extend_from_slice(a);
    let out = sb.orgtrail(&all);
    assert!(stderr(&out).contains("written to"), "{}", stderr(&out));
    (out.status.code().unwrap_or(-1), serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_flag_exits_2_having_written_nothing() {
    let sb = applied(5).await;
    for (bad, says) in [
        (vec!["--shard", "3/2"], "--shard 3/2"),
        (vec!["--start-time", "yesterday"], "not a UTC time"),
        (vec!["--start-time", "2026-01-09", "--end-time", "2026-01-08"], "is after"),
        (vec!["--regions", "moon-1"], "not a region"),
        (vec!["--accounts", "999999999999"], "not an account of organization"),
        (vec!["--wave", "nope"], "no wave `nope`"),
        (vec!["--format", "xml"], "invalid value"),
    ] {
        let before = requests_by_account(&sb);
        let mut a = vec!["validate-logs"];
        a.extend(&bad);
        let out = sb.orgtrail(&a);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{bad:?}: {}", stderr(&out));
        let writes: Vec<String> = requests_since(&before, &requests_by_account(&sb))
            .values()
            .flat_map(|ops| ops.keys().cloned())
            .filter(|op| !(op.contains("GET") || op.contains("HEAD") || ["List", "Describe", "Get", "AssumeRole"].iter().any(|r| op.contains(r))))
            .collect();
        assert!(writes.is_empty(), "{bad:?} wrote: {writes:?}");
        assert!(!sb.dir.path().join("orgtrail.state").join("state.db").exists() || orgtrail_state::Store::open_read_only(sb.dir.path().join("orgtrail.state")).unwrap().chain_heads(&sb.org_trail_arn()).unwrap().is_empty());
    }
}
