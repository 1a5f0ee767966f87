//! `state-bench [RECORDS]`: the cost of recording step results, one transaction each (as `apply`
//! writes them), and how the file grows. Prints figures; asserts nothing.
use std::time::Instant;

use orgtrail_state::{NewRun, StepStatus, Store};

fn size(dir: &std::path::Path) -> u64 {
    ["state.db", "state.db-wal"].iter().filter_map(|f| std::fs::metadata(dir.join(f)).ok()).map(|m| m.len()).sum()
}

fn main() {
    let total: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("orgtrail-state-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = Store::open(&dir).expect("open state");
    let run = store
        .create_run(NewRun { config_fingerprint: "bench".into(), config_path: "bench.toml".into(), org_id: "o-bench".into(), inventory_json: "{}".into(), plan_json: "{}".into() })
        .expect("create run");
    let steps = ["check-member", "legacy-trails", "delivery-check", "account-trail"];
    let status = StepStatus::Done { detail: Some("org trail arn:aws:cloudtrail:us-east-1:111111111111:trail/org logging; no legacy trails".into()) };
    println!("records  seconds  records/s  bytes(db+wal)  bytes/record");
    let start = Instant::now();
    let mut next_report = total / 10;
    for i in 0..total {
        let account = format!("{:012}", 100_000_000_000u64 + (i / steps.len()) as u64);
        store.record(&run, &account, "rest", steps[i % steps.len()], &status).expect("record");
        if i + 1 == next_report || i + 1 == total {
            let secs = start.elapsed().as_secs_f64();
            let bytes = size(&dir);
            println!("{:>7}  {:>7.2}  {:>9.0}  {:>13}  {:>12.1}", i + 1, secs, (i + 1) as f64 / secs, bytes, bytes as f64 / (i + 1) as f64);
            next_report += total / 10;
        }
    }
    drop(store);
    let t = Instant::now();
    let store = Store::open(&dir).expect("reopen");
    let open = store.latest_open_run().expect("query").expect("run is open");
    let records = store.records(&open.id).expect("records");
    println!("resume: reopen + load {} records in {:.3} s", records.len(), t.elapsed().as_secs_f64());
    let _ = std::fs::remove_dir_all(&dir);
}
