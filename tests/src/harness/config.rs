//! Typed, structural edits of an orgtrail.toml. `toml_edit` keeps the rest of the file as it was
//! written (comments, order, line numbers); each edit says what it expects to find and panics,
//! naming the key, when the file is not like that, so an edit never silently does nothing.
//!
//! Keys are dotted paths; `wave[canary]` is the `[[wave]]` whose `name` is `canary`:
//! `ConfigEdit::sandbox(&org).mfa_delete(false).set("wave[canary].accounts", toml_array(ids))`.
use std::path::Path;

use toml_edit::{DocumentMut, Item, Table, TableLike, Value};

use crate::SeededOrg;

const DETECTION: &str = r#"
[trail.cloudwatch_logs]
retention_days = 365

[trail.insights]
api_call_rate = true
api_error_rate = true

[trail.network_events]
sources = ["kms.amazonaws.com", "s3.amazonaws.com"]

[monitoring]
alarms = "cis"
sns_topic = "orgtrail-alarms"

[protection]
scp = true
"#;

/// An orgtrail.toml being edited; `text()`, `config()` or `write()` when done.
#[derive(Clone)]
pub struct ConfigEdit {
    doc: DocumentMut,
}

impl ConfigEdit {
    /// The sandbox's generated config for `org` (`crate::sandbox_config`).
    pub fn sandbox(org: &SeededOrg) -> ConfigEdit {
        ConfigEdit::parse(&crate::sandbox_config(org))
    }

    pub fn parse(text: &str) -> ConfigEdit {
        let doc = text.parse().unwrap_or_else(|e| panic!("config to edit is not TOML: {e}\n{text}"));
        ConfigEdit { doc }
    }

