//! `orgtrail validate-logs` against the emulator's delivery: a clean delivery validates (and the
//! AWS CLI agrees), and each tampering is found with the object named, never less strictly than
//! the AWS CLI's `validate-logs` on the same data (a test runs both on every case).
#[path = "validate_logs_support/mod.rs"]
mod support;

use std::collections::{BTreeSet, HashMap};

use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use sha2::{Digest, Sha256};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_delivery_validates_and_the_aws_cli_agrees() {
    let sb = applied(5).await;
    let end = hour(0);
    deliver(&sb, 3, end, &accounts(&sb));
    let start = iso(end - time::Duration::hours(3));
    let (code, v) = validate(&sb, &["--start-time", &start, "--end-time", &iso(end), "--regions", "us-east-1,eu-west-1"]);
    assert_eq!(code, 0, "{v:#}");
    let pairs = accounts(&sb).len() as u64 * 2;
    let s = &v["summary"];
    assert_eq!((s["pairs"].as_u64(), s["digests_valid"].as_u64(), s["logs_valid"].as_u64(), s["digests_invalid"].as_u64()), (Some(pairs), Some(pairs * 3), Some(pairs * 3), Some(0)), "{s:#}");
    assert!(findings(&v).is_empty(), "{v:#}");
    for (account, region) in [(&sb.org.management_account, "us-east-1"), (&sb.org.members[0].id, "eu-west-1")] {
        let cli = aws_validate(&sb, account, region, &start, &iso(end)).await;
        assert_eq!(cli.code, 0, "{cli:?}");
        assert!(cli.stdout.contains("3/3 digest files valid") && cli.stdout.contains("3/3 log files valid"), "{cli:?}");
    }
    // Without a region list orgtrail finds every region the accounts have digests in.
    let (code, v) = validate(&sb, &["--start-time", &start, "--end-time", &iso(end), "--digests-only", "--accounts", &sb.org.members[1].id]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["summary"]["pairs"].as_u64(), Some(17), "every region enabled by default: {:#}", v["summary"]);
    assert_eq!(v["summary"]["logs_valid"].as_u64(), Some(0), "--digests-only reads no log file");
}

/// The signing string of a digest body at `key` (the documented one), signed with a new key.
fn resign(bucket: &str, key: &str, body: &[u8]) -> String {
    let inflated = gunzip(body);
    let d: serde_json::Value = serde_json::from_slice(&inflated).unwrap();
    let prev = d["previousDigestSignature"].as_str().unwrap_or("null");
    let to_sign = format!("{}\n{bucket}/{key}\n{}\n{prev}", d["digestEndTime"].as_str().unwrap(), hex::encode(Sha256::digest(&inflated)));
    let other = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    hex::encode(SigningKey::<Sha256>::new(other).sign(to_sign.as_bytes()).to_bytes())
}

