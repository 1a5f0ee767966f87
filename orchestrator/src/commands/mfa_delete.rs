//! `orgtrail mfa-delete enable`: MFA Delete on the log and access-log buckets, with the root
//! user's credentials of the log-archive account and its MFA device's current code.
use orgtrail::steps::mfa_delete;

use super::output::{self, outln};
use crate::failure::{Exit, Failure};
use crate::settings::Settings;

pub async fn enable(settings: &Settings, serial: &str, code: &str, bucket: Option<&str>) -> Result<Exit, Failure> {
    let config = settings.config();
    crate::flags::mfa_delete(config, serial, code)?;
    let buckets = mfa_delete::target_buckets(config, bucket).map_err(Failure::bad_input)?;
    let aws = settings.connect_base().await?;
    let outcome = mfa_delete::enable(&aws, config, &buckets, serial, code).await?;
    if settings.output.json {
        output::json(&outcome)?;
    } else {
        outln!("{}", outcome.summary())?;
    }
    Ok(Exit::Ok)
}
