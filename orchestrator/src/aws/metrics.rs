//! Per-run API call accounting: calls, attempts (retries), throttles and errors by operation,
//! recorded by an SDK interceptor attached to every client orgtrail builds.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde::Serialize;

#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct OperationCounts {
    /// Operations started (one per SDK call, whatever its retries).
    pub calls: u64,
    /// HTTP attempts, retries included.
    pub attempts: u64,
    /// Attempts answered with a throttling status (HTTP 429, 503, or 400 with a throttling error code).
    pub throttled: u64,
    /// Attempts answered with any other error status.
    pub errors: u64,
}

/// Shared, cheap to clone. Keys are `Service.Operation` (e.g. `S3.PutBucketPolicy`).
#[derive(Debug, Default, Clone)]
pub struct CallMetrics {
    inner: Arc<Mutex<BTreeMap<String, OperationCounts>>>,
}

impl CallMetrics {
    pub fn snapshot(&self) -> BTreeMap<String, OperationCounts> {
        self.inner.lock().expect("metrics lock").clone()
    }

    pub fn total(&self) -> OperationCounts {
        self.snapshot().values().fold(OperationCounts::default(), |a, c| OperationCounts {
            calls: a.calls + c.calls,
            attempts: a.attempts + c.attempts,
            throttled: a.throttled + c.throttled,
            errors: a.errors + c.errors,
        })
    }

    /// Calls to operations whose name does not start with a read verb: what a converged run must not make.
    pub fn write_calls(&self) -> BTreeMap<String, u64> {
        self.snapshot().into_iter().filter(|(op, c)| c.calls > 0 && is_write(op)).map(|(op, c)| (op, c.calls)).collect()
    }

    fn bump(&self, cfg: &ConfigBag, f: impl FnOnce(&mut OperationCounts)) {
        let key = cfg.load::<Metadata>().map_or_else(|| "unknown".to_string(), |m| format!("{}.{}", short_service(m.service()), m.name()));
        f(self.inner.lock().expect("metrics lock").entry(key).or_default());
    }
}

/// Reads are Get/List/Describe/Lookup plus the few read-only verbs orgtrail uses; everything else writes.
pub fn is_write(operation: &str) -> bool {
    let op = operation.rsplit('.').next().unwrap_or(operation);
    !["Get", "List", "Describe", "Lookup", "Head"].iter().any(|p| op.starts_with(p)) && op != "AssumeRole"
}

fn short_service(service: &str) -> &str {
    match service {
        "organizations" | "Organizations" => "Organizations",
        "sts" | "STS" => "STS",
        "s3" | "S3" => "S3",
        "kms" | "KMS" => "KMS",
        "cloudtrail" | "CloudTrail" => "CloudTrail",
        // One word, as orgtrail's own operation names spell it (`CloudWatchLogs.PutMetricFilter`).
        "CloudWatch Logs" | "logs" => "CloudWatchLogs",
        other => other,
    }
}

#[derive(Debug)]
pub(crate) struct MetricsInterceptor(pub CallMetrics);

impl Intercept for MetricsInterceptor {
    fn name(&self) -> &'static str {
        "orgtrail-call-metrics"
    }

    // Not read_before_execution: the operation's Metadata is not in the config bag yet at that point.
    fn read_before_serialization(&self, _: &BeforeSerializationInterceptorContextRef<'_>, _: &RuntimeComponents, cfg: &mut ConfigBag) -> Result<(), BoxError> {
        self.0.bump(cfg, |c| c.calls += 1);
        Ok(())
    }

    fn read_before_transmit(&self, _: &BeforeTransmitInterceptorContextRef<'_>, _: &RuntimeComponents, cfg: &mut ConfigBag) -> Result<(), BoxError> {
        self.0.bump(cfg, |c| c.attempts += 1);
        Ok(())
    }

    // After deserialization, not before: only then is the body loaded, and a throttle answered with
    // HTTP 400 (Organizations' TooManyRequestsException, STS's Throttling) is told by its body.
    fn read_after_deserialization(&self, ctx: &AfterDeserializationInterceptorContextRef<'_>, _: &RuntimeComponents, cfg: &mut ConfigBag) -> Result<(), BoxError> {
        let response = ctx.response();
        let status = response.status().as_u16();
        if status < 400 {
            return Ok(());
        }
        let body = response.body().bytes().unwrap_or_default();
        let throttled = matches!(status, 429 | 503) || status == 400 && looks_throttled(body);
        self.0.bump(cfg, |c| if throttled { c.throttled += 1 } else { c.errors += 1 });
        Ok(())
    }
}

fn looks_throttled(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&body[..body.len().min(2048)]);
    ["Throttling", "TooManyRequests", "RequestLimitExceeded", "SlowDown", "RequestThrottled"].iter().any(|c| text.contains(c))
}

#[cfg(test)]
mod tests {
    #[test]
    fn write_classification() {
        assert!(!super::is_write("S3.GetBucketPolicy"));
        assert!(!super::is_write("Organizations.ListAccounts"));
        assert!(!super::is_write("STS.AssumeRole"));
        assert!(super::is_write("S3.PutBucketPolicy"));
        assert!(super::is_write("CloudTrail.StartLogging"));
        assert!(super::is_write("KMS.CreateKey"));
    }
}
