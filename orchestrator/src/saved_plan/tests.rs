use orgtrail_state::StepId;

use super::*;
use crate::steps::{Action, Change};

fn plan(rotation: Action) -> SavedPlan {
    let steps = vec![
        StepPlan { step: StepId::KmsKey, target: "222222222222".into(), changes: vec![Change::new("kms-key alias/orgtrail", rotation)], error: None, refused: false },
        StepPlan { step: StepId::OrgTrail, target: "111111111111".into(), changes: vec![Change::no_change("cloudtrail-trail orgtrail")], error: None, refused: false },
    ];
    let waves = vec![PlannedWave { name: "canary".into(), accounts: vec!["333333333333".into()], max_concurrency: 1, failure_tolerance: 0, pause_after: false }];
    let org = OrganizationInfo { id: "o-abc".into(), management_account: "111111111111".into(), root_id: "r-abcd".into() };
    SavedPlan::new(ConfigRef { path: "orgtrail.toml".into(), fingerprint: "f".into() }, org, "111111111111".into(), waves, false, steps)
}

#[test]
fn a_plan_reads_back_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.json");
    let p = plan(Action::Update { fields: vec!["rotation (false -> true)".into()] });
    p.write(&path).unwrap();
    assert_eq!(SavedPlan::read(&path).unwrap(), p);
    assert!(p.has_changes());
    assert!(!plan(Action::NoChange).has_changes());
}

#[test]
fn another_version_or_format_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.json");
    let mut v = serde_json::to_value(plan(Action::NoChange)).unwrap();
    v["version"] = 9.into();
    std::fs::write(&path, v.to_string()).unwrap();
    assert!(matches!(SavedPlan::read(&path), Err(SavedPlanError::Version { found: 9, .. })));
    std::fs::write(&path, r#"{"format": "terraform"}"#).unwrap();
    assert!(SavedPlan::read(&path).unwrap_err().to_string().contains("not an orgtrail saved plan"));
}

#[test]
fn compare_names_each_resource_that_moved_and_nothing_else() {
    let saved = plan(Action::Update { fields: vec!["rotation (false -> true)".into()] });
    assert_eq!(compare(&saved, &saved.clone()), vec![]);
    let mut now = plan(Action::Update { fields: vec!["rotation (false -> true)".into(), "description".into()] });
    now.waves[0].accounts.push("444444444444".into());
    let moved: Vec<String> = compare(&saved, &now).iter().map(ToString::to_string).collect();
    assert_eq!(
        moved,
        vec![
            "wave canary in 444444444444: account: planned not targeted, now wave canary".to_string(),
            "kms-key in 222222222222: kms-key alias/orgtrail: planned update (rotation (false -> true)), now update (rotation (false -> true), description)".to_string(),
        ]
    );
}
