//! Which AWS operation a request is: the service from the SigV4 credential scope, the operation from
//! `X-Amz-Target` (JSON protocols), `Action=` (query protocols) or method, path and query (S3 REST).
use super::http::Request;

/// The wire protocol, which decides the shape of an injected error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// awsJson1_1: Organizations, KMS, CloudTrail.
    Json,
    /// awsQuery: STS, SNS.
    Query,
    /// S3's REST-XML.
    S3,
    /// restJson1 (Account).
    RestJson,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// `Service.Operation`, named like orgtrail's `CallMetrics` keys (`STS.AssumeRole`, `S3.PutBucketPolicy`).
    pub name: String,
    pub protocol: Protocol,
    /// What a target match looks at: the path, the URL-decoded query and the URL-decoded body.
    pub subject: String,
}

impl Operation {
    pub fn service(&self) -> &str {
        self.name.split_once('.').map_or(&self.name, |(s, _)| s)
    }
}

pub fn identify(req: &Request) -> Operation {
    let scope = credential_scope_service(req);
    let body = String::from_utf8_lossy(&req.body);
    let subject = format!("{} {} {}", req.path(), url_decode(req.query()), url_decode(&body));
    if let Some(target) = req.header("x-amz-target") {
        let (prefix, op) = target.rsplit_once('.').unwrap_or(("", target));
        let service = scope.map(display_service).unwrap_or_else(|| target_service(prefix)).to_string();
        return Operation { name: format!("{service}.{op}"), protocol: Protocol::Json, subject };
    }
    if let Some(action) = form_value(&body, "Action").or_else(|| form_value(req.query(), "Action")) {
        let service = scope.map_or("Query", display_service);
        return Operation { name: format!("{service}.{action}"), protocol: Protocol::Query, subject };
    }
    match scope {
        Some("s3") | None => Operation { name: format!("S3.{}", s3_operation(req)), protocol: Protocol::S3, subject },
        Some(other) => Operation { name: format!("{}.{} {}", display_service(other), req.method, req.path()), protocol: Protocol::RestJson, subject },
    }
}

/// `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sts/aws4_request, ...` -> `sts`.
fn credential_scope_service(req: &Request) -> Option<&str> {
    let auth = req.header("authorization")?;
    let cred = auth.split("Credential=").nth(1)?.split([',', ' ']).next()?;
    cred.split('/').nth(3)
}

fn display_service(scope: &str) -> &str {
    match scope {
        "organizations" => "Organizations",
        "sts" => "STS",
        "s3" => "S3",
        "kms" => "KMS",
        "cloudtrail" => "CloudTrail",
        "sns" => "SNS",
        "account" => "Account",
        other => other,
    }
}

fn target_service(prefix: &str) -> &str {
    if prefix.starts_with("AWSOrganizations") {
        "Organizations"
    } else if prefix.starts_with("TrentService") {
        "KMS"
    } else if prefix.contains("cloudtrail") || prefix.contains("CloudTrail") {
        "CloudTrail"
    } else {
        prefix
    }
}

fn form_value<'a>(form: &'a str, key: &str) -> Option<&'a str> {
    form.split('&').find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == key).map(|(_, v)| v))
}

pub fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(b) => {
                    out.push(b);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// S3 REST operations by method, bucket/object level and sub-resource (the ones orgtrail uses and
/// their neighbours); anything else is `S3.<METHOD>`.
fn s3_operation(req: &Request) -> String {
    let path = req.path().trim_start_matches('/');
    let (bucket, key) = path.split_once('/').map_or((path, ""), |(b, k)| (b, k));
    let params: Vec<&str> = req.query().split('&').filter(|p| !p.is_empty()).map(|p| p.split('=').next().unwrap_or(p)).collect();
    let has = |p: &str| params.contains(&p);
    let m = req.method.as_str();
    let verb = match m {
        "GET" => "Get",
        "PUT" => "Put",
        "DELETE" => "Delete",
        "HEAD" => "Head",
        "POST" => "Post",
        other => other,
    };
    if bucket.is_empty() {
        return if m == "GET" { "ListBuckets".into() } else { m.into() };
    }
    const SUB: [(&str, &str); 14] = [
        ("policy", "BucketPolicy"),
        ("versioning", "BucketVersioning"),
        ("encryption", "BucketEncryption"),
        ("publicAccessBlock", "PublicAccessBlock"),
        ("ownershipControls", "BucketOwnershipControls"),
        ("lifecycle", "BucketLifecycleConfiguration"),
        ("logging", "BucketLogging"),
        ("object-lock", "ObjectLockConfiguration"),
        ("acl", "BucketAcl"),
        ("tagging", "BucketTagging"),
        ("notification", "BucketNotificationConfiguration"),
        ("location", "BucketLocation"),
        ("policyStatus", "BucketPolicyStatus"),
        ("replication", "BucketReplication"),
    ];
    if key.is_empty() {
        if let Some((_, name)) = SUB.iter().find(|(p, _)| has(p)) {
            return format!("{verb}{name}");
        }
        if m == "POST" && has("delete") {
            return "DeleteObjects".into();
        }
        return match m {
            "PUT" => "CreateBucket".into(),
            "DELETE" => "DeleteBucket".into(),
            "HEAD" => "HeadBucket".into(),
            "GET" if has("versions") => "ListObjectVersions".into(),
            "GET" if has("list-type") => "ListObjectsV2".into(),
            "GET" => "ListObjects".into(),
            other => other.into(),
        };
    }
    if has("tagging") {
        return format!("{verb}ObjectTagging");
    }
    if has("acl") {
        return format!("{verb}ObjectAcl");
    }
    if m == "PUT" && req.header("x-amz-copy-source").is_some() {
        return "CopyObject".into();
    }
    format!("{verb}Object")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, target: &str, headers: &[(&str, &str)], body: &str) -> Request {
        Request {
            method: method.into(),
            target: target.into(),
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn auth(service: &str) -> String {
        format!("AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00")
    }

    #[test]
    fn json_query_and_s3_operations() {
        let a = auth("organizations");
        let r = req("POST", "/", &[("Authorization", &a), ("X-Amz-Target", "AWSOrganizationsV20161128.ListAccounts")], "{}");
        assert_eq!(identify(&r).name, "Organizations.ListAccounts");
        assert_eq!(identify(&r).protocol, Protocol::Json);

        let a = auth("sts");
        let r = req("POST", "/", &[("Authorization", &a)], "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2FX&Version=2011-06-15");
        let op = identify(&r);
        assert_eq!(op.name, "STS.AssumeRole");
        assert!(op.subject.contains("arn:aws:iam::111122223333:role/X"), "{}", op.subject);

        let a = auth("s3");
        assert_eq!(identify(&req("PUT", "/bucket?policy", &[("Authorization", &a)], "{}")).name, "S3.PutBucketPolicy");
        assert_eq!(identify(&req("GET", "/bucket?publicAccessBlock", &[("Authorization", &a)], "")).name, "S3.GetPublicAccessBlock");
        assert_eq!(identify(&req("PUT", "/bucket", &[("Authorization", &a)], "")).name, "S3.CreateBucket");
        assert_eq!(identify(&req("PUT", "/bucket/AWSLogs/x.json", &[("Authorization", &a)], "")).name, "S3.PutObject");
        assert_eq!(identify(&req("GET", "/?x-id=ListBuckets", &[("Authorization", &a)], "")).name, "S3.ListBuckets");
    }
}
