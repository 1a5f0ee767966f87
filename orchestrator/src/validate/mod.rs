//! `orgtrail validate-logs`: proves each account x region's CloudTrail record complete and
//! untampered from the trail's signed hourly digests (evidence spec: vocabulary, incremental and
//! sharded validation). Pure parts (digest model, signature, chain, results) are apart from the
//! S3 reads (listing, walker), so each is tested on its own.
pub mod chain;
pub mod digest;
pub mod results;
pub mod signature;
pub mod times;
