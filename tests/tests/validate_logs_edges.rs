//! validate-logs at its edges, against the emulator: `--since-last` with the chain heads in the S3
//! state (`[state] url`), read back on another machine; a deleted newest digest of one pair (no
//! later digest names it, and the AWS CLI misses it) found from the trail's other pairs, with a
//! clean run of the same window passing; a backfill digest signed long after its hour, with a key
//! the window's ListPublicKeys range does not hold (the AWS CLI accepts it too).
#[path = "validate_logs_support/mod.rs"]
mod support;

use orgtrail_tests::harness::{post, stderr, stdout, ConfigEdit};
use orgtrail_tests::Sandbox;
use serde_json::Value;
use support::*;

const STATE_BUCKET: &str = "orgtrail-validate-state";
const STATE_PREFIX: &str = "team/prod";

/// `orgtrail ARGS` with its working copy of the remote state in `cache` (one "machine").
fn on(sb: &Sandbox, cache: &std::path::Path, args: &[&str]) -> std::process::Output {
    sb.command(args).env("XDG_CACHE_HOME", cache).output().unwrap()
}

/// `validate-logs --format json --output FILE ARGS` on a machine → (exit, result, summary line).
fn validate_on(sb: &Sandbox, cache: &std::path::Path, args: &[String]) -> (i32, Value, String) {
    let file = sb.dir.path().join("validate.json");
    let _ = std::fs::remove_file(&file);
    let mut all = vec!["validate-logs".to_string(), "--format".into(), "json".into(), "--output".into(), file.display().to_string()];
    all.extend_from_slice(args);
    let out = on(sb, cache, &all.iter().map(String::as_str).collect::<Vec<_>>());
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("no result ({e}): {}\n{}", stdout(&out), stderr(&out)));
    (out.status.code().unwrap_or(-1), serde_json::from_str(&text).unwrap(), stderr(&out))
}

/// The chain heads in the S3 state object as it is now.
async fn remote_heads(sb: &Sandbox) -> Vec<orgtrail_state::ChainHead> {
    let out = sb.s3().get_object().bucket(STATE_BUCKET).key(format!("{STATE_PREFIX}/state.db")).send().await.expect("the state is in S3");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("state.db"), out.body.collect().await.unwrap().into_bytes()).unwrap();
    orgtrail_state::Store::open_read_only(dir.path()).unwrap().chain_heads(&sb.org_trail_arn()).unwrap()
}

