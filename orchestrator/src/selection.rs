//! What `apply --wave/--accounts` select, checked before anything is written: a typo in a flag
//! must never start a rollout of the whole organization. The names are checked against the config
//! before the first AWS call (`check_names`); the accounts against the organization and the plan
//! once discovery has run and before the run is opened (`check_plan`).
use crate::config::Config;
use crate::discovery::Inventory;
use crate::plan::Plan;
use crate::suggest::closest;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SelectionError {
    #[error("--wave {given}: no such wave in {path}{suggestion}; the waves are: {known}")]
    UnknownWave { given: String, path: String, suggestion: String, known: String },
    #[error("--accounts: no account id given; expected comma-separated 12-digit account ids")]
    NoAccounts,
    #[error("--accounts {given:?}: not an account id; expected comma-separated 12-digit account ids")]
    MalformedAccount { given: String },
    #[error("--accounts {given}: not an account of organization {organization}{suggestion}")]
    NotInOrganization { given: String, organization: String, suggestion: String },
    #[error("--accounts {given}: {why}; the accounts {scope} are: {known}")]
    NotTargeted { given: String, why: String, scope: String, known: String },
}

impl crate::exit::Classify for SelectionError {
    fn exit_class(&self) -> crate::exit::ExitClass {
        crate::exit::ExitClass::BadInput
    }
}

/// Whether `id` has the form of an AWS account id: exactly 12 digits.
pub fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// `--accounts a,b`: the ids, trimmed, empty items dropped.
pub fn parse_accounts(list: &str) -> Vec<String> {
    list.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

/// Before any AWS call: the wave exists in the config, every account id has an account id's form.
pub fn check_names(config: &Config, config_path: &str, only_wave: Option<&str>, only_accounts: Option<&[String]>) -> Result<(), SelectionError> {
    if let Some(wave) = only_wave {
        let names: Vec<&str> = config.waves.iter().map(|w| w.name.as_str()).collect();
        if !names.contains(&wave) {
            return Err(SelectionError::UnknownWave { given: wave.into(), path: config_path.into(), suggestion: suggest(wave, names.iter().copied()), known: names.join(", ") });
        }
    }
    if let Some(accounts) = only_accounts {
        if accounts.is_empty() {
            return Err(SelectionError::NoAccounts);
        }
        if let Some(bad) = accounts.iter().find(|a| !is_account_id(a)) {
            return Err(SelectionError::MalformedAccount { given: bad.clone() });
        }
    }
    Ok(())
}

/// After discovery, before the run opens: the wave is one the plan has (a resumed run keeps the
/// plan it started with), every account is in the organization and targeted by the waves selected.
pub fn check_plan(plan: &Plan, inventory: &Inventory, only_wave: Option<&str>, only_accounts: Option<&[String]>) -> Result<(), SelectionError> {
    if let Some(wave) = only_wave {
        if !plan.waves.iter().any(|w| w.name == wave) {
            let names: Vec<&str> = plan.waves.iter().map(|w| w.name.as_str()).collect();
            return Err(SelectionError::UnknownWave { given: wave.into(), path: "the run's plan".into(), suggestion: suggest(wave, names.iter().copied()), known: names.join(", ") });
        }
    }
    let Some(accounts) = only_accounts else { return Ok(()) };
    let org = &inventory.organization;
    for id in accounts {
        let known = inventory.account(id).is_some() || inventory.skipped.iter().any(|s| s.account.id == *id) || *id == org.management_account;
        if !known {
            let ids = inventory.accounts.iter().map(|a| a.id.as_str());
            return Err(SelectionError::NotInOrganization { given: id.clone(), organization: org.id.clone(), suggestion: suggest(id, ids) });
        }
        let targeted = match only_wave {
            Some(w) => plan.waves.iter().find(|p| p.name == w).is_some_and(|p| p.accounts.contains(id)),
            None => plan.wave_of(id).is_some(),
        };
        if targeted {
            continue;
        }
        let why = match (plan.wave_of(id), plan.untargeted.iter().find(|u| u.account == *id)) {
            (Some(other), _) => format!("in wave {}, not in wave {}", other.name, only_wave.unwrap_or_default()),
            (None, Some(u)) => format!("not targeted by any wave ({})", u.reason),
            (None, None) if *id == org.management_account => "the management account is not a member target (the central steps run there)".into(),
            (None, None) => "not targeted by any wave".into(),
        };
        let (scope, known): (String, Vec<&str>) = match only_wave.and_then(|w| plan.waves.iter().find(|p| p.name == w)) {
            Some(p) => (format!("of wave {}", p.name), p.accounts.iter().map(String::as_str).collect()),
            None => ("the waves target".into(), plan.waves.iter().flat_map(|p| p.accounts.iter().map(String::as_str)).collect()),
        };
        return Err(SelectionError::NotTargeted { given: id.clone(), why, scope, known: abbreviated(&known) });
    }
    Ok(())
}

/// ` (did you mean canary?)`, or nothing when no name is close.
fn suggest<'a>(given: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    closest(given, known).map(|c| format!(" (did you mean {c}?)")).unwrap_or_default()
}

/// At most ten ids, then how many more: an organization of 10,000 accounts is not an error message.
fn abbreviated(ids: &[&str]) -> String {
    match ids.len() {
        0 => "none".into(),
        n if n <= 10 => ids.join(", "),
        n => format!("{} and {} more (`orgtrail plan` lists them)", ids[..10].join(", "), n - 10),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_have_twelve_digits() {
        assert!(is_account_id("123456789012"));
        assert!(!is_account_id("123"));
        assert!(!is_account_id("12345678901a"));
        assert_eq!(parse_accounts(" 1, ,2,"), vec!["1", "2"]);
        assert_eq!(abbreviated(&["1"; 12]).matches("and 2 more").count(), 1);
    }
}
