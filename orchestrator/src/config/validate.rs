//! Raw TOML → validated `Config`. The first error found is returned, pointing at its span.
use std::ops::Range;
use std::path::Path;

use super::error::ConfigError;
use super::model::*;
use super::raw::*;
use super::rules;

pub(super) struct Checker<'a> {
    pub path: &'a Path,
    pub source: &'a str,
}

type R<T> = Result<T, ConfigError>;

impl Checker<'_> {
    pub(super) fn err(&self, span: Range<usize>, msg: impl Into<String>) -> ConfigError {
        ConfigError::at(self.path, self.source, Some(span), msg)
    }

    pub(super) fn check(&self, v: &S<String>, rule: impl Fn(&str) -> Result<(), String>) -> R<String> {
        rule(v.get_ref()).map_err(|m| self.err(v.span(), m))?;
        Ok(v.get_ref().clone())
    }

    fn int(&self, v: &Option<S<i64>>, default: i64, range: Range<i64>, what: &str) -> R<i64> {
        let Some(v) = v else { return Ok(default) };
        let n = *v.get_ref();
        if range.contains(&n) {
            Ok(n)
        } else {
            Err(self.err(v.span(), format!("{what} must be between {} and {}, got {n}", range.start, range.end - 1)))
        }
    }

    pub(super) fn choice<T: Copy>(&self, v: &Option<S<String>>, default: T, choices: &[(&str, T)], what: &str) -> R<T> {
        let Some(v) = v else { return Ok(default) };
        choices.iter().find(|(name, _)| name == v.get_ref()).map(|(_, t)| *t).ok_or_else(|| {
            let names: Vec<String> = choices.iter().map(|(n, _)| format!("\"{n}\"")).collect();
            self.err(v.span(), format!("`{}` is not a valid {what}: expected one of {}", v.get_ref(), names.join(", ")))
        })
    }

    pub fn config(&self, raw: RawConfig) -> R<Config> {
        let organization = self.organization(&raw.organization)?;
        let partition = organization.partition.clone();
        let access = self.access(&raw.access)?;
        let log_archive = self.log_archive(&raw.log_archive, &partition)?;
        let trail = self.trail(&raw.trail, &partition)?;
        let exclude_accounts = raw.exclude_accounts.iter().map(|a| self.check(a, rules::account_id)).collect::<R<_>>()?;
        let exclude_ous = raw.exclude_ous.iter().map(|o| self.check(o, rules::ou_selector)).collect::<R<_>>()?;
        let waves = self.waves(&raw.waves)?;
        let state = StateConfig {
            url: match &raw.state.url {
                Some(u) => Some(self.check(u, state_url)?),
                None => None,
            },
            checkpoint_interval_seconds: self.int(&raw.state.checkpoint_interval_seconds, 30, 1..86_401, "state.checkpoint_interval_seconds")? as u32,
        };
        let detection = super::detection::detection(
            self,
            super::detection::RawDetection {
                cloudwatch_logs: raw.trail.cloudwatch_logs.as_ref(),
                insights: raw.trail.insights.as_ref(),
                network_events: raw.trail.network_events.as_ref(),
                monitoring: raw.monitoring.as_ref(),
                protection: raw.protection.as_ref(),
                s3_data_events: trail.s3_data_events,
                organization_mode: trail.mode == TrailMode::Organization,
            },
            trail.cloudwatch_logs.as_ref(),
        )?;
        let verify = super::verify::verify(self, raw.verify.as_ref())?;
        Ok(Config { organization, access, log_archive, trail, exclude_accounts, exclude_ous, waves, state, detection, verify })
    }

    fn organization(&self, raw: &RawOrganization) -> R<Organization> {
        let partition = match &raw.partition {
            Some(p) => self.check(p, rules::partition)?,
            None => crate::aws::partition_of(raw.home_region.get_ref()).to_string(),
        };
        let home_region = self.check(&raw.home_region, |r| rules::region(r, &partition))?;
        let opt = |v: &Option<S<String>>, rule: fn(&str) -> Result<(), String>| v.as_ref().map(|v| self.check(v, rule)).transpose();
        Ok(Organization {
            home_region,
            partition,
            id: opt(&raw.id, rules::org_id)?,
            management_account: opt(&raw.management_account, rules::account_id)?,
            delegated_admin_account: opt(&raw.delegated_admin_account, rules::account_id)?,
        })
    }

    fn access(&self, raw: &RawAccess) -> R<Access> {
        let external_id = match &raw.external_id {
            // STS: 2-1224 characters of [\w+=,.@:/-]. The value itself is never echoed.
            Some(v) if !(2..=1224).contains(&v.get_ref().len()) || !v.get_ref().bytes().all(|b| b.is_ascii_alphanumeric() || b"_+=,.@:/-".contains(&b)) => {
                return Err(self.err(v.span(), "access.external_id must be 2 to 1224 characters of letters, digits or `_+=,.@:/-`"));
            }
            v => v.as_ref().map(|v| v.get_ref().clone()),
        };
        Ok(Access {
            role_name: match &raw.role_name {
                Some(r) => self.check(r, rules::role_name)?,
                None => DEFAULT_ROLE_NAME.to_string(),
            },
            external_id,
            session_duration_seconds: self.int(&raw.session_duration_seconds, 3600, 900..43_201, "access.session_duration_seconds")? as i32,
            max_concurrency: self.int(&raw.max_concurrency, 32, 1..1025, "access.max_concurrency")? as usize,
            organizations_calls_per_second: self.int(&raw.organizations_calls_per_second, 10, 1..1001, "access.organizations_calls_per_second")? as u32,
        })
    }

    fn log_archive(&self, raw: &RawLogArchive, partition: &str) -> R<LogArchive> {
        let account = self.check(&raw.account, rules::account_id)?;
        let bucket = self.check(&raw.bucket, rules::bucket_name)?;
        let access_log_bucket = match &raw.access_log_bucket {
            Some(b) => self.check(b, rules::bucket_name)?,
            None => default_access_log_bucket(&bucket),
        };
        if access_log_bucket == bucket {
            let span = raw.access_log_bucket.as_ref().map_or(raw.bucket.span(), |b| b.span());
            return Err(self.err(span, "log_archive.access_log_bucket must differ from log_archive.bucket (S3 must not log a bucket into itself)"));
        }
        let role_arns = |list: &[S<String>]| list.iter().map(|r| self.check(r, |s| rules::role_arn(s, partition))).collect::<R<Vec<_>>>();
        if raw.admin_roles.is_empty() {
            return Err(self.err(
                raw.account.span(),
                "log_archive.admin_roles must list at least one role ARN: the bucket policy denies policy, versioning and \
                 lifecycle changes to everyone else, and the role orgtrail runs as must be among them or it locks itself out",
            ));
        }
        let kms_alias = match &raw.kms_alias {
            Some(a) => self.check(a, rules::kms_alias)?,
            None => "alias/orgtrail".to_string(),
        };
        let access_log_kms_alias = self.access_log_key(raw, &kms_alias)?;
        let mfa_delete = raw.mfa_delete.as_ref().is_none_or(|m| *m.get_ref());
        let object_lock = raw.object_lock.as_ref().map(|o| self.object_lock(o)).transpose()?;
        let lifecycle = match &raw.lifecycle {
            Some(l) if l.get_ref().enabled => Some((self.lifecycle(l.get_ref())?, l.span())),
            _ => None,
        };
        if let (Some((_, span)), true) = (&lifecycle, mfa_delete) {
            return Err(self.err(
                span.clone(),
                "log_archive.lifecycle cannot be combined with log_archive.mfa_delete = true: S3 does not support \
                 lifecycle configuration on a bucket with MFA Delete enabled (it refuses PutBucketLifecycleConfiguration, \
                 and MFA Delete cannot be turned on while lifecycle rules exist). Choose one:\n  \
                 1. keep logs forever with MFA Delete: remove [log_archive.lifecycle] (or set enabled = false), or\n  \
                 2. expire logs with lifecycle and make them immutable with Object Lock: set mfa_delete = false and add \
                 object_lock = { mode = \"COMPLIANCE\", retention_days = 365 }",
            ));
        }
        Ok(LogArchive {
            account,
            bucket,
            prefix: raw.prefix.as_ref().map(|p| self.check(p, rules::log_prefix)).transpose()?,
            access_log_bucket,
            access_logging: raw.access_logging.unwrap_or(true),
            access_log_kms_alias,
            kms_alias,
            reader_roles: role_arns(&raw.reader_roles)?,
            admin_roles: role_arns(&raw.admin_roles)?,
            mfa_delete,
            object_lock,
            lifecycle: lifecycle.map(|(l, _)| l),
            tags: raw.tags.iter().map(|(k, v)| (k.clone(), v.get_ref().clone())).collect(),
        })
    }

    /// `access_log_encryption` ("sse-s3", the default, or "sse-kms") and, with "sse-kms", the alias of
    /// the access-log key (default `<kms_alias>-access-logs`). S3 log delivery cannot use the AWS
    /// managed aws/s3 key, and sharing the CloudTrail key would mix two key policies in one.
    fn access_log_key(&self, raw: &RawLogArchive, kms_alias: &str) -> R<Option<String>> {
        let kms = self.choice(&raw.access_log_encryption, false, &[("sse-s3", false), ("sse-kms", true)], "access-log bucket encryption")?;
        match (&raw.access_log_kms_alias, kms) {
            (Some(a), false) => Err(self.err(
                a.span(),
                "log_archive.access_log_kms_alias is only used with access_log_encryption = \"sse-kms\": set that too, or remove the alias",
            )),
            (None, false) => Ok(None),
            (None, true) => Ok(Some(format!("{kms_alias}-access-logs"))),
            (Some(a), true) => {
                let alias = self.check(a, rules::kms_alias)?;
                if alias == kms_alias {
                    return Err(self.err(
                        a.span(),
                        "log_archive.access_log_kms_alias must differ from log_archive.kms_alias: the access-log key has its own \
                         key policy (S3 log delivery), the CloudTrail key keeps its least-privilege one",
                    ));
                }
                Ok(Some(alias))
            }
        }
    }

    fn object_lock(&self, raw: &S<RawObjectLock>) -> R<ObjectLock> {
        let raw = raw.get_ref();
        let mode = self.choice(&Some(raw.mode.clone()), ObjectLockMode::Governance, &[("GOVERNANCE", ObjectLockMode::Governance), ("COMPLIANCE", ObjectLockMode::Compliance)], "object lock mode")?;
        let days = self.int(&Some(raw.retention_days.clone()), 0, 1..36_501, "log_archive.object_lock.retention_days")? as i32;
        Ok(ObjectLock { mode, retention_days: days })
    }

    fn lifecycle(&self, raw: &RawLifecycle) -> R<Lifecycle> {
        let days = |v: &Option<S<i64>>, what: &str| -> R<Option<i32>> {
            v.as_ref().map(|_| self.int(v, 0, 1..36_501, what).map(|d| d as i32)).transpose()
        };
        let archive_after = days(&raw.archive_after_days, "lifecycle.archive_after_days")?;
        let expire_after = days(&raw.expire_after_days, "lifecycle.expire_after_days")?;
        if let (Some(a), Some(e), Some(span)) = (archive_after, expire_after, raw.expire_after_days.as_ref().map(|e| e.span())) {
            if e <= a {
                return Err(self.err(span, format!("lifecycle.expire_after_days ({e}) must be greater than archive_after_days ({a})")));
            }
        }
        let classes = [("GLACIER", "GLACIER"), ("DEEP_ARCHIVE", "DEEP_ARCHIVE"), ("GLACIER_IR", "GLACIER_IR"), ("STANDARD_IA", "STANDARD_IA"), ("INTELLIGENT_TIERING", "INTELLIGENT_TIERING")];
        Ok(Lifecycle {
            archive_after_days: archive_after,
            archive_storage_class: self.choice(&raw.archive_storage_class, "GLACIER", &classes, "archive storage class")?.to_string(),
            expire_after_days: expire_after,
            noncurrent_expire_after_days: days(&raw.noncurrent_expire_after_days, "lifecycle.noncurrent_expire_after_days")?,
        })
    }

    fn trail(&self, raw: &RawTrail, partition: &str) -> R<Trail> {
        let scope = [("all", EventScope::All), ("read", EventScope::Read), ("write", EventScope::Write), ("none", EventScope::None)];
        let cloudwatch_logs = super::detection::existing_pair(self, raw.cloudwatch_logs.as_ref(), partition)?;
        Ok(Trail {
            name: self.check(&raw.name, rules::trail_name)?,
            mode: self.choice(&raw.mode, TrailMode::Organization, &[("organization", TrailMode::Organization), ("account", TrailMode::Account)], "trail mode")?,
            management_events: self.choice(&raw.management_events, EventScope::All, &scope, "management_events scope")?,
            existing_org_trail: self.choice(&raw.existing_org_trail, ExistingOrgTrail::Refuse, &[("adopt", ExistingOrgTrail::Adopt), ("data-events-only", ExistingOrgTrail::DataEventsOnly), ("refuse", ExistingOrgTrail::Refuse)], "existing_org_trail policy")?,
            legacy_trails: self.choice(&raw.legacy_trails, LegacyTrails::Keep, &[("keep", LegacyTrails::Keep), ("stop", LegacyTrails::Stop), ("delete", LegacyTrails::Delete)], "legacy_trails action")?,
            sns_topic: raw.sns_topic.as_ref().map(|t| self.check(t, sns_topic_name)).transpose()?,
            cloudwatch_logs,
            delivery_check: raw.delivery_check.unwrap_or(false),
            s3_data_events: self.choice(&raw.data_events.s3, EventScope::All, &scope, "data_events.s3 scope")?,
            s3_data_event_buckets: raw.data_events.buckets.iter().map(|b| self.check(b, rules::bucket_name)).collect::<R<_>>()?,
        })
    }

    fn waves(&self, raw: &[S<RawWave>]) -> R<Vec<Wave>> {
        let mut waves: Vec<Wave> = Vec::new();
        let mut names = std::collections::HashSet::new();
        let mut remaining_seen: Option<String> = None;
        // Offsets of the line starts, so each wave's line is a binary search, not a scan of the file.
        let line_starts: Vec<usize> = std::iter::once(0).chain(self.source.match_indices('\n').map(|(i, _)| i + 1)).collect();
        for w in raw {
            let span = w.span();
            let w = w.get_ref();
            let name = self.check(&w.name, |s| {
                if !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b)) { Ok(()) } else { Err(format!("`{s}` is not a valid wave name: expected 1 to 64 letters, digits, `_` or `-`")) }
            })?;
            if !names.insert(name.clone()) {
                return Err(self.err(w.name.span(), format!("wave name `{name}` is used twice; wave names must be unique")));
            }
            if w.remaining {
                if let Some(first) = &remaining_seen {
                    return Err(self.err(w.name.span(), format!("wave `{name}` has `remaining = true`, but wave `{first}` already takes the remaining accounts; only one wave may")));
                }
                remaining_seen = Some(name.clone());
            }
            if !w.remaining && w.accounts.is_empty() && w.ous.is_empty() && w.tags.is_empty() {
                return Err(self.err(w.name.span(), format!("wave `{name}` selects nothing: give it `accounts`, `ous`, `tags`, or `remaining = true`")));
            }
            let amount = |v: &Option<S<CountOrPercent>>, default: Amount, min: u32, what: &str| -> R<Amount> {
                let Some(v) = v else { return Ok(default) };
                parse_amount(v.get_ref(), min).map_err(|m| self.err(v.span(), format!("wave `{name}`: {what} {m}")))
            };
            let line = line_starts.partition_point(|&s| s <= span.start);
            waves.push(Wave {
                accounts: w.accounts.iter().map(|a| self.check(a, rules::account_id)).collect::<R<_>>()?,
                ous: w.ous.iter().map(|o| self.check(o, rules::ou_selector)).collect::<R<_>>()?,
                tags: w.tags.iter().map(|(k, v)| (k.clone(), v.get_ref().clone())).collect(),
                remaining: w.remaining,
                max_concurrency: amount(&w.max_concurrency, Amount::Count(20), 1, "max_concurrency")?,
                failure_tolerance: amount(&w.failure_tolerance, Amount::Count(0), 0, "failure_tolerance")?,
                pause_after: w.pause_after,
                strict: w.strict,
                line,
                name,
            });
        }
        Ok(waves)
    }
}