fn pair_args(who: &[String], window: Option<(time::OffsetDateTime, time::OffsetDateTime)>) -> Vec<String> {
    let mut a = vec!["--accounts".to_string(), who.join(","), "--regions".into(), REGIONS.join(",")];
    if let Some((start, end)) = window {
        a.extend(["--start-time".into(), iso(start), "--end-time".into(), iso(end)]);
    }
    a
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn since_last_keeps_its_heads_in_the_s3_state() {
    let url = format!("s3://{STATE_BUCKET}/{STATE_PREFIX}");
    let sb = Sandbox::with_config(5, |c: ConfigEdit| c.mfa_delete(false).add("state.url", url.clone())).await.unwrap();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let out = on(&sb, a.path(), &["apply", "--json"]);
    assert_eq!(out.status.code(), Some(0), "apply: {}", stderr(&out));
    let who = vec![sb.org.management_account.clone(), sb.org.members[0].id.clone(), sb.org.members[1].id.clone()];
    let pairs = (who.len() * REGIONS.len()) as u64;
    let end = hour(0);
    deliver(&sb, 3, end - time::Duration::hours(1), &who);

    // A clean run on machine A records one head per pair, in the S3 state (not in a local one).
    let (code, v, _) = validate_on(&sb, a.path(), &pair_args(&who, Some((end - time::Duration::hours(4), end - time::Duration::hours(1)))));
    assert_eq!(code, 0, "{v:#}");
    let heads = remote_heads(&sb).await;
    assert_eq!(heads.len() as u64, pairs, "a head per pair in s3://{STATE_BUCKET}/{STATE_PREFIX}/state.db: {heads:#?}");
    assert!(heads.iter().all(|h| h.end_time == iso(end - time::Duration::hours(1))), "{heads:#?}");
    assert!(!sb.dir.path().join("orgtrail.state").join("state.db").exists(), "no local state beside the config");

    // One more hour; machine B (an empty cache) reads the heads from S3 and validates the new digests only.
    deliver(&sb, 1, end, &who);
    let since = {
        let mut s = vec!["--since-last".to_string()];
        s.extend(pair_args(&who, None));
        s
    };
    let (code, v, summary) = validate_on(&sb, b.path(), &since);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["summary"]["digests_valid"].as_u64(), Some(pairs), "only the new digest of each pair: {:#}", v["summary"]);
    assert!(summary.contains(&format!("; {pairs}/{pairs} digests valid since the last run")), "the count is shown: {summary}");
    let heads = remote_heads(&sb).await;
    assert!(heads.len() as u64 == pairs && heads.iter().all(|h| h.end_time == iso(end)), "the heads moved in S3: {heads:#?}");

    // A digest behind the recorded head replaced with another pair's: machine A (its working copy
    // one push behind) pulls the moved heads and fails on it.
    let bucket = Bucket::of(&sb);
    let policy = bucket.unguard().await;
    let target = bucket.keys(&digest_folder(&sb, &who[1], "eu-west-1")).await;
    let donor = bucket.keys(&digest_folder(&sb, &who[2], "eu-west-1")).await;
    let replaced = target[target.len() - 2].clone();
    let (body, meta) = bucket.get(&donor[donor.len() - 2]).await;
    bucket.put(&replaced, body, meta).await;
    bucket.guard(policy).await;
    let (code, v, summary) = validate_on(&sb, a.path(), &since);
    assert_eq!(code, 1, "{v:#}");
    assert!(findings(&v).iter().any(|f| f.0 == who[1] && f.1 == "eu-west-1" && f.3 == replaced && f.2 == "not in chain"), "the replaced digest is named: {v:#}");
    assert!(summary.contains("; 0/0 digests valid since the last run"), "{summary}");
    let kept = remote_heads(&sb).await;
    assert!(kept.iter().any(|h| h.account == who[1] && h.region == "eu-west-1" && h.end_time == iso(end)), "the failing pair keeps its head: {kept:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_newest_digest_is_found_from_the_trails_other_pairs() {
    let sb = applied(5).await;
    let who = vec![sb.org.management_account.clone(), sb.org.members[0].id.clone(), sb.org.members[1].id.clone()];
    // The window ends an hour ago: its last digests are past the delivery lag, so all are due.
    let end = hour(1);
    deliver(&sb, 3, end, &who);
    let window = pair_args(&who, Some((end - time::Duration::hours(3), end)));
    let a: Vec<&str> = window.iter().map(String::as_str).collect();
    let (code, v) = validate(&sb, &a);
    assert_eq!(code, 0, "the clean run of the window: {v:#}");
    assert!(findings(&v).is_empty(), "{v:#}");

    let bucket = Bucket::of(&sb);
    let policy = bucket.unguard().await;
    let digests = bucket.keys(&digest_folder(&sb, &who[1], "eu-west-1")).await;
    let newest = digests.last().unwrap().clone();
    bucket.delete(&newest).await;
    bucket.guard(policy).await;

    let (code, v) = validate(&sb, &a);
    assert_eq!(code, 1, "{v:#}");
    let found = findings(&v);
    assert_eq!(found.len(), 1, "the deleted digest only: {v:#}");
    assert_eq!((found[0].0.as_str(), found[0].1.as_str(), found[0].2.as_str(), found[0].3.as_str()), (who[1].as_str(), "eu-west-1", "not found", newest.as_str()), "{v:#}");
    let detail = v["findings"][0]["detail"].as_str().unwrap();
    assert!(detail.contains(&iso(end)) && detail.contains(&digests[digests.len() - 2]), "the expected time and the newest remaining digest: {detail}");
    let pair = v["pairs"].as_array().unwrap().iter().find(|p| p["account"] == who[1].as_str() && p["region"] == "eu-west-1").unwrap();
    assert_eq!((pair["digests_missing"].as_u64(), &pair["valid"]), (Some(1), &Value::Bool(false)), "{pair:#}");
    // The AWS CLI walks back from the newest digest it finds, so it never sees this one missing.
    let cli = aws_validate(&sb, &who[1], "eu-west-1", &iso(end - time::Duration::hours(3)), &iso(end)).await;
    assert_eq!(cli.code, 0, "the AWS CLI misses it: {cli:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_digest_signed_weeks_later_validates_with_the_key_of_its_generation() {
    let sb = applied(5).await;
    let who = vec![sb.org.management_account.clone(), sb.org.members[0].id.clone()];
    let pairs = (who.len() * REGIONS.len()) as u64;
    // Hours 31 days ago: the emulator rotates its signing keys every 30 days, so the key a backfill
    // digest is signed with now is not among the keys ListPublicKeys has for the window.
    let end = hour(31 * 24);
    let delivered = deliver(&sb, 3, end, &who);
    let body = serde_json::json!({ "end": iso(end - time::Duration::hours(1)), "accounts": who }).to_string();
    let (status, answer) = post(&sb, "/moto-api/fidelity/backfill", &body);
    assert_eq!(status, 200, "{answer}");
    let answer: Value = serde_json::from_str(&answer).unwrap();
    let hourly = delivered["trails"][sb.org_trail_arn()]["digest_files"].as_u64().unwrap() / 3;
    assert_eq!(answer["trails"][sb.org_trail_arn()]["backfill_digests"].as_u64(), Some(hourly), "one per account x region the trail covers: {answer:#}");
    let bucket = Bucket::of(&sb);
    let backfills: Vec<String> = bucket.keys(&digest_folder(&sb, &who[1], "eu-west-1")).await.into_iter().filter(|k| k.ends_with("_backfill.json.gz")).collect();
    assert_eq!(backfills.len(), 1, "{backfills:?}");
    let (_, meta) = bucket.get(&backfills[0]).await;
    assert!(meta.contains_key("backfill-generation-timestamp"), "{meta:?}");

    let (start, stop) = (end - time::Duration::hours(3), end);
    let window = pair_args(&who, Some((start, stop)));
    let (code, v) = validate(&sb, &window.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{v:#}");
    let s = &v["summary"];
    assert_eq!((s["digests_valid"].as_u64(), s["backfill_digests_valid"].as_u64(), s["logs_valid"].as_u64(), s["logs_unlisted"].as_u64()), (Some(pairs * 3), Some(pairs), Some(pairs * 4), Some(0)), "the late log files are proven by the backfill digests: {s:#}");
    let cli = aws_validate(&sb, &who[1], "eu-west-1", &iso(start), &iso(stop)).await;
    assert_eq!(cli.code, 0, "{cli:?}");
    assert!(cli.stderr.contains("(backfill) Digest file") || cli.stdout.contains("backfill digest"), "the AWS CLI read the backfill digest: {cli:?}");
}
