//! The flags whose values only the config (or their own form) can judge, checked before the first
//! AWS call: a wrong value exits 2 with nothing written, naming the flag and the values it takes.
//! What needs the organization (an account that is not in it, or no wave targets) is checked by
//! the library once discovery has run, still before the first write (`orgtrail::selection`).
use std::path::Path;

use clap::ValueEnum;
use orgtrail::config::Config;
use orgtrail::selection::{self, parse_accounts};
use orgtrail::verify::render::Format;

use crate::cli::ApplyArgs;
use crate::failure::Failure;
use crate::settings::{Settings, StateLocation};

/// `apply --wave/--accounts`: the wave is the config's, the account ids have their form. With
/// shared state, the lock in S3 (and the state bucket, the first time) is written before the run
/// is opened, where the accounts are checked: so `--accounts` is checked against the organization
/// here first, with a discovery of its own (reads only, and only when the flag is given).
pub async fn apply(settings: &Settings, args: &ApplyArgs) -> Result<(), Failure> {
    let config = settings.config();
    let accounts = args.accounts.as_deref().map(parse_accounts);
    selection::check_names(config, &settings.config_path.display().to_string(), args.wave.as_deref(), accounts.as_deref())?;
    if let (StateLocation::Remote { .. }, Some(accounts)) = (&settings.state, &accounts) {
        let aws = settings.connect_base().await?;
        let inventory = orgtrail::rollout::inventory(&aws, config, &settings.config_path).await?;
        let plan = orgtrail::plan::plan(config, &inventory, &settings.config_path)?;
        selection::check_plan(&plan, &inventory, args.wave.as_deref(), Some(accounts))?;
    }
    Ok(())
}

/// `mfa-delete enable`: the code has six digits, the serial is an MFA device's (an IAM ARN of the
/// log-archive account, where the root user's device lives, or a hardware device's serial).
pub fn mfa_delete(config: &Config, serial: &str, code: &str) -> Result<(), Failure> {
    // S3 would refuse a malformed code only after the first bucket's call; say so before any.
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Failure::bad_input("--mfa-code: expected the MFA device's current 6-digit code"));
    }
    let account = &config.log_archive.account;
    let partition = config.partition();
    let expected = format!("arn:{partition}:iam::{account}:mfa/root-account-mfa-device");
    if let Some(rest) = serial.strip_prefix("arn:") {
        let fields: Vec<&str> = rest.splitn(5, ':').collect();
        let ok = match fields.as_slice() {
            [p, "iam", "", acct, resource] => *p == partition && acct == account && resource.strip_prefix("mfa/").is_some_and(|n| !n.is_empty() && n.chars().all(serial_char)),
            _ => false,
        };
        if !ok {
            return Err(Failure::bad_input(format!(
                "--mfa-serial {serial}: not an MFA device of the log-archive account {account} (log_archive.account); expected {expected} (or the device's own ARN in that account, or a hardware device's serial)"
            )));
        }
        return Ok(());
    }
    // IAM's SerialNumber: 9 to 256 characters of [\w+=/:,.@-].
    if !(9..=256).contains(&serial.len()) || !serial.chars().all(serial_char) {
        return Err(Failure::bad_input(format!("--mfa-serial {serial:?}: not an MFA device serial; expected {expected} (a virtual device) or a hardware device's serial (9 to 256 characters of letters, digits and +=/:,.@_-)")));
    }
    Ok(())
}

fn serial_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=/:,.@-".contains(c)
}

/// `verify --output json`: a format's name is almost certainly meant for `--format`, not a file
/// named `json` in the current directory.
pub fn verify_output(output: Option<&Path>) -> Result<(), Failure> {
    let Some(path) = output else { return Ok(()) };
    let name = path.to_string_lossy();
    if let Some(format) = Format::value_variants().iter().filter_map(|f| f.to_possible_value()).find(|v| v.matches(&name, true)) {
        let f = format.get_name();
        return Err(Failure::bad_input(format!("--output {name}: a format's name, not a file; did you mean --format {f}?"))
            .with_hint(format!("`--format {f}` prints it on stdout; `--format {f} --output report.{f}` writes it to a file")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        orgtrail::config::parse(Path::new("orgtrail.toml"), orgtrail::config::EXAMPLE).unwrap()
    }

    #[test]
    fn mfa_serials_of_the_log_archive_account_or_hardware_pass() {
        let c = config();
        let account = &c.log_archive.account;
        assert!(mfa_delete(&c, &format!("arn:aws:iam::{account}:mfa/root-account-mfa-device"), "123456").is_ok());
        assert!(mfa_delete(&c, "GAHT12345678", "123456").is_ok());
        for bad in ["arn:aws:iam::999999999999:mfa/root-account-mfa-device", "arn:aws:iam::12:mfa/x", "arn:aws:s3:::bucket", "short", "has space in it"] {
            let e = mfa_delete(&c, bad, "123456").unwrap_err();
            assert_eq!(e.code(), 2, "{bad}");
            assert!(e.message().contains("--mfa-serial"), "{}", e.message());
        }
    }

    #[test]
    fn a_format_name_as_output_is_refused_with_the_format_flag() {
        let e = verify_output(Some(Path::new("json"))).unwrap_err();
        assert!(e.message().contains("did you mean --format json?"), "{}", e.message());
        assert!(verify_output(Some(Path::new("report.json"))).is_ok());
        assert!(verify_output(Some(Path::new("SARIF"))).is_err());
    }
}
