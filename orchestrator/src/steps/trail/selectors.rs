//! Advanced event selectors: what orgtrail wants, and a canonical form to compare them by.
//! Field operators are a closed set (`Op`), so every operator read from AWS is written back as the
//! same one.
use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput;
use aws_sdk_cloudtrail::types::builders::AdvancedFieldSelectorBuilder;
use aws_sdk_cloudtrail::types::{AdvancedEventSelector, AdvancedFieldSelector};
use aws_smithy_types::error::operation::BuildError;

use crate::config::{EventScope, NetworkEvents, Trail};
use crate::steps::Ctx;

/// field → operator → values. Selector names are free text, so they take no part in comparing.
pub type Fields = BTreeMap<String, BTreeMap<Op, BTreeSet<String>>>;

/// The operators of an advanced field selector (CloudTrail's `AdvancedFieldSelector`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    Equals,
    StartsWith,
    EndsWith,
    NotEquals,
    NotStartsWith,
    NotEndsWith,
}

impl Op {
    pub const ALL: [Op; 6] = [Op::Equals, Op::StartsWith, Op::EndsWith, Op::NotEquals, Op::NotStartsWith, Op::NotEndsWith];

    /// The values under this operator in an SDK field selector.
    fn values(self, f: &AdvancedFieldSelector) -> &[String] {
        match self {
            Op::Equals => f.equals(),
            Op::StartsWith => f.starts_with(),
            Op::EndsWith => f.ends_with(),
            Op::NotEquals => f.not_equals(),
            Op::NotStartsWith => f.not_starts_with(),
            Op::NotEndsWith => f.not_ends_with(),
        }
    }