/// One tamper case: what was done, to which account x region, and the keys that must be named.
struct Case {
    name: &'static str,
    account: String,
    region: &'static str,
    named: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tampering_is_found_and_never_less_strictly_than_by_the_aws_cli() {
    let sb = applied(5).await;
    let end = hour(0);
    deliver(&sb, 4, end, &accounts(&sb));
    let b = Bucket::of(&sb);
    let (m, la, mgmt) = (|i: usize| sb.org.members[i].id.clone(), sb.org.log_archive_account.clone(), sb.org.management_account.clone());
    let region = "eu-west-1";
    let digests = |a: &str, r: &str| {
        let f = digest_folder(&sb, a, r);
        let b = &b;
        async move { b.keys(&f).await }
    };
    let logs = |a: &str| {
        let f = log_folder(&sb, a, region);
        let b = &b;
        async move { b.keys(&f).await }
    };
    let mut cases = Vec::new();
    let policy = b.unguard().await;

    let log = logs(&m(0)).await[1].clone();
    let (body, meta) = b.get(&log).await;
    let changed = String::from_utf8(gunzip(&body)).unwrap().replacen("\"eventTime\"", "\"eventTime\" ", 1);
    b.put(&log, gzip(changed.as_bytes()), meta).await;
    cases.push(Case { name: "a log file byte changed", account: m(0), region, named: vec![log] });

    let log = logs(&m(1)).await[2].clone();
    b.delete(&log).await;
    cases.push(Case { name: "a log file deleted", account: m(1), region, named: vec![log] });

    let d = digests(&m(2), region).await;
    b.delete(&d[1]).await;
    cases.push(Case { name: "one digest deleted", account: m(2), region, named: vec![d[1].clone()] });

    let d = digests(&m(3), region).await;
    b.delete(&d[1]).await;
    b.delete(&d[2]).await;
    cases.push(Case { name: "two consecutive digests deleted", account: m(3), region, named: vec![d[2].clone()] });

    let d = digests(&m(4), region).await;
    let (body, mut meta) = b.get(&d[1]).await;
    meta.insert("signature".into(), resign(&b.name, &d[1], &body));
    b.put(&d[1], body, meta).await;
    cases.push(Case { name: "a digest re-signed with another key", account: m(4), region, named: vec![d[1].clone()] });

    let d = digests(&la, region).await;
    let (body, _) = b.get(&d[1]).await;
    b.put(&d[1], body, HashMap::new()).await;
    cases.push(Case { name: "a digest's signature metadata removed", account: la.clone(), region, named: vec![d[1].clone()] });

    // m5's us-east-1 digest of the second hour, over m4's of the same hour.
    let (from, to) = (digests(&m(4), "us-east-1").await[1].clone(), digests(&m(3), "us-east-1").await[1].clone());
    let (body, meta) = b.get(&from).await;
    b.put(&to, body, meta).await;
    cases.push(Case { name: "a digest copied to another account's prefix", account: m(3), region: "us-east-1", named: vec![to] });

    let listed = logs(&mgmt).await[1].clone();
    let added = listed.replacen("_CloudTrail_", "_CloudTrail_", 1).rsplit_once('_').map(|(head, _)| format!("{head}_AddedByHand0000.json.gz")).unwrap();
    let (body, meta) = b.get(&listed).await;
    b.put(&added, body, meta).await;
    cases.push(Case { name: "a log file added that no digest lists", account: mgmt.clone(), region, named: vec![added] });

    b.guard(policy).await;
    let start = iso(end - time::Duration::hours(4));
    let (code, v) = validate(&sb, &["--start-time", &start, "--end-time", &iso(end), "--regions", "us-east-1,eu-west-1"]);
    assert_eq!(code, 1, "{v:#}");
    let found = findings(&v);
    for case in &cases {
        let ours: BTreeSet<&String> = found.iter().filter(|f| f.0 == case.account && f.1 == case.region && f.2 != "stopped").map(|f| &f.3).collect();
        for key in &case.named {
            assert!(ours.contains(key), "{}: orgtrail does not name {key}: {ours:#?}", case.name);
        }
        let cli = aws_validate(&sb, &case.account, case.region, &start, &iso(end)).await;
        for key in cli.invalid_keys() {
            assert!(ours.contains(&key), "{}: the AWS CLI calls {key} INVALID, orgtrail does not: {ours:#?}\n{cli:?}", case.name);
        }
        eprintln!("{}: orgtrail names {} object(s), the AWS CLI {} (exit {})", case.name, ours.len(), cli.invalid_keys().len(), cli.code);
    }
    let pair = |a: &str, r: &str| v["pairs"].as_array().unwrap().iter().find(|p| p["account"] == a && p["region"] == r).unwrap().clone();
    // Two consecutive deleted digests are two missing (the AWS CLI reports one: aws-cli issue 7054).
    assert_eq!(pair(&m(3), region)["digests_missing"].as_u64(), Some(2), "{v:#}");
    assert_eq!(pair(&m(2), region)["digests_missing"].as_u64(), Some(1), "{v:#}");
    let verdict_of = |a: &str, r: &str, key: &str| found.iter().find(|f| f.0 == a && f.1 == r && f.3 == key).map(|f| f.2.clone()).unwrap_or_default();
    assert_eq!(verdict_of(&m(0), region, &cases[0].named[0]), "invalid: hash");
    assert_eq!(verdict_of(&m(1), region, &cases[1].named[0]), "not found");
    assert_eq!(verdict_of(&m(4), region, &cases[4].named[0]), "invalid: signature");
    assert_eq!(verdict_of(&la, region, &cases[5].named[0]), "invalid: signature");
    assert_eq!(verdict_of(&m(3), "us-east-1", &cases[6].named[0]), "invalid: place");
    assert_eq!(verdict_of(&mgmt, region, &cases[7].named[0]), "unlisted");
    // Untouched pairs stay valid.
    for (a, r) in [(m(0), "us-east-1"), (m(2), "us-east-1"), (mgmt.clone(), "us-east-1")] {
        assert_eq!(pair(&a, r)["valid"], true, "{a} {r}: {v:#}");
    }
}