fn parse_amount(v: &CountOrPercent, min: u32) -> Result<Amount, String> {
    match v {
        CountOrPercent::Count(n) if *n >= min as i64 && *n <= 100_000 => Ok(Amount::Count(*n as u32)),
        CountOrPercent::Count(n) => Err(format!("must be a count from {min} to 100000 or a percentage like \"25%\", got {n}")),
        CountOrPercent::Text(s) => match s.strip_suffix('%').and_then(|p| p.trim().parse::<u32>().ok()) {
            Some(p) if p <= 100 && (p > 0 || min == 0) => Ok(Amount::Percent(p)),
            _ => Err(format!("must be a count or a percentage from {min}% to 100% like \"25%\", got \"{s}\"")),
        },
    }
}

pub fn default_access_log_bucket(bucket: &str) -> String {
    let suffix = "-access-logs";
    let keep = bucket.len().min(63 - suffix.len());
    format!("{}{suffix}", bucket[..keep].trim_end_matches(['-', '.']))
}

pub(super) fn sns_topic_name(s: &str) -> Result<(), String> {
    if (1..=256).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b)) {
        Ok(())
    } else {
        Err(format!("`{s}` is not a valid SNS topic name: expected 1 to 256 letters, digits, `_` or `-`"))
    }
}

fn state_url(s: &str) -> Result<(), String> {
    let Some(rest) = s.strip_prefix("s3://") else {
        return Err(format!("`{s}` is not a state URL: expected s3://BUCKET/PREFIX (local state needs no url)"));
    };
    let bucket = rest.split('/').next().unwrap_or("");
    rules::bucket_name(bucket)
}