    pub fn read(path: &Path) -> ConfigEdit {
        ConfigEdit::parse(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display())))
    }

    pub fn text(&self) -> String {
        self.doc.to_string()
    }

    /// The edited text loaded as orgtrail loads a file named `orgtrail.toml`.
    pub fn config(&self) -> orgtrail::config::Config {
        let text = self.text();
        orgtrail::config::parse(Path::new("orgtrail.toml"), &text).unwrap_or_else(|e| panic!("the edited config does not load: {e}\n{text}"))
    }

    pub fn write(&self, path: &Path) {
        std::fs::write(path, self.text()).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }

    /// Changes a key the config already has (its value's spacing kept).
    pub fn set(mut self, key: &str, value: impl Into<Value>) -> ConfigEdit {
        let (parent, name) = split(key);
        let text = self.text();
        let table = self.table(&parent, false, key);
        let Some(Item::Value(old)) = table.get_mut(name) else { panic!("config edit `{key}`: no such key to change in\n{text}") };
        let mut new = value.into();
        *new.decor_mut() = old.decor().clone();
        *old = new;
        self
    }

    /// Adds a key the config does not have yet, and the tables on its way that are missing.
    pub fn add(mut self, key: &str, value: impl Into<Value>) -> ConfigEdit {
        let (parent, name) = split(key);
        let text = self.text();
        let table = self.table(&parent, true, key);
        assert!(!table.contains_key(name), "config edit `{key}`: already set in\n{text}");
        table.insert(name, Item::Value(value.into()));
        self
    }

    pub fn remove(mut self, key: &str) -> ConfigEdit {
        let (parent, name) = split(key);
        let text = self.text();
        assert!(self.table(&parent, false, key).remove(name).is_some(), "config edit `{key}`: no such key to remove in\n{text}");
        self
    }

    /// Removes `item` from the array of strings at `key`.
    pub fn remove_item(mut self, key: &str, item: &str) -> ConfigEdit {
        let (parent, name) = split(key);
        let text = self.text();
        let array = self.table(&parent, false, key).get_mut(name).and_then(Item::as_array_mut);
        let array = array.unwrap_or_else(|| panic!("config edit `{key}`: no such array in\n{text}"));
        let before = array.len();
        array.retain(|v| v.as_str() != Some(item));
        array.fmt();
        assert_eq!(array.len() + 1, before, "config edit `{key}`: {item:?} is not in the array once, in\n{text}");
        self
    }

    /// Adds every key of a TOML fragment (`[trail.insights]\napi_call_rate = true`), merging tables
    /// the config has; a key the config already sets is refused.
    pub fn merge(mut self, fragment: &str) -> ConfigEdit {
        let extra: DocumentMut = fragment.parse().unwrap_or_else(|e| panic!("config fragment is not TOML: {e}\n{fragment}"));
        let text = self.text();
        merge_into(self.doc.as_table_mut(), extra.as_table(), "", &text);
        self
    }

    /// The string at `key`.
    pub fn get_str(&self, key: &str) -> String {
        let (parent, name) = split(key);
        let mut doc = self.clone();
        let value = doc.table(&parent, false, key).get(name).and_then(Item::as_str).map(str::to_string);
        value.unwrap_or_else(|| panic!("config edit `{key}`: no such string in\n{}", self.text()))
    }

    // ---- The edits tests make most, by the names the config uses ----

    /// Every detection block on (issue 15): CloudWatch Logs, Insights, network activity events,
    /// the CIS alarms on an SNS topic and the tamper-protection SCP.
    pub fn detection(self) -> ConfigEdit {
        self.merge(DETECTION)
    }

    pub fn mfa_delete(self, on: bool) -> ConfigEdit {
        self.set("log_archive.mfa_delete", on)
    }

    pub fn home_region(self, region: &str) -> ConfigEdit {
        self.set("organization.home_region", region)
    }

    pub fn delegated_admin(self, account: &str) -> ConfigEdit {
        self.add("organization.delegated_admin_account", account)
    }

    pub fn admin_roles<S: AsRef<str>>(self, roles: impl IntoIterator<Item = S>) -> ConfigEdit {
        self.set("log_archive.admin_roles", toml_array(roles))
    }

    pub fn trail_name(self, name: &str) -> ConfigEdit {
        self.set("trail.name", name)
    }

    /// `[trail] mode`: "organization" (the default) or "account".
    pub fn trail_mode(self, mode: &str) -> ConfigEdit {
        self.add("trail.mode", mode)
    }

    /// `[trail] legacy_trails`: "keep" (the default), "stop" or "delete".
    pub fn legacy_trails(self, action: &str) -> ConfigEdit {
        self.add("trail.legacy_trails", action)
    }

    /// The table at the dotted path `path` (`create`: making the missing ones).
    fn table(&mut self, path: &[&str], create: bool, key: &str) -> &mut dyn TableLike {
        let mut table: &mut dyn TableLike = self.doc.as_table_mut();
        for segment in path {
            let (name, pick) = match segment.split_once('[') {
                Some((name, rest)) => (name, Some(rest.strip_suffix(']').unwrap_or_else(|| panic!("config edit `{key}`: `{segment}` lacks its `]`")))),
                None => (*segment, None),
            };
            if create && pick.is_none() && !table.contains_key(name) {
                table.insert(name, Item::Table(Table::new()));
            }
            let item = table.get_mut(name).unwrap_or_else(|| panic!("config edit `{key}`: the config has no `{name}`"));
            table = match pick {
                Some(wanted) => {
                    let tables = item.as_array_of_tables_mut().unwrap_or_else(|| panic!("config edit `{key}`: `{name}` is not an array of tables"));
                    tables.iter_mut().find(|t| t.get("name").and_then(Item::as_str) == Some(wanted)).unwrap_or_else(|| panic!("config edit `{key}`: no [[{name}]] named {wanted:?}"))
                }
                None => item.as_table_like_mut().unwrap_or_else(|| panic!("config edit `{key}`: `{name}` is not a table")),
            };
        }
        table
    }
}

/// A TOML array of strings, for `set` and `add`.
pub fn toml_array<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Value {
    Value::from_iter(items.into_iter().map(|s| s.as_ref().to_string()))
}

/// `a.b.c` → (["a", "b"], "c").
fn split(key: &str) -> (Vec<&str>, &str) {
    let mut parts: Vec<&str> = key.split('.').collect();
    let name = parts.pop().expect("split yields at least one part");
    (parts, name)
}

