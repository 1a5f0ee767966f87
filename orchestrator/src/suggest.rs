//! "did you mean …?" for names the config gives that the organization does not have (an OU path
//! or account id in a wave): the closest existing name by edit distance, if it is close enough
//! to be a typo.
use strsim::{jaro_winkler, levenshtein};

/// `"; did you mean /Workloads/Prod?"`, or `""` when nothing is close.
pub fn did_you_mean<'a>(given: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    closest(given, known).map(|c| format!("; did you mean {c}?")).unwrap_or_default()
}

/// The known name nearest to `given`: a small edit distance (a third of the length at most, so
/// `/Workloads/Prd` finds `/Workloads/Prod` but `/Sandbox` finds nothing in `/Workloads/Prod`),
/// ties broken by the more similar start (Jaro-Winkler), then by name.
pub fn closest<'a>(given: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (given.chars().count() / 3).max(1);
    known
        .into_iter()
        .filter(|k| *k != given)
        .map(|k| (levenshtein(given, k), k))
        .filter(|(d, _)| *d <= limit)
        .min_by(|(da, a), (db, b)| da.cmp(db).then(jaro_winkler(given, b).total_cmp(&jaro_winkler(given, a))).then(a.cmp(b)))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_typo_and_nothing_for_a_stranger() {
        let ous = ["Root", "/Workloads", "/Workloads/Prod", "/Workloads/Dev", "/Security"];
        assert_eq!(closest("/Workloads/Prd", ous), Some("/Workloads/Prod"));
        assert_eq!(closest("/workloads/prod", ous), Some("/Workloads/Prod"));
        assert_eq!(closest("/Sandbox", ous), None);
        assert_eq!(did_you_mean("/Securty", ous), "; did you mean /Security?");
        assert_eq!(closest("111111111112", ["111111111111", "222222222222"]), Some("111111111111"));
    }
}
