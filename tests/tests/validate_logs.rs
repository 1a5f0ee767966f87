//! `orgtrail validate-logs` against the emulator's delivery: a clean delivery validates (and the
//! AWS CLI agrees), and each tampering is found with the object named, never less strictly than
//! the AWS CLI's `validate-logs` on the same data.
#[path = "validate_logs_support/mod.rs"]
mod support;

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_delivery_validates_and_the_aws_cli_agrees() {
    let sb = applied(5).await;
    let end = hour(0);
    deliver(&sb, 3, end, &accounts(&sb));
    let start = iso(end - time::Duration::hours(3));
    let b = Bucket::of(&sb);
    let keys = b.keys("").await;
    let k = keys.iter().find(|k| k.contains("Digest")).unwrap();
    let r = b.s3.get_object().bucket(&b.name).key(k).send().await;
    eprintln!("DEBUG {:?}", r.map(|o| o.metadata().cloned()));
    let (code, v) = validate(&sb, &["--start-time", &start, "--end-time", &iso(end), "--regions", "us-east-1,eu-west-1"]);
    eprintln!("{v:#}");
    assert_eq!(code, 0, "{v:#}");
    let cli = aws_validate(&sb, &sb.org.members[0].id, "eu-west-1", &start, &iso(end));
    eprintln!("{cli:?}");
    assert_eq!(cli.code, 0);
}
