//! What `plan` says about cost before the first apply: S3 data events on every bucket are the one
//! default whose bill grows with the organization's traffic, not with orgtrail's resources.
use orgtrail::config::{Config, EventScope, TrailMode};

/// AWS CloudTrail pricing (https://aws.amazon.com/cloudtrail/pricing/): data events delivered by a
/// trail, in US dollars per 100,000 events.
pub const DATA_EVENTS_USD_PER_100K: &str = "$0.10";

/// A note when the trail logs S3 data events for every bucket (`buckets = []`), else None.
pub fn data_events(config: &Config) -> Option<String> {
    let trail = &config.trail;
    if trail.s3_data_events == EventScope::None || !trail.s3_data_event_buckets.is_empty() {
        return None;
    }
    let which = match trail.s3_data_events {
        EventScope::Read => "read",
        EventScope::Write => "write",
        _ => "read and write",
    };
    let scope = match trail.mode {
        TrailMode::Organization => "every bucket of every account in the organization, from the first `apply` on, whatever the waves say",
        TrailMode::Account => "every bucket of every targeted account",
    };
    Some(format!(
        "cost: trail.data_events s3 = {:?} with buckets = [] logs S3 {which} data events for {scope}. CloudTrail charges {DATA_EVENTS_USD_PER_100K} \
         per 100,000 data events delivered (https://aws.amazon.com/cloudtrail/pricing/), so a bucket serving 10 million requests a day adds about \
         $10 a day; list the buckets that matter in trail.data_events.buckets, or set s3 = \"write\" or \"none\", to bound it",
        match trail.s3_data_events {
            EventScope::Read => "read",
            EventScope::Write => "write",
            _ => "all",
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_gets_the_note_and_a_bucket_list_does_not() {
        let path = std::path::Path::new("orgtrail.toml");
        let example = orgtrail::config::parse(path, orgtrail::config::EXAMPLE).unwrap();
        let note = data_events(&example).expect("the example logs every bucket");
        assert!(note.contains("$0.10 per 100,000") && note.contains("whatever the waves say"), "{note}");
        let listed = orgtrail::config::EXAMPLE.replace("buckets = []", "buckets = [\"payments-data\"]");
        assert_eq!(data_events(&orgtrail::config::parse(path, &listed).unwrap()), None);
        let none = orgtrail::config::EXAMPLE.replace("s3 = \"all\"", "s3 = \"none\"");
        assert_eq!(data_events(&orgtrail::config::parse(path, &none).unwrap()), None);
    }
}
