//! The trail's delivery topic (`[trail] sns_topic`): a topic apply created is tagged with the
//! trail it serves (`TRAIL_TAG`), and that one is orgtrail's to delete, but only once the trail no
//! longer names it: after `--stop-trail` deleted the trail (this item comes after the trail's), or
//! when the trail is already gone. A topic without the tag (the operator's, shared, or made before
//! orgtrail tagged its topics) is kept, as is one the trail still publishes to.
use super::{Item, Work};
use crate::aws::Site;
use crate::config::TrailMode;
use crate::steps::support::in_region;
use crate::steps::trail::topic::{self, TRAIL_TAG};
use crate::steps::{absent, Ctx, StepError};

/// What becomes of the organization trail in this removal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrailFate {
    /// Kept (no `--stop-trail`) or refused: it still publishes to the topic.
    Stays,
    /// Stopped and deleted by an earlier item of this removal.
    Goes,
    /// Not there (an earlier `remove --stop-trail`, or never created).
    Gone,
}

pub async fn observe(ctx: &Ctx<'_>, fate: TrailFate) -> Result<Vec<Item>, StepError> {
    let Some(name) = ctx.config.trail.sns_topic.as_deref() else { return Ok(Vec::new()) };
    // In account mode each account's trail keeps its topic: removed per account, by hand, with it.
    if ctx.config.trail.mode != TrailMode::Organization {
        return Ok(Vec::new());
    }
    // The topic lives in the account that acts on the trail (steps/trail/topic.rs): the caller's.
    let account = ctx.caller.account.as_str();
    let arn = topic::arn(ctx, account, name);
    let resource = format!("sns-topic {arn} (the trail's delivery topic)");
    let sns = ctx.aws.sns(&in_region(ctx.aws.base(), ctx.home_region()));
    let site = Site::new(account, sns.config().region(), resource.clone());
    if absent(sns.get_topic_attributes().topic_arn(&arn).send().await.map_err(site.fail("SNS.GetTopicAttributes")), &["NotFound"])?.is_none() {
        return Ok(Vec::new());
    }
    if fate == TrailFate::Stays {
        return Ok(vec![Item::keep(account, resource, "the trail still publishes to it: `remove --stop-trail` deletes it after the trail")]);
    }
    let tags = sns.list_tags_for_resource().resource_arn(&arn).send().await.map_err(site.fail("SNS.ListTagsForResource"))?;
    let trail = ctx.trail_arn();
    let ours = tags.tags().iter().any(|t| t.key() == TRAIL_TAG && t.value() == trail);
    Ok(vec![if ours {
        Item::remove(account, resource, Work::DeleteTrailTopic { arn })
    } else {
        Item::keep(account, resource, format!("not tagged {TRAIL_TAG} = {trail}: not created by orgtrail's apply (or before it tagged its topics), so not orgtrail's to delete"))
    }])
}
