//! Error answers shaped like AWS's for each protocol, so the SDK classifies them as it would in
//! production (throttling / transient / permanent) and reports the same error codes.
use super::http::Response;
use super::operation::{Operation, Protocol};

const REQUEST_ID: &str = "fault-proxy-0000-0000-0000-000000000000";

/// The throttling answer of the operation's service: `TooManyRequestsException` (Organizations),
/// `ThrottlingException` (other JSON services), `Throttling` (query: STS, SNS), 503 `SlowDown` (S3).
pub fn throttle(op: &Operation) -> Response {
    match op.protocol {
        Protocol::Json if op.service() == "Organizations" => json(
            400,
            "TooManyRequestsException",
            "AWS Organizations can't complete your request because another request is already in progress. Try again later.",
        ),
        Protocol::Json => json(400, "ThrottlingException", "Rate exceeded"),
        Protocol::Query => query(400, "Sender", "Throttling", "Rate exceeded"),
        Protocol::S3 => s3(503, "SlowDown", "Please reduce your request rate."),
        Protocol::RestJson => rest_json(429, "TooManyRequestsException", "Rate exceeded"),
    }
}

/// An HTTP 500 internal error, which the SDK treats as transient.
pub fn server_error(op: &Operation) -> Response {
    match op.protocol {
        Protocol::Json => json(500, "InternalFailure", "We encountered an internal error. Please try again."),
        Protocol::Query => query(500, "Receiver", "InternalFailure", "We encountered an internal error. Please try again."),
        Protocol::S3 => s3(500, "InternalError", "We encountered an internal error. Please try again."),
        Protocol::RestJson => rest_json(500, "InternalServerException", "We encountered an internal error. Please try again."),
    }
}

/// A permanent authorization failure: `AccessDenied` (query, S3) or `AccessDeniedException` (JSON).
pub fn access_denied(op: &Operation) -> Response {
    let msg = format!("not authorized to perform: {} (injected by the fault proxy)", op.name);
    match op.protocol {
        Protocol::Json => json(400, "AccessDeniedException", &msg),
        Protocol::Query => query(403, "Sender", "AccessDenied", &msg),
        Protocol::S3 => s3(403, "AccessDenied", "Access Denied"),
        Protocol::RestJson => rest_json(403, "AccessDeniedException", &msg),
    }
}

/// A request signed with a session token past its expiry.
pub fn expired_token(op: &Operation) -> Response {
    let msg = "The security token included in the request is expired";
    match op.protocol {
        Protocol::Json => json(400, "ExpiredTokenException", msg),
        Protocol::Query => query(400, "Sender", "ExpiredToken", msg),
        Protocol::S3 => s3(400, "ExpiredToken", "The provided token has expired."),
        Protocol::RestJson => rest_json(403, "ExpiredTokenException", msg),
    }
}

/// The proxy could not reach the emulator.
pub fn bad_gateway(detail: &str) -> Response {
    Response::new(502, "text/plain", format!("fault proxy: upstream unreachable: {detail}"))
}

fn json(status: u16, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "__type": code, "message": message }).to_string();
    Response::new(status, "application/x-amz-json-1.1", body).with_header("x-amzn-RequestId", REQUEST_ID).with_header("X-Amzn-ErrorType", code)
}

fn rest_json(status: u16, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "message": message }).to_string();
    Response::new(status, "application/json", body).with_header("x-amzn-RequestId", REQUEST_ID).with_header("X-Amzn-ErrorType", code)
}

fn query(status: u16, kind: &str, code: &str, message: &str) -> Response {
    let body = format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>{kind}</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>{REQUEST_ID}</RequestId></ErrorResponse>",
        xml_escape(message)
    );
    Response::new(status, "text/xml", body).with_header("x-amzn-RequestId", REQUEST_ID)
}

fn s3(status: u16, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{}</Message><RequestId>{REQUEST_ID}</RequestId><HostId>fault-proxy</HostId></Error>",
        xml_escape(message)
    );
    Response::new(status, "application/xml", body).with_header("x-amz-request-id", REQUEST_ID)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
