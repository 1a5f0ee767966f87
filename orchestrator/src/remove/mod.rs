//! `orgtrail remove`: takes orgtrail's footprint back in the order that returns control first and
//! never leaves a moment without logging:
//! 1. the tamper-protection SCP: detached everywhere, then deleted (admins regain control);
//! 2. detection: the trail's CloudWatch Logs link, Insights, the CIS alarms and metric filters, the
//!    alarm topic, the log group, its role;
//! 3. with `--stop-trail` only, and only when another trail is confirmed to log every account and
//!    region: the organization trail, stopped then deleted; then its delivery topic, when apply
//!    created it (tagged) and no trail names it any more;
//! 4. the delegated-administrator registration the config names (with the management account's
//!    credentials; from the delegated administrator itself it is left, with the command).
//!
//! Logs, the log bucket, the access-log bucket, the KMS key (and the access-log key), trusted access,
//! the member role and the state are never deleted: they are listed as kept, with why.
//! `observe` reads only; `execute` removes in order, each item recorded in the state before and
//! after, and stops at the first failure (later items assume the earlier ones are gone).
mod coverage;
mod detection;
mod keep;
mod scp;
mod topic;
mod work;

use orgtrail_state::{RemovalRecord, Store};
use serde::Serialize;

use crate::steps::{Ctx, StepError};
pub use coverage::Coverage;
pub use work::Work;

/// What happens to one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Decision {
    Remove,
    /// Never removed by orgtrail (evidence, shared, or not orgtrail's), with why.
    Keep { why: String },
    /// Would be removed, but not now: the reason, and what would allow it.
    Refused { why: String },
}

impl Decision {
    pub fn name(&self) -> &'static str {
        match self {
            Decision::Remove => "remove",
            Decision::Keep { .. } => "keep",
            Decision::Refused { .. } => "refused",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub account: String,
    pub resource: String,
    #[serde(flatten)]
    pub decision: Decision,
    /// How it is removed (API calls), for `Remove` items.
    #[serde(skip)]
    pub work: Option<Work>,
}

impl Item {
    fn remove(account: &str, resource: impl Into<String>, work: Work) -> Item {
        Item { account: account.into(), resource: resource.into(), decision: Decision::Remove, work: Some(work) }
    }

    fn keep(account: &str, resource: impl Into<String>, why: impl Into<String>) -> Item {
        Item { account: account.into(), resource: resource.into(), decision: Decision::Keep { why: why.into() }, work: None }
    }

    fn refused(account: &str, resource: impl Into<String>, why: impl Into<String>) -> Item {
        Item { account: account.into(), resource: resource.into(), decision: Decision::Refused { why: why.into() }, work: None }
    }
}

/// What `remove` found: the items in the order they are removed, then the kept ones.
#[derive(Debug, Clone, Serialize)]
pub struct Removal {
    pub items: Vec<Item>,
    /// The other trails that were judged for `--stop-trail` (empty without it).
    pub coverage: Vec<Coverage>,
}

impl Removal {
    pub fn to_remove(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| i.decision == Decision::Remove)
    }

    pub fn refused(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| matches!(i.decision, Decision::Refused { .. }))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RemoveError {
    #[error(transparent)]
    Step(#[from] StepError),
    #[error(transparent)]
    State(#[from] orgtrail_state::StateError),
}

impl crate::exit::Classify for RemoveError {
    fn exit_class(&self) -> crate::exit::ExitClass {
        match self {
            RemoveError::Step(_) => crate::exit::ExitClass::Environment,
            RemoveError::State(e) => e.exit_class(),
        }
    }
}

/// Read what orgtrail made and decide each resource (`ctx.apply` is ignored: nothing is written).
pub async fn observe(ctx: &Ctx<'_>, stop_trail: bool) -> Result<Removal, RemoveError> {
    let mut items = scp::observe(ctx).await?;
    items.extend(detection::observe(ctx).await?);
    let (trail_items, coverage) = coverage::observe(ctx, stop_trail).await?;
    let fate = match trail_items.first().and_then(|i| i.work.as_ref()) {
        _ if trail_items.is_empty() => topic::TrailFate::Gone,
        Some(Work::StopAndDeleteTrail { .. }) => topic::TrailFate::Goes,
        _ => topic::TrailFate::Stays,
    };
    items.extend(trail_items);
    items.extend(topic::observe(ctx, fate).await?);
    items.extend(keep::delegation(ctx).await?);
    items.extend(keep::kept(ctx));
    Ok(Removal { items, coverage })
}

/// How one item ended.
#[derive(Debug, Clone, Serialize)]
pub struct Done {
    pub account: String,
    pub resource: String,
    /// `done`, `failed`, `not-started`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The API calls it made.
    pub calls: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RemoveReport {
    pub removal: String,
    pub resumed: bool,
    pub done: Vec<Done>,
    /// Every item finished: the removal is closed.
    pub finished: bool,
}

/// Remove the `Remove` items in order, recording each in `store` under the open removal (or a new
/// one); the first failure stops the rest. Refused items leave the removal open: a later `remove`
/// (the other trail in place) continues it.
pub async fn execute(ctx: &Ctx<'_>, removal: &Removal, store: &Store) -> Result<RemoveReport, RemoveError> {
    let (id, resumed) = store.open_removal(&ctx.org.id)?;
    let record = |position: usize, item: &Item, status: &str, detail: String| {
        store.record_removal(&id, &RemovalRecord { account: item.account.clone(), resource: item.resource.clone(), position: position as u32, action: item.decision.name().into(), status: status.into(), detail, updated_at: 0 })
    };
    for (n, item) in removal.items.iter().enumerate() {
        let (status, detail) = match &item.decision {
            Decision::Remove => ("pending", String::new()),
            Decision::Keep { why } => ("kept", why.clone()),
            Decision::Refused { why } => ("refused", why.clone()),
        };
        record(n, item, status, detail)?;
    }
    let mut done = Vec::new();
    let mut failed = false;
    for (n, item) in removal.items.iter().enumerate() {
        let Some(work) = &item.work else { continue };
        if failed {
            done.push(Done { account: item.account.clone(), resource: item.resource.clone(), status: "not-started".into(), error: None, calls: vec![] });
            continue;
        }
        match work.run(ctx, &item.account, &item.resource).await {
            Ok(calls) => {
                record(n, item, "done", calls.join(", "))?;
                done.push(Done { account: item.account.clone(), resource: item.resource.clone(), status: "done".into(), error: None, calls });
            }
            Err(e) => {
                failed = true;
                record(n, item, "failed", e.to_string())?;
                done.push(Done { account: item.account.clone(), resource: item.resource.clone(), status: "failed".into(), error: Some(e.to_string()), calls: vec![] });
            }
        }
    }
    let finished = !failed && removal.refused().next().is_none();
    if finished {
        store.finish_removal(&id)?;
    }
    Ok(RemoveReport { removal: id, resumed, done, finished })
}
