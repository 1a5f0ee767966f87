//! Per targeted member account, through the assumed role: the trail reaches the account (visible
//! and logging from it) and none of the account's own trails logs management events a second time.
//! Both come from the member-checks step's read-only `inspect_member`.
use futures::stream::{self, StreamExt};

use super::{Control, Finding, Status};
use crate::steps::member_checks::{inspect_member, MemberFindings};
use crate::steps::support::trail_resource;
use crate::steps::Ctx;

pub(super) async fn check(ctx: &Ctx<'_>) -> Vec<Finding> {
    let concurrency = ctx.config.access.max_concurrency.max(1);
    let per_account: Vec<Vec<Finding>> = stream::iter(ctx.targets.iter())
        .map(|account| async move {
            match inspect_member(ctx, account).await {
                Ok(f) => judge(ctx, &f),
                Err(e) => {
                    let resource = format!("account {account}");
                    vec![Finding::error(Control::OrgTrailReach, account, resource.clone(), &e), Finding::error(Control::OrgTrailNoDuplicate, account, resource, &e)]
                }
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    per_account.into_iter().flatten().collect()
}

fn judge(ctx: &Ctx<'_>, f: &MemberFindings) -> Vec<Finding> {
    let home = ctx.home_region();
    let reach = Finding::new(
        Control::OrgTrailReach,
        &f.account,
        trail_resource(&f.expected_trail),
        if f.confirmed() { Status::Pass } else { Status::Fail },
        format!("GetTrailStatus by ARN from the account ({home}): {}; IsLogging={}", if f.visible { "visible" } else { "NOT visible" }, f.logging),
    );
    let searched = format!("ListTrails in {}; {} regions enabled", f.listed_in.join(", "), f.regions.len());
    let duplicates = if f.duplicates.is_empty() {
        Finding::new(Control::OrgTrailNoDuplicate, &f.account, format!("account {}", f.account), Status::Pass, format!("no own trail logging management events ({searched})"))
    } else {
        let list: Vec<String> = f.duplicates.iter().map(|d| format!("{} (home {}, multi-region={}, logging management events)", d.arn, d.home_region, d.multi_region)).collect();
        let resource = f.duplicates.iter().map(|d| trail_resource(&d.arn)).collect::<Vec<_>>().join(", ");
        Finding::new(Control::OrgTrailNoDuplicate, &f.account, resource, Status::Fail, format!("billed twice: {} ({searched})", list.join("; ")))
    };
    vec![reach, duplicates]
}
