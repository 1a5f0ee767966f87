//! What `plan` observes: every central step (and, when asked, every targeted account's member
//! steps) run read-only, each reporting its changes. `plan` renders it, `plan --out` saves it, and
//! `apply --plan` observes again and compares (`crate::saved_plan`).
use futures::stream::{self, StreamExt};
use orgtrail_state::StepId;
use serde::{Deserialize, Serialize};

use crate::executor::{CentralStep, MemberStep};
use crate::steps::{Action, Change, Ctx, Outcome, StepError};

/// One step of one target, observed read-only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepPlan {
    pub step: StepId,
    pub target: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// orgtrail's own refusal (not an AWS error): `apply` finds it too, before its first write.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refused: bool,
}

impl StepPlan {
    pub fn of(step: StepId, target: &str, r: Result<Outcome, StepError>) -> Self {
        match r {
            Ok(o) => StepPlan { step, target: target.into(), changes: o.changes, error: None, refused: false },
            Err(e) => StepPlan { step, target: target.into(), changes: vec![], refused: matches!(e, StepError::Refused { .. }), error: Some(e.to_string()) },
        }
    }

    /// Whether `apply` would write anything (or ask an operator to) for this step.
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(Change::is_change)
    }
}

/// Everything one `plan` saw.
#[derive(Debug, Clone)]
pub struct Observation {
    pub steps: Vec<StepPlan>,
    /// The organization trail does not exist yet: member steps were not observed.
    pub trail_missing: bool,
    /// Whether the member steps of every target were observed.
    pub members: bool,
}

/// Run every central step read-only (`ctx.apply` must be false), the delegation plan, and with
/// `members` (once the trail exists) the member steps of every target, `concurrency` accounts at once.
pub async fn observe(ctx: &Ctx<'_>, members: bool, concurrency: usize) -> Observation {
    debug_assert!(!ctx.apply, "observe never writes");
    let mut steps = Vec::new();
    for s in CentralStep::all(ctx) {
        let target = s.target(ctx);
        steps.push(StepPlan::of(s.id(), &target, s.run(ctx).await));
    }
    if let Some(r) = crate::steps::trusted_access::delegation_plan(ctx).await {
        steps.push(StepPlan::of(StepId::DelegatedAdmin, ctx.management_account(), r));
    }
    // Member checks look for the trail from each account: before it exists they can only fail.
    let trail_missing = steps.iter().any(|s| s.step == StepId::OrgTrail && s.changes.iter().any(|c| c.action == Action::Create));
    let members = members && !trail_missing;
    if members {
        let member_steps = MemberStep::all(ctx);
        let per_account: Vec<Vec<StepPlan>> = stream::iter(ctx.targets.iter())
            .map(|a| {
                let member_steps = member_steps.clone();
                async move {
                    let mut out = Vec::new();
                    for s in member_steps {
                        let r = s.run(ctx, a).await;
                        let failed = r.is_err();
                        out.push(StepPlan::of(s.id(), a, r));
                        if failed {
                            break;
                        }
                    }
                    out
                }
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        let mut all: Vec<StepPlan> = per_account.into_iter().flatten().collect();
        all.sort_by(|a, b| (&a.target, a.step.as_str()).cmp(&(&b.target, b.step.as_str())));
        steps.extend(all);
    }
    Observation { steps, trail_missing, members }
}
