"""S3 MFA Delete (patches c, c', d; docs/emulator.md): the x-amz-mfa header, the versioning answer
with MfaDelete, and MFA Delete versus lifecycle rules. Called from moto_fidelity.apply().
"""

from __future__ import annotations

import re
from typing import Any, Callable


def _s3_error(status: int, code: str, message: str, bucket: str) -> tuple[int, dict[str, str], str]:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message><BucketName>{bucket}</BucketName>"
        "<RequestId>fidelity</RequestId><HostId>fidelity</HostId></Error>"
    )
    return status, {"content-type": "application/xml"}, body


MFA_REQUIRED = "Mfa Authentication must be used for this request"
MFA_WITH_LIFECYCLE = (
    "Mfa Authentication is not supported on a bucket with lifecycle configuration. "
    "Delete lifecycle configuration before enabling Mfa Authentication."
)
LIFECYCLE_WITH_MFA = "Lifecycle configuration is not supported on a bucket with MFA Delete enabled."


def apply(enabled: Callable[[str], bool]) -> None:
    from moto.s3 import responses

    Response = responses.S3Response
    original_put = Response._bucket_response_put

    def bucket_put(self: Any, request: Any, bucket_name: str, querystring: dict[str, Any]) -> Any:
        if "versioning" in querystring:
            return put_versioning(self, request, bucket_name, querystring)
        if "lifecycle" in querystring and enabled("d"):
            bucket = self.backend.get_bucket(bucket_name)
            # (d) S3 does not support lifecycle rules on a bucket with MFA Delete enabled.
            if getattr(bucket, "fidelity_mfa_delete", None) == "Enabled":
                return _s3_error(409, "InvalidBucketState", LIFECYCLE_WITH_MFA, bucket_name)
        return original_put(self, request, bucket_name, querystring)

    def put_versioning(self: Any, request: Any, bucket_name: str, querystring: dict[str, Any]) -> Any:
        body = self.body.decode("utf-8") if isinstance(self.body, bytes) else (self.body or "")
        wanted = re.search(r"<MfaDelete>\s*([A-Za-z]+)\s*</MfaDelete>", body)
        bucket = self.backend.get_bucket(bucket_name)
        current = getattr(bucket, "fidelity_mfa_delete", None)
        mfa = request.headers.get("x-amz-mfa")
        # (c) Changing MFA Delete, or any versioning change once it is on, needs the x-amz-mfa header.
        if enabled("c") and (wanted or current == "Enabled") and not mfa:
            return _s3_error(403, "AccessDenied", MFA_REQUIRED, bucket_name)
        if mfa is not None and len(mfa.split()) != 2:
            return _s3_error(
                400, "InvalidArgument", "Mfa header is invalid -- the header should be formatted as {serialNumber}(space){tokenCode}", bucket_name
            )
        # (d) ... and likewise MFA Delete cannot be enabled while lifecycle rules exist.
        if enabled("d") and wanted and wanted.group(1) == "Enabled" and getattr(bucket, "rules", None):
            return _s3_error(409, "InvalidBucketState", MFA_WITH_LIFECYCLE, bucket_name)
        result = original_put(self, request, bucket_name, querystring)
        if wanted and enabled("c"):
            bucket.fidelity_mfa_delete = wanted.group(1)
        return result

    def get_versioning(self: Any) -> Any:
        # Rendered here: moto's serializer names the root element GetBucketVersioningResponse,
        # which the Rust SDK rejects (AWS: VersioningConfiguration), and it drops MfaDelete.
        bucket = self.backend.get_bucket(self.bucket_name)
        parts = []
        if bucket.versioning_status:
            parts.append(f"<Status>{bucket.versioning_status}</Status>")
        mfa = getattr(bucket, "fidelity_mfa_delete", None)
        if mfa:
            parts.append(f"<MfaDelete>{mfa}</MfaDelete>")
        self.data["Action"] = "GetBucketVersioning"
        body = '<?xml version="1.0" encoding="UTF-8"?>\n<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' + "".join(parts) + "</VersioningConfiguration>"
        return 200, {"content-type": "application/xml"}, body

    Response._bucket_response_put = bucket_put
    if enabled("c'"):
        Response.get_bucket_versioning = get_versioning
