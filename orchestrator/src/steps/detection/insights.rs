//! The `trail-insights` step: the organization trail's Insights selectors (ApiCallRateInsight,
//! ApiErrorRateInsight, per event category), read by GetInsightSelectors and put whole by
//! PutInsightSelectors when they differ (the call replaces the trail's selectors).
use std::collections::BTreeSet;

use aws_sdk_cloudtrail::types::{InsightSelector, InsightType, SourceEventCategory};

use crate::aws::{aws_err, AwsError};
use crate::config::Insights;
use crate::aws::Site;
use crate::steps::support::{in_region, trail_resource};
use crate::steps::{Action, Change, Ctx, Outcome, StepError, StepResult};

pub const STEP: &str = "trail-insights";

/// (insight type, event category) pairs: the canonical form both sides are compared in.
pub fn wanted(i: &Insights) -> BTreeSet<(String, String)> {
    let types = [(i.api_call_rate, "ApiCallRateInsight"), (i.api_error_rate, "ApiErrorRateInsight")];
    types.iter().filter(|(on, _)| *on).flat_map(|(_, t)| i.categories.iter().map(move |c| (t.to_string(), c.clone()))).collect()
}

/// What a trail has. A selector without categories covers management events (CloudTrail's default).
pub fn live(selectors: &[InsightSelector]) -> BTreeSet<(String, String)> {
    selectors
        .iter()
        .filter_map(|s| s.insight_type().map(|t| (t.as_str().to_string(), s.event_categories())))
        .flat_map(|(t, cats)| {
            let cats: Vec<String> = if cats.is_empty() { vec!["Management".into()] } else { cats.iter().map(|c| c.as_str().to_string()).collect() };
            cats.into_iter().map(move |c| (t.clone(), c))
        })
        .collect()
}

fn to_sdk(want: &BTreeSet<(String, String)>) -> Vec<InsightSelector> {
    let types: BTreeSet<&String> = want.iter().map(|(t, _)| t).collect();
    types
        .into_iter()
        .map(|t| {
            let cats = want.iter().filter(|(tt, _)| tt == t).map(|(_, c)| SourceEventCategory::from(c.as_str())).collect();
            InsightSelector::builder().insight_type(InsightType::from(t.as_str())).set_event_categories(Some(cats)).build()
        })
        .collect()
}

/// GetInsightSelectors of the trail; a trail without Insights answers InsightNotEnabledException.
pub async fn read(ct: &aws_sdk_cloudtrail::Client, arn: &str) -> Result<Option<BTreeSet<(String, String)>>, AwsError> {
    match ct.get_insight_selectors().trail_name(arn).send().await.map_err(aws_err("CloudTrail.GetInsightSelectors")) {
        Ok(out) => Ok(Some(live(out.insight_selectors()))),
        Err(e) if e.is_code("InsightNotEnabledException") => Ok(Some(BTreeSet::new())),
        Err(e) if e.is_code("TrailNotFoundException") => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn converge(ctx: &Ctx<'_>) -> StepResult {
    let Some(insights) = &ctx.config.detection.insights else { return Ok(Outcome::default()) };
    let acting = ctx.caller.account.as_str();
    let arn = ctx.trail_arn();
    let resource = format!("{} (Insights)", trail_resource(&arn));
    let ct = ctx.aws.cloudtrail(&in_region(ctx.aws.base(), ctx.home_region()));
    let site = Site::new(acting, ct.config().region(), resource.clone());
    let want = wanted(insights);
    let have = read(&ct, &arn).await.map_err(|e| site.error(e))?;
    let Some(have) = have else {
        if ctx.apply {
            return Err(StepError::refused(acting, resource, "the organization trail does not exist: the org-trail step must run first"));
        }
        return Ok(Outcome { changes: vec![Change::new(resource, Action::Update { fields: vec!["InsightSelectors (after org-trail creates the trail)".into()] })] });
    };
    let mut fields = Vec::new();
    for (t, c) in want.difference(&have) {
        fields.push(format!("{t}/{c} (missing)"));
    }
    for (t, c) in have.difference(&want) {
        fields.push(format!("{t}/{c} (unexpected)"));
    }
    if ctx.apply && !fields.is_empty() {
        ct.put_insight_selectors()
            .trail_name(&arn)
            .set_insight_selectors(Some(to_sdk(&want)))
            .send()
            .await
            .map_err(site.fail("CloudTrail.PutInsightSelectors"))?;
    }
    Ok(Outcome { changes: vec![Change::update(resource, fields)] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_defaults_to_management() {
        let i = Insights { api_call_rate: true, api_error_rate: true, categories: vec!["Data".into(), "Management".into()] };
        let want = wanted(&i);
        assert_eq!(want.len(), 4);
        assert_eq!(live(&to_sdk(&want)), want);
        let bare = InsightSelector::builder().insight_type(InsightType::ApiCallRateInsight).build();
        assert_eq!(live(&[bare]), BTreeSet::from([("ApiCallRateInsight".to_string(), "Management".to_string())]));
    }
}
