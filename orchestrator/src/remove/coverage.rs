//! `--stop-trail`: the organization trail goes only when another trail is confirmed to log every
//! account and region — an organization trail, multi-region, logging, with management events read
//! and write — the mirror of the legacy-trail rule: never a moment without logging.
use aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput;
use aws_sdk_cloudtrail::types::ReadWriteType;
use serde::Serialize;

use super::{Item, Work};
use crate::aws::Site;
use crate::steps::support::{in_region, trail_resource};
use crate::steps::{Ctx, StepError};

/// Another trail, as judged for `--stop-trail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    pub trail_arn: String,
    pub organization: bool,
    pub multi_region: bool,
    pub logging: bool,
    pub management_read_write: bool,
}

impl Coverage {
    pub fn covers(&self) -> bool {
        self.organization && self.multi_region && self.logging && self.management_read_write
    }

    fn lacks(&self) -> String {
        let lacks: Vec<&str> = [(self.organization, "not an organization trail"), (self.multi_region, "single-region"), (self.logging, "not logging"), (self.management_read_write, "not every management event (read and write)")]
            .iter()
            .filter(|(ok, _)| !ok)
            .map(|(_, why)| *why)
            .collect();
        format!("{}: {}", self.trail_arn, lacks.join(", "))
    }
}

/// Whether the selectors log every management event, read and write. No selectors at all is
/// CloudTrail's default: all management events.
pub fn management_read_write(out: &GetEventSelectorsOutput) -> bool {
    let advanced = out.advanced_event_selectors();
    if !advanced.is_empty() {
        let management: Vec<_> = advanced.iter().filter(|s| s.field_selectors().iter().any(|f| f.field() == "eventCategory" && f.equals().iter().any(|v| v == "Management"))).collect();
        let read_only = |s: &&aws_sdk_cloudtrail::types::AdvancedEventSelector| s.field_selectors().iter().find(|f| f.field() == "readOnly").map(|f| f.equals().to_vec());
        // A selector without readOnly takes both; else both values must be selected somewhere.
        if management.iter().any(|s| read_only(s).is_none()) {
            return true;
        }
        let values: Vec<String> = management.iter().filter_map(read_only).flatten().collect();
        return values.iter().any(|v| v == "true") && values.iter().any(|v| v == "false");
    }
    let basic = out.event_selectors();
    if basic.is_empty() {
        return true;
    }
    let on: Vec<_> = basic.iter().filter(|s| s.include_management_events() != Some(false)).map(|s| s.read_write_type().cloned().unwrap_or(ReadWriteType::All)).collect();
    on.contains(&ReadWriteType::All) || (on.contains(&ReadWriteType::ReadOnly) && on.contains(&ReadWriteType::WriteOnly))
}

pub async fn observe(ctx: &Ctx<'_>, stop_trail: bool) -> Result<(Vec<Item>, Vec<Coverage>), StepError> {
    let mgmt = ctx.management_account();
    let arn = ctx.trail_arn();
    let resource = trail_resource(&arn);
    let ct = ctx.aws.cloudtrail(&in_region(ctx.aws.base(), ctx.home_region()));
    let trails = crate::steps::trail::describe(&ct, mgmt, true).await?;
    if !trails.iter().any(|t| t.trail_arn() == Some(arn.as_str())) {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut items = Vec::new();
    if !stop_trail {
        items.insert(0, Item::keep(mgmt, resource, "the organization trail keeps logging: `remove --stop-trail` stops and deletes it once another trail logs every account and region"));
        return Ok((items, Vec::new()));
    }
    let mut judged = Vec::new();
    for t in trails.iter().filter(|t| t.trail_arn() != Some(arn.as_str())) {
        let other = t.trail_arn().unwrap_or_default().to_string();
        let home = t.home_region().unwrap_or(ctx.home_region());
        let ct = ctx.aws.cloudtrail(&in_region(ctx.aws.base(), home));
        let site = Site::new(mgmt, ct.config().region(), trail_resource(&other));
        let status = ct.get_trail_status().name(&other).send().await.map_err(site.fail("CloudTrail.GetTrailStatus"))?;
        let selectors = ct.get_event_selectors().trail_name(&other).send().await.map_err(site.fail("CloudTrail.GetEventSelectors"))?;
        judged.push(Coverage {
            trail_arn: other,
            organization: t.is_organization_trail().unwrap_or(false),
            multi_region: t.is_multi_region_trail().unwrap_or(false),
            logging: status.is_logging().unwrap_or(false),
            management_read_write: management_read_write(&selectors),
        });
    }
    let item = match judged.iter().find(|c| c.covers()) {
        Some(c) => Item::remove(mgmt, format!("{resource} (stop logging, delete; {} logs every account and region)", c.trail_arn), Work::StopAndDeleteTrail { arn }),
        None => {
            let seen = if judged.is_empty() { "no other trail exists".to_string() } else { judged.iter().map(Coverage::lacks).collect::<Vec<_>>().join("; ") };
            Item::refused(mgmt, resource, format!("no other trail is confirmed to log every account and region ({seen}): deploy one first (an organization trail, multi-region, logging, management events read and write)"))
        }
    };
    items.insert(0, item);
    Ok((items, judged))
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudtrail::types::{AdvancedEventSelector, AdvancedFieldSelector, EventSelector};

    use super::*;

    fn advanced(fields: &[(&str, &str)]) -> AdvancedEventSelector {
        let fs = fields.iter().map(|(f, v)| AdvancedFieldSelector::builder().field(*f).equals(*v).build().unwrap()).collect();
        AdvancedEventSelector::builder().set_field_selectors(Some(fs)).build().unwrap()
    }

    #[test]
    fn management_events_must_be_read_and_write() {
        let out = |a: Vec<AdvancedEventSelector>, b: Vec<EventSelector>| GetEventSelectorsOutput::builder().set_advanced_event_selectors(Some(a)).set_event_selectors(Some(b)).build();
        assert!(management_read_write(&out(vec![], vec![])), "no selectors: CloudTrail's default, all management events");
        assert!(management_read_write(&out(vec![advanced(&[("eventCategory", "Management")])], vec![])));
        assert!(!management_read_write(&out(vec![advanced(&[("eventCategory", "Management"), ("readOnly", "true")])], vec![])), "read-only is not enough");
        assert!(management_read_write(&out(vec![advanced(&[("eventCategory", "Management"), ("readOnly", "true")]), advanced(&[("eventCategory", "Management"), ("readOnly", "false")])], vec![])));
        assert!(!management_read_write(&out(vec![advanced(&[("eventCategory", "Data")])], vec![])), "data events only");
        let basic = |rw: ReadWriteType| EventSelector::builder().read_write_type(rw).include_management_events(true).build();
        assert!(!management_read_write(&out(vec![], vec![basic(ReadWriteType::WriteOnly)])));
        assert!(management_read_write(&out(vec![], vec![basic(ReadWriteType::All)])));
    }
}
