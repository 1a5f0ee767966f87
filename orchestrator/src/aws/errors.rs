//! AWS errors reduced to what an operator needs: the operation, the AWS error code and message.
//! Never includes request headers or credentials.
use aws_sdk_sts::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;

#[derive(Debug, Clone, thiserror::Error, serde::Serialize, PartialEq, Eq)]
#[error("{}: {}{message}", display_operation(operation), code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default())]
pub struct AwsError {
    /// `Service.Operation`, as the call metrics name it (`CloudTrail.ListTrails`).
    pub operation: String,
    /// The AWS error code (`AccessDenied`, `ThrottlingException`, ...), when AWS sent one.
    pub code: Option<String>,
    pub message: String,
}

impl AwsError {
    pub fn from_sdk<E, R>(operation: &str, err: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let (code, message) = match err {
            SdkError::ServiceError(se) => {
                let e = se.err();
                (e.code().map(str::to_string), e.message().map(str::to_string).unwrap_or_else(|| first_line(e)))
            }
            SdkError::TimeoutError(_) => (Some("Timeout".into()), "the request timed out".into()),
            SdkError::DispatchFailure(d) => {
                let kind = if d.is_timeout() { "Timeout" } else if d.is_io() { "ConnectionError" } else { "DispatchFailure" };
                (Some(kind.into()), source_chain(err))
            }
            SdkError::ResponseError(_) => (Some("ResponseError".into()), source_chain(err)),
            SdkError::ConstructionFailure(_) => (None, source_chain(err)),
            _ => (None, source_chain(err)),
        };
        AwsError { operation: operation.to_string(), code, message }
    }

    pub fn is_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    pub fn is_access_denied(&self) -> bool {
        matches!(self.code.as_deref(), Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "AuthorizationError"))
    }
}

/// `CloudTrail.ListTrails` as `cloudtrail ListTrails`, the way the AWS CLI spells a call.
pub(crate) fn display_operation(operation: &str) -> String {
    match operation.split_once('.') {
        Some((service, op)) => format!("{} {op}", service.to_ascii_lowercase()),
        None => operation.to_string(),
    }
}

fn first_line(e: &dyn std::error::Error) -> String {
    e.to_string().lines().next().unwrap_or_default().to_string()
}

/// The error and its sources on one line; the SDK's messages carry no credentials.
fn source_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

/// `?`-friendly conversion: `client.op().send().await.map_err(aws_err("S3.PutBucketPolicy"))?`.
pub fn aws_err<E, R>(operation: &'static str) -> impl Fn(SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    move |e| AwsError::from_sdk(operation, &e)
}
