//! `orgtrail remove [--dry-run] [--stop-trail]`: orgtrail's footprint taken back in the safe order
//! (`orgtrail::remove`), what it keeps listed with why. A refusal (`--stop-trail` while no other
//! trail covers the organization) writes nothing at all.
use std::time::Duration;

use orgtrail::executor::Cancel;
use orgtrail::remote_state::{Remote, RemoteSession};
use orgtrail::remove::{self, Decision, Removal, RemoveReport};
use orgtrail::report::table::{self, Table};
use orgtrail::steps::Ctx;
use orgtrail_state::Store;

use super::output::{self, out, outln};
use crate::failure::{Exit, Failure};
use crate::settings::{Settings, StateLocation};

pub async fn remove(settings: &Settings, dry_run: bool, stop_trail: bool) -> Result<Exit, Failure> {
    let config = settings.config();
    let aws = settings.connect("orgtrail-remove").await?;
    let caller = super::caller_identity(&aws).await?;
    let inventory = orgtrail::rollout::inventory(&aws, config, &settings.config_path).await?;
    let ctx = Ctx { aws: &aws, config, org: &inventory.organization, caller: &caller, targets: &[], apply: !dry_run };
    let removal = remove::observe(&ctx, stop_trail).await?;
    let refused = removal.refused().next().is_some();
    // Nothing to remove is nothing to record: no lock, no write at all.
    if dry_run || refused || removal.to_remove().next().is_none() {
        render(settings, &removal, None, dry_run, &aws)?;
        return Ok(if refused { Exit::Failures } else { Exit::Ok });
    }
    let report = execute_recorded(settings, &ctx, &removal).await?;
    render(settings, &removal, Some(&report), false, &aws)?;
    let failed = report.done.iter().any(|d| d.status == "failed");
    Ok(if failed { Exit::Failures } else { Exit::Ok })
}

/// Remove with the records in the state, locked as `apply` locks it: the local directory, or the
/// shared state in S3 (its working copy pulled first, pushed at the end and on checkpoints).
async fn execute_recorded(settings: &Settings, ctx: &Ctx<'_>, removal: &Removal) -> Result<RemoveReport, Failure> {
    let holder = settings.this_invocation();
    match &settings.state {
        StateLocation::Local { dir } => {
            let store = Store::open(dir)?;
            let _lock = store.lock(&holder)?;
            Ok(remove::execute(ctx, removal, &store).await?)
        }
        StateLocation::Remote { url, working_copy, working_copy_is_cache, lease } => {
            let cancel = Cancel::default();
            let remote = Remote::new(ctx.aws, url.clone());
            let mut session = RemoteSession::open(remote, working_copy, *working_copy_is_cache, holder.clone(), *lease, false, &cancel, settings.notes()).await?;
            let result = match session.store.lock(&holder) {
                Ok(guard) => {
                    session.start_checkpoints(Duration::from_secs(ctx.config.state.checkpoint_interval_seconds.into()), &cancel);
                    let store = std::sync::Arc::clone(&session.store);
                    Ok((guard, remove::execute(ctx, removal, &store).await))
                }
                Err(e) => Err(e),
            };
            // Always: the final push (once the removal started) and the lock's release.
            let closed = session.close().await;
            let (_guard, report) = result?;
            closed?;
            Ok(report?)
        }
    }
}

fn render(settings: &Settings, removal: &Removal, report: Option<&RemoveReport>, dry_run: bool, aws: &orgtrail::aws::Aws) -> Result<(), Failure> {
    if settings.output.json {
        return output::json(&serde_json::json!({
            "dry_run": dry_run,
            "items": removal.items,
            "coverage": removal.coverage,
            "report": report,
            "api_calls": { "total": aws.metrics.total(), "writes": aws.metrics.write_calls(), "by_operation": aws.metrics.snapshot() },
        }));
    }
    let mut t = Table::new(["#", "ACCOUNT", "RESOURCE", "ACTION"]).keep_whole([0, 1]);
    let mut n = 0;
    for item in &removal.items {
        let action = match (&item.decision, report) {
            (Decision::Remove, None) => "would remove".to_string(),
            (Decision::Remove, Some(r)) => r.done.iter().find(|d| d.resource == item.resource && d.account == item.account).map_or("?".into(), |d| match &d.error {
                Some(e) => format!("FAILED: {e}"),
                None if d.status == "done" => "removed".into(),
                None => d.status.clone(),
            }),
            (Decision::Keep { why }, _) => format!("keep: {why}"),
            (Decision::Refused { why }, _) => format!("REFUSED: {why}"),
        };
        let order = if item.decision == Decision::Remove {
            n += 1;
            n.to_string()
        } else {
            "-".into()
        };
        t.row([order, item.account.clone(), item.resource.clone(), action]);
    }
    out!("{}", t.render())?;
    let removing = removal.to_remove().count();
    match report {
        None if removal.refused().next().is_some() => out!("\n{}", table::wrap_prose("refused (REFUSED above): nothing written", ""))?,
        None if removing == 0 => outln!("\nnothing of orgtrail's to remove")?,
        None => out!("\n{}", table::wrap_prose(&format!("dry run: nothing written; `orgtrail remove` removes the {removing} resources numbered above, in that order, and keeps the rest"), ""))?,
        Some(r) => {
            let done = r.done.iter().filter(|d| d.status == "done").count();
            let state = if r.finished { "finished" } else { "open: the next `orgtrail remove` continues it" };
            outln!("\n{}{}: {done} of {removing} removed; {state}", r.removal, if r.resumed { " (resumed)" } else { "" })?;
        }
    }
    Ok(())
}
