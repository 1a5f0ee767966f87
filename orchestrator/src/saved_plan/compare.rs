//! The saved observation against a new one: every resource whose planned change is not the one
//! seen now, every step or target that appeared or went, the organization and the waves.
use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::SavedPlan;
use crate::plan::observe::StepPlan;
use crate::steps::{Action, Change};

/// One thing that is not as the plan observed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Moved {
    /// The step id, or `organization` / `wave NAME` for what discovery assigns.
    pub step: String,
    pub target: String,
    pub resource: String,
    pub planned: String,
    pub now: String,
}

impl fmt::Display for Moved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in {}: {}: planned {}, now {}", self.step, self.target, self.resource, self.planned, self.now)
    }
}

/// How a change reads in a message: `create`, `update (versioning (Suspended -> Enabled))`.
pub fn describe(action: &Action) -> String {
    match action {
        Action::Create => "create".into(),
        Action::Update { fields } => format!("update ({})", fields.join(", ")),
        Action::NoChange => "no change".into(),
        Action::Delete => "delete".into(),
        Action::ManualAction { .. } => "manual action".into(),
    }
}

/// Every difference between what `saved` observed and what `now` observes, in `saved`'s order.
pub fn compare(saved: &SavedPlan, now: &SavedPlan) -> Vec<Moved> {
    let mut moved = Vec::new();
    let mv = |step: &str, target: &str, resource: &str, planned: String, now: String| Moved { step: step.into(), target: target.into(), resource: resource.into(), planned, now };
    if saved.organization != now.organization {
        moved.push(mv("organization", "-", "organization", format!("{} (management {})", saved.organization.id, saved.organization.management_account), format!("{} (management {})", now.organization.id, now.organization.management_account)));
    }
    if saved.caller_account != now.caller_account {
        moved.push(mv("credentials", "-", "caller account", saved.caller_account.clone(), now.caller_account.clone()));
    }
    let waves = |p: &SavedPlan| -> BTreeMap<String, String> { p.waves.iter().flat_map(|w| w.accounts.iter().map(move |a| (a.clone(), w.name.clone()))).collect() };
    let (was, is) = (waves(saved), waves(now));
    for (account, wave) in &was {
        let now_in = is.get(account).map_or_else(|| "not targeted".to_string(), |w| format!("wave {w}"));
        if is.get(account) != Some(wave) {
            moved.push(mv(&format!("wave {wave}"), account, "account", format!("wave {wave}"), now_in));
        }
    }
    for (account, wave) in is.iter().filter(|(a, _)| !was.contains_key(*a)) {
        moved.push(mv(&format!("wave {wave}"), account, "account", "not targeted".into(), format!("wave {wave}")));
    }
    let key = |s: &StepPlan| (s.step.as_str().to_string(), s.target.clone());
    let steps_now: BTreeMap<(String, String), &StepPlan> = now.steps.iter().map(|s| (key(s), s)).collect();
    for s in &saved.steps {
        match steps_now.get(&key(s)) {
            None if !now.members_observed && saved.members_observed && is_member_step(s) => moved.push(mv(s.step.as_str(), &s.target, "member steps", "observed".into(), "not observed".into())),
            None => moved.push(mv(s.step.as_str(), &s.target, "step", "observed".into(), "not run".into())),
            Some(n) => moved.extend(step_moved(s, n)),
        }
    }
    let saved_keys: std::collections::BTreeSet<(String, String)> = saved.steps.iter().map(key).collect();
    for n in now.steps.iter().filter(|n| !saved_keys.contains(&key(n))) {
        moved.push(mv(n.step.as_str(), &n.target, "step", "not observed".into(), summary(n)));
    }
    moved
}

fn is_member_step(s: &StepPlan) -> bool {
    use orgtrail_state::StepId as S;
    matches!(s.step, S::AssumeRole | S::MemberChecks | S::AccountTrail | S::LegacyTrails | S::DeliveryCheck)
}

fn summary(s: &StepPlan) -> String {
    if let Some(e) = &s.error {
        return format!("error: {e}");
    }
    let changed: Vec<String> = s.changes.iter().filter(|c| c.is_change()).map(|c| format!("{} {}", c.resource, describe(&c.action))).collect();
    if changed.is_empty() { "no change".into() } else { changed.join("; ") }
}

/// One step's resources: planned and now, by resource name.
fn step_moved(saved: &StepPlan, now: &StepPlan) -> Vec<Moved> {
    let (step, target) = (saved.step.as_str(), saved.target.as_str());
    let mv = |resource: &str, planned: String, now: String| Moved { step: step.into(), target: target.into(), resource: resource.into(), planned, now };
    if let Some(e) = &now.error {
        return vec![mv("step", "observed".into(), format!("error: {e}"))];
    }
    let index = |changes: &[Change]| -> BTreeMap<String, Action> { changes.iter().map(|c| (c.resource.clone(), c.action.clone())).collect() };
    let (was, is) = (index(&saved.changes), index(&now.changes));
    let mut out = Vec::new();
    for (resource, action) in &was {
        match is.get(resource) {
            Some(a) if a == action => {}
            Some(a) => out.push(mv(resource, describe(action), describe(a))),
            None => out.push(mv(resource, describe(action), "not seen".into())),
        }
    }
    for (resource, action) in is.iter().filter(|(r, _)| !was.contains_key(*r)) {
        out.push(mv(resource, "not seen".into(), describe(action)));
    }
    out
}