    fn set(self, f: AdvancedFieldSelectorBuilder, values: Vec<String>) -> AdvancedFieldSelectorBuilder {
        let v = Some(values);
        match self {
            Op::Equals => f.set_equals(v),
            Op::StartsWith => f.set_starts_with(v),
            Op::EndsWith => f.set_ends_with(v),
            Op::NotEquals => f.set_not_equals(v),
            Op::NotStartsWith => f.set_not_starts_with(v),
            Op::NotEndsWith => f.set_not_ends_with(v),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub name: String,
    pub fields: Fields,
}

impl Selector {
    fn new(name: &str) -> Self {
        Selector { name: name.into(), fields: Fields::new() }
    }

    fn with(mut self, field: &str, op: Op, values: impl IntoIterator<Item = String>) -> Self {
        let set: BTreeSet<String> = values.into_iter().collect();
        if !set.is_empty() {
            self.fields.entry(field.into()).or_default().entry(op).or_default().extend(set);
        }
        self
    }

    fn read_only(self, scope: EventScope) -> Self {
        match scope {
            EventScope::Read => self.with("readOnly", Op::Equals, ["true".to_string()]),
            EventScope::Write => self.with("readOnly", Op::Equals, ["false".to_string()]),
            EventScope::All | EventScope::None => self,
        }
    }

    fn selects_management(&self) -> bool {
        self.fields.get("eventCategory").and_then(|ops| ops.get(&Op::Equals)).is_some_and(|v| v.contains("Management"))
    }

    pub fn from_sdk(s: &AdvancedEventSelector) -> Selector {
        let mut out = Selector::new(s.name().unwrap_or(""));
        for f in s.field_selectors() {
            for op in Op::ALL {
                out = out.with(f.field(), op, op.values(f).iter().cloned());
            }
        }
        out
    }

    pub fn to_sdk(&self) -> Result<AdvancedEventSelector, BuildError> {
        let mut b = AdvancedEventSelector::builder().name(&self.name);
        for (field, ops) in &self.fields {
            let mut f = AdvancedFieldSelector::builder().field(field);
            for (op, values) in ops {
                f = op.set(f, values.iter().cloned().collect());
            }
            b = b.field_selectors(f.build()?);
        }
        b.build()
    }
}

/// The name the console gives the management-events selector. Auditors match it by name (Prowler's
/// CIS 3.1 / CloudTrail.1 check recognises advanced selectors for management events only by it).
pub const MANAGEMENT_SELECTOR_NAME: &str = "Management events selector";

/// Same selectors, whatever their order and names, except that the management-events selector must
/// carry MANAGEMENT_SELECTOR_NAME: a trail made under an older name is renamed by the normal
/// PutEventSelectors. `live == None` (basic or default selectors) never equals a wanted advanced set.
pub fn same_set(live: Option<&[Selector]>, want: &[Selector]) -> bool {
    let canon = |s: &[Selector]| {
        let mut v: Vec<(Fields, Option<String>)> = s.iter().map(|x| (x.fields.clone(), x.selects_management().then(|| x.name.clone()))).collect();
        v.sort();
        v
    };
    match live {
        Some(live) => canon(live) == canon(want),
        None => want.is_empty(),
    }
}

/// Management events per `management_events` (when `management`), and S3 object-level events
/// per `data_events`, never of the log bucket itself: logging its own writes feeds on itself.
pub fn desired_selectors(trail: &Trail, partition: &str, log_bucket: &str, management: bool) -> Vec<Selector> {
    let mut out = Vec::new();
    if management && trail.management_events != EventScope::None {
        out.push(Selector::new(MANAGEMENT_SELECTOR_NAME).with("eventCategory", Op::Equals, ["Management".to_string()]).read_only(trail.management_events));
    }
    if trail.s3_data_events != EventScope::None {
        let listed = trail.s3_data_event_buckets.iter().map(|b| format!("arn:{partition}:s3:::{b}/"));
        out.push(
            Selector::new("S3 object-level events")
                .with("eventCategory", Op::Equals, ["Data".to_string()])
                .with("resources.type", Op::Equals, ["AWS::S3::Object".to_string()])
                .read_only(trail.s3_data_events)
                .with("resources.ARN", Op::StartsWith, listed)
                .with("resources.ARN", Op::NotStartsWith, [format!("arn:{partition}:s3:::{log_bucket}/")]),
        );
    }
    out
}

/// Whether a trail's selectors log management events. No selectors at all is CloudTrail's
/// default: all management events.
pub fn logs_management_events(out: &GetEventSelectorsOutput) -> bool {
    let advanced = out.advanced_event_selectors();
    let basic = out.event_selectors();
    if !advanced.is_empty() {
        advanced.iter().any(|s| s.field_selectors().iter().any(|f| f.field() == "eventCategory" && f.equals().iter().any(|v| v == "Management")))
    } else if !basic.is_empty() {
        basic.iter().any(|s| s.include_management_events() != Some(false))
    } else {
        true
    }
}

/// Network activity event selectors: one per event source (CloudTrail takes one eventSource value
/// per NetworkActivity selector), optionally only VPC endpoint denials.
pub fn network_selectors(ctx: &Ctx<'_>) -> Vec<Selector> {
    ctx.config.detection.network_events.as_ref().map(selectors_for).unwrap_or_default()
}

pub fn selectors_for(n: &NetworkEvents) -> Vec<Selector> {
    let one = |v: &str| BTreeMap::from([(Op::Equals, BTreeSet::from([v.to_string()]))]);
    n.sources
        .iter()
        .map(|source| {
            let mut fields = BTreeMap::from([("eventCategory".to_string(), one("NetworkActivity")), ("eventSource".to_string(), one(source))]);
            if n.vpce_denied_only {
                fields.insert("errorCode".to_string(), one("VpceAccessDenied"));
            }
            Selector { name: format!("Network activity events: {source}"), fields }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trail() -> Trail {
        crate::config::parse(std::path::Path::new("t.toml"), crate::config::EXAMPLE).map(|c| c.trail).expect("example parses")
    }

    #[test]
    fn compares_by_content_not_order_or_name() {
        let t = trail();
        let want = desired_selectors(&t, "aws", "logs", true);
        assert_eq!(want[0].name, "Management events selector");
        let mut shuffled: Vec<Selector> = want.iter().rev().cloned().map(|mut s| {
            if !s.selects_management() {
                s.name = "renamed".into();
            }
            s
        }).collect();
        assert!(same_set(Some(&shuffled), &want));
        // The management selector under its old name ("Management events") is drift: Prowler would not see it.
        let mut old_name = want.clone();
        old_name[0].name = "Management events".into();
        assert!(!same_set(Some(&old_name), &want));
        shuffled[0].fields.remove("resources.ARN");
        assert!(!same_set(Some(&shuffled), &want));
        assert!(!same_set(None, &want));
    }

    #[test]
    fn always_excludes_the_log_bucket_and_maps_scopes() {
        let mut t = trail();
        t.management_events = EventScope::Write;
        t.s3_data_events = EventScope::Read;
        t.s3_data_event_buckets = vec!["data".into()];
        let s = desired_selectors(&t, "aws-us-gov", "logs", true);
        assert_eq!(s[0].fields["readOnly"][&Op::Equals], BTreeSet::from(["false".to_string()]));
        let arn = &s[1].fields["resources.ARN"];
        assert_eq!(arn[&Op::NotStartsWith], BTreeSet::from(["arn:aws-us-gov:s3:::logs/".to_string()]));
        assert_eq!(arn[&Op::StartsWith], BTreeSet::from(["arn:aws-us-gov:s3:::data/".to_string()]));
        assert_eq!(s[1].fields["readOnly"][&Op::Equals], BTreeSet::from(["true".to_string()]));
        assert_eq!(desired_selectors(&t, "aws", "logs", false).len(), 1, "data-events-only: no management selector");
        let back = Selector::from_sdk(&s[1].to_sdk().expect("builds"));
        assert_eq!(back, s[1]);
    }

    #[test]
    fn every_operator_survives_the_sdk_round_trip() {
        // Before Op, an operator the writer did not know was silently written as NotEndsWith.
        let mut s = Selector::new("all operators");
        for (i, op) in Op::ALL.into_iter().enumerate() {
            s = s.with("resources.ARN", op, [format!("arn:aws:s3:::b{i}/")]);
        }
        let back = Selector::from_sdk(&s.to_sdk().expect("builds"));
        assert_eq!(back, s);
        assert_eq!(back.fields["resources.ARN"].len(), 6);
    }
}