fn merge_into(into: &mut dyn TableLike, from: &dyn TableLike, path: &str, text: &str) {
    for (key, item) in from.iter() {
        let here = if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
        match (into.get_mut(key).and_then(Item::as_table_like_mut), item.as_table_like()) {
            (Some(existing), Some(sub)) => merge_into(existing, sub, &here, text),
            _ => {
                assert!(!into.contains_key(key), "config merge: `{here}` is already set in\n{text}");
                let mut item = item.clone();
                unposition(&mut item);
                into.insert(key, item);
            }
        }
    }
}

/// A table taken from a fragment loses the fragment's position, so it prints after its parent.
fn unposition(item: &mut Item) {
    match item {
        Item::Table(t) => {
            t.set_position(None);
            t.iter_mut().for_each(|(_, v)| unposition(v));
        }
        Item::ArrayOfTables(a) => a.iter_mut().for_each(|t| t.set_position(None)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# a comment\n[organization]\nhome_region = \"us-east-1\"\n\n[log_archive]\nmfa_delete = true\nadmin_roles = [\"a\", \"b\"]\n\n[trail]\nname = \"t\"\n\n[[wave]]\nname = \"canary\"\naccounts = [\"1\"]\n\n[[wave]]\nname = \"rest\"\nremaining = true\n";

    #[test]
    fn edits_keep_the_rest_of_the_file_and_its_line_numbers() {
        let text = ConfigEdit::parse(TEXT).home_region("eu-west-1").mfa_delete(false).add("wave[canary].max_concurrency", 1i64).text();
        assert!(text.starts_with("# a comment\n[organization]\nhome_region = \"eu-west-1\"\n"), "{text}");
        assert!(text.contains("mfa_delete = false\n") && text.contains("name = \"canary\"\naccounts = [\"1\"]\nmax_concurrency = 1\n"), "{text}");
        let text = ConfigEdit::parse(TEXT).remove_item("log_archive.admin_roles", "a").remove("trail.name").add("state.url", "s3://b/p").text();
        assert!(text.contains("admin_roles = [\"b\"]") && !text.contains("name = \"t\"") && text.contains("[state]\nurl = \"s3://b/p\""), "{text}");
    }

    #[test]
    fn merged_tables_print_under_their_parent() {
        let text = ConfigEdit::parse(TEXT).merge("[trail.insights]\napi_call_rate = true\n[trail]\nmode = \"account\"\n[monitoring]\nalarms = \"cis\"\n").text();
        let (trail, waves) = text.split_once("[[wave]]").unwrap();
        assert!(trail.contains("[trail]\nname = \"t\"\nmode = \"account\"\n") && trail.contains("[trail.insights]\napi_call_rate = true"), "{text}");
        assert!(waves.contains("[monitoring]"), "{text}");
        let parsed: DocumentMut = text.parse().unwrap();
        assert_eq!(parsed["trail"]["insights"]["api_call_rate"].as_bool(), Some(true));
    }

    #[test]
    #[should_panic(expected = "config edit `log_archive.mfa_delet`: no such key to change")]
    fn changing_a_key_the_config_lacks_panics() {
        ConfigEdit::parse(TEXT).set("log_archive.mfa_delet", false);
    }

    #[test]
    #[should_panic(expected = "config edit `trail.name`: already set")]
    fn adding_a_key_the_config_has_panics() {
        ConfigEdit::parse(TEXT).add("trail.name", "x");
    }

    #[test]
    #[should_panic(expected = "no [[wave]] named \"sandbox\"")]
    fn an_unknown_wave_panics() {
        ConfigEdit::parse(TEXT).set("wave[sandbox].accounts", toml_array(["1"]));
    }

    #[test]
    #[should_panic(expected = "\"c\" is not in the array once")]
    fn removing_an_absent_item_panics() {
        ConfigEdit::parse(TEXT).remove_item("log_archive.admin_roles", "c");
    }

    #[test]
    #[should_panic(expected = "config merge: `trail.name` is already set")]
    fn merging_over_a_set_key_panics() {
        ConfigEdit::parse(TEXT).merge("[trail]\nname = \"other\"\n");
    }
}
