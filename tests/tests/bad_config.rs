//! Bad input: every broken config of tests/corpus/bad-configs, run through the real `orgtrail`
//! binary, exits 2 with an error that names the file, line and column and says what was expected;
//! never a panic. No emulator: config errors stop the run before any AWS call.
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use orgtrail_tests::harness::{orgtrail_bin, stderr, stdout, ConfigEdit};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/bad-configs")
}

/// `orgtrail --config PATH accounts`, with no AWS credentials or profile from the environment and an
/// endpoint that refuses connections, so a config that wrongly loads fails fast instead of reaching AWS.
fn run_accounts(config: &Path) -> Output {
    let mut cmd = std::process::Command::new(orgtrail_bin());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(&k);
        }
    }
    cmd.env_remove("ORGTRAIL_CONFIG")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "AKIDBADCONFIGTEST")
        .env("AWS_SECRET_ACCESS_KEY", "bad-config-test")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("RUST_BACKTRACE", "1")
        .arg("--config")
        .arg(config)
        .arg("accounts");
    cmd.output().expect("running orgtrail")
}

/// What is wrong with the outcome of one bad config, if anything.
fn check(config: &Path, expected: &[String]) -> Result<(), String> {
    let out = run_accounts(config);
    let err = stderr(&out);
    let mut problems = Vec::new();
    if out.status.code() != Some(2) {
        problems.push(format!("exit status {:?}, expected 2", out.status.code()));
    }
    for needle in expected {
        if !err.contains(needle.as_str()) {
            problems.push(format!("stderr lacks {needle:?}"));
        }
    }
    for bad in ["panicked", "RUST_BACKTRACE", "stack backtrace", "stack overflow"] {
        if err.contains(bad) {
            problems.push(format!("stderr shows {bad:?}"));
        }
    }
    if !err.starts_with("error: ") || !err.lines().next().unwrap_or("").contains(&config.display().to_string()) {
        problems.push("the first line of stderr is not `error: ...` naming the file".into());
    }
    if !stdout(&out).is_empty() {
        problems.push("stdout is not empty".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}: {}\n--- stderr ---\n{}", config.display(), problems.join("; "), err.chars().take(2000).collect::<String>()))
    }
}

#[test]
fn every_corpus_config_is_refused_with_a_located_error_and_exit_2() {
    let mut configs: Vec<PathBuf> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    configs.sort();
    assert!(configs.len() >= 20, "the corpus holds only {} configs", configs.len());
    let mut failures = Vec::new();
    for config in &configs {
        let expect = config.with_extension("expect");
        let text = std::fs::read_to_string(&expect).unwrap_or_else(|e| panic!("{}: {e}", expect.display()));
        let expected: Vec<String> = text.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect();
        let name = config.file_name().unwrap().to_string_lossy().into_owned();
        // The first substring is the place: `NAME.toml:LINE:COLUMN:` (or `NAME.toml:LINE:` for very long lines).
        assert!(expected.first().is_some_and(|f| f.starts_with(&format!("{name}:"))), "{}: first line must be `{name}:LINE:COLUMN:`", expect.display());
        if let Err(e) = check(config, &expected) {
            failures.push(e);
        }
    }
    // And no .expect without its config.
    for e in std::fs::read_dir(corpus()).unwrap().map(|e| e.unwrap().path()) {
        if e.extension().is_some_and(|x| x == "expect") {
            assert!(e.with_extension("toml").exists(), "{} has no config", e.display());
        }
    }
    assert!(failures.is_empty(), "{} of {} configs not refused as expected:\n\n{}", failures.len(), configs.len(), failures.join("\n\n"));
}

/// The valid config the corpus files are made from: fixing the one fault must make it load,
/// so each corpus error is due to its fault alone. Checked on the files with a simple one-line fault.
#[test]
fn corpus_faults_are_the_only_faults() {
    let fixes = [
        ("bad-region.toml", "\"eu-west-9\"", "\"eu-west-1\""),
        ("bad-bucket-uppercase.toml", "\"Org-Logs\"", "\"org-logs-222222222222\""),
        ("wrong-type-bool.toml", "\"yes\"", "true"),
        ("bad-percentage-over-100.toml", "\"150%\"", "\"25%\""),
        ("duplicate-wave-name.toml", "name = \"canary\"\nremaining", "name = \"rest\"\nremaining"),
    ];
    for (file, from, to) in fixes {
        let text = std::fs::read_to_string(corpus().join(file)).unwrap();
        assert!(text.contains(from), "{file}: {from:?}");
        let fixed = text.replacen(from, to, 1);
        orgtrail::config::parse(Path::new(file), &fixed).unwrap_or_else(|e| panic!("{file} fixed still fails: {e}"));
    }
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.toml");
    let mut text = ConfigEdit::read(&corpus().join("bad-region.toml")).home_region("eu-west-1").text();
    while text.len() as u64 <= orgtrail::config::MAX_CONFIG_BYTES {
        text.push_str("# padding padding padding padding padding padding padding padding padding padding\n");
    }
    std::fs::write(&path, &text).unwrap();
    let expected = vec![format!("{} is {} bytes; the limit is 1048576 bytes", path.display(), text.len())];
    check(&path, &expected).unwrap();
}

/// Just under the limit: 20,000 waves and a fault on the last line. The error must still point at
/// it, and validation must stay linear (it once scanned the file from the start for every wave).
#[test]
fn a_large_config_under_the_limit_points_at_its_last_line_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.toml");
    let base = std::fs::read_to_string(corpus().join("empty-wave.toml")).unwrap();
    let head = base.split("[[wave]]").next().unwrap();
    let mut text = head.to_string();
    let waves = 20_000;
    for i in 0..waves {
        text.push_str(&format!("[[wave]]\nname = \"w{i}\"\nous = [\"Root\"]\n"));
    }
    text.push_str("[[wave]]\nname = \"w7\"\n");
    assert!(text.len() as u64 <= orgtrail::config::MAX_CONFIG_BYTES, "{} bytes", text.len());
    std::fs::write(&path, &text).unwrap();
    let last = text.lines().count();
    let started = Instant::now();
    check(&path, &[format!("large.toml:{last}:8:"), "wave name `w7` is used twice".into()]).unwrap();
    let took = started.elapsed();
    // Generous for a debug build on a loaded 2-core machine; the quadratic version took 7 s in a release build.
    assert!(took < Duration::from_secs(20), "took {took:?}");
    eprintln!("{waves} waves, {} bytes: refused in {took:?}", text.len());
}
