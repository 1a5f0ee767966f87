"""Roles and trust, and who made each request: AWS behaviours moto 5.2.5 lacks (docs/emulator.md).

Patch t: STS AssumeRole honours the target role's trust policy (moto's CreateAccount already
creates `OrganizationAccountAccessRole` trusting the management account, as AWS does): a role that
does not exist, or whose trust does not let the caller in (principal, `sts:ExternalId`,
`aws:PrincipalArn` conditions...), is refused with AccessDenied, as AWS refuses it. moto assumes any ARN, role or not. The trust is evaluated by the project's pinned
evaluator (@cloud-copilot/iam-simulate in tests/policy-eval, one long-lived Node process, answers
cached by trust, caller and context), not by code of ours.

The principal log (always on): every signed request, counted per principal ARN (the role of an
assumed-role session, an IAM user, else the account's root), operation and resource ARN where the
request names one; GET /moto-api/fidelity/principals returns it. tests/tests/principal_policies.rs
evaluates each entry against that principal's documented policy.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from typing import Any
from urllib.parse import unquote

# principal ARN -> operation -> resource ARN ("*" when the request names none) -> requests.
PRINCIPALS: dict[str, dict[str, dict[str, int]]] = {}
_LOCK = threading.Lock()
_EVALUATOR: dict[str, Any] = {}
_DECISIONS: dict[str, str] = {}


def _evaluate(row: dict[str, Any]) -> str:
    """The pinned evaluator's decision for one request, cached by (trust, caller, context): every
    account's copy of a role has the same trust, so a rollout over N accounts evaluates it once."""
    key = json.dumps({k: row[k] for k in ("principal", "action", "context", "resource_policy")}, sort_keys=True)
    with _LOCK:
        if key in _DECISIONS:
            return _DECISIONS[key]
        proc = _EVALUATOR.get("proc")
        if proc is None or proc.poll() is not None:
            here = os.path.dirname(os.path.abspath(__file__))
            policy_eval = os.path.join(os.path.dirname(here), "policy-eval")
            if not os.path.isdir(os.path.join(policy_eval, "node_modules", "@cloud-copilot")):
                raise RuntimeError("the IAM policy evaluator is not installed: run scripts/bootstrap-policy-eval.sh")
            proc = subprocess.Popen(["node", "serve.mjs"], cwd=policy_eval, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
            _EVALUATOR["proc"] = proc
        proc.stdin.write(json.dumps(dict(row, id=0)) + "\n")
        proc.stdin.flush()
        answer = json.loads(proc.stdout.readline())
        if answer.get("errors"):
            raise RuntimeError(f"the IAM policy evaluator rejected {row}: {answer['errors']}")
        _DECISIONS[key] = answer["decision"]
        return answer["decision"]


def caller_arn(access_key: str) -> tuple[str, str]:
    """(aws:PrincipalArn, account) of the credentials: an assumed role's role ARN, an IAM user's
    ARN, else (moto's default credentials) the account's root."""
    from moto.iam.models import get_account_id_from, iam_backends
    from moto.sts.models import sts_backends

    account = get_account_id_from(access_key)
    role = sts_backends[account]["aws"].get_assumed_role_from_access_key(access_key)
    if role:
        return role.role_arn, account
    user = iam_backends[account]["aws"].get_user_from_access_key_id(access_key)
    if user:
        return user.arn, account
    return f"arn:aws:iam::{account}:root", account


def _assume_role_honours_trust() -> None:
    from moto.iam.models import iam_backends
    from moto.sts.exceptions import STSClientError
    from moto.sts.responses import TokenResponse

    original = TokenResponse.assume_role

    def assume_role(self: Any) -> Any:
        role_arn = self._get_param("RoleArn") or ""
        principal, account = caller_arn(self.get_access_key())
        denied = STSClientError("AccessDenied", f"User: {principal} is not authorized to perform: sts:AssumeRole on resource: {role_arn}")
        denied.code = "AccessDenied"
        target = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
        try:
            role = iam_backends[target]["aws"].get_role_by_arn(role_arn)
        except Exception:
            raise denied
        context = {"aws:PrincipalArn": principal, "aws:PrincipalAccount": account, "aws:SecureTransport": "true", "aws:PrincipalIsAWSService": "false"}
        if self._get_param("ExternalId"):
            context["sts:ExternalId"] = self._get_param("ExternalId")
        session = principal if principal.endswith(":root") else f"arn:aws:sts::{account}:assumed-role/{principal.rsplit('/', 1)[-1]}/session"
        # The caller's own IAM policy is orgtrail's documented one (checked per principal by the
        # suite): here the trust alone decides, as it does for a principal its account allows.
        allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
        row = {"principal": session, "action": "sts:AssumeRole", "resource": role.arn, "resource_account": target, "context": context, "identity_policies": [allow], "resource_policy": json.loads(role.assume_role_policy_document)}
        if _evaluate(row) != "Allowed":
            raise denied
        return original(self)

    TokenResponse.assume_role = assume_role


_SIGNED = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/")


def _resource(service: str, region: str, account: str, environ: dict[str, Any], body: bytes) -> str:
    """The ARN the request acts on, where it names one (best effort; "*" otherwise)."""
    if service == "s3":
        path = unquote(environ.get("PATH_INFO", "")).strip("/")
        return f"arn:aws:s3:::{path}" if path else "*"
    try:
        params = json.loads(body) if body[:1] == b"{" else {}
    except ValueError:
        params = {}
    if service == "kms" and params:
        from moto.kms.models import kms_backends

        ident = params.get("TargetKeyId") or params.get("KeyId")
        if params.get("AliasName") and not ident:
            return f"arn:aws:kms:{region}:{account}:{params['AliasName']}"
        try:
            return kms_backends[account][region].describe_key(ident).arn if ident else "*"
        except Exception:
            return "*"
    if service == "cloudtrail":
        name = params.get("Name") or params.get("TrailName")
        if isinstance(name, str):
            return name if name.startswith("arn:") else f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"
    if service == "logs" and params.get("logGroupName"):
        return f"arn:aws:logs:{region}:{account}:log-group:{params['logGroupName']}"
    return "*"


# Security Hub is REST JSON: the operation is the method and path.
_SECURITYHUB_OPS = {
    ("GET", "/accounts"): "DescribeHub",
    ("POST", "/accounts"): "EnableSecurityHub",
    ("POST", "/findings"): "GetFindings",
    ("POST", "/findings/import"): "BatchImportFindings",
    ("PATCH", "/findings/batchupdate"): "BatchUpdateFindings",
}


def _securityhub_resource(op: str, region: str, account: str, body: bytes) -> str:
    """BatchImportFindings authorizes on the product its findings name; the other calls on the hub."""
    if op == "BatchImportFindings":
        try:
            products = {f.get("ProductArn", "") for f in json.loads(body).get("Findings", [])}
        except ValueError:
            products = set()
        return products.pop() if len(products) == 1 else "*"
    return f"arn:aws:securityhub:{region}:{account}:hub/default"


def _principal_log() -> None:
    import io
    from urllib.parse import parse_qs

    from moto.moto_api._internal import models as api_models
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original_call = DomainDispatcherApplication.__call__

    def call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/moto-api/fidelity/principals":
            with _LOCK:
                out = json.dumps(PRINCIPALS, sort_keys=True).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
            return [out]
        signed = _SIGNED.search(environ.get("HTTP_AUTHORIZATION", ""))
        if signed:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            region, service = signed.group(2), signed.group(3)
            principal, account = caller_arn(signed.group(1))
            target = environ.get("HTTP_X_AMZ_TARGET")
            if target:
                op = target.rsplit(".", 1)[-1]
                resource = _resource(service, region, account, environ, body)
            else:
                form = parse_qs(body.decode("utf-8", "replace")) if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded") else {}
                query = environ.get("QUERY_STRING", "").split("&", 1)[0].split("=", 1)[0]
                op = form["Action"][0] if form.get("Action") else environ.get("REQUEST_METHOD", "?") + (f"?{query}" if query else "")
                if service == "account":  # REST JSON: the operation is the path (/listRegions)
                    path = environ.get("PATH_INFO", "").strip("/")
                    op = path[:1].upper() + path[1:]
                if service == "securityhub":
                    op = _SECURITYHUB_OPS.get((environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "").rstrip("/")), op)
                named = (form.get("RoleArn") or form.get("TopicArn") or form.get("ResourceArn") or [None])[0]
                resource = _securityhub_resource(op, region, account, body) if service == "securityhub" else named or (f"arn:aws:iam::{account}:role/{form['RoleName'][0]}" if form.get("RoleName") else None) or (f"arn:aws:sns:{region}:{account}:{form['Name'][0]}" if service == "sns" and form.get("Name") else None) or _resource(service, region, account, environ, body)
            with _LOCK:
                per_op = PRINCIPALS.setdefault(principal, {}).setdefault(f"{service}.{op}", {})
                per_op[resource] = per_op.get(resource, 0) + 1
        return original_call(self, environ, start_response)

    DomainDispatcherApplication.__call__ = call
    original_reset = api_models.MotoAPIBackend.reset

    def reset(self: Any) -> None:
        with _LOCK:
            PRINCIPALS.clear()
        original_reset(self)

    api_models.MotoAPIBackend.reset = reset


def apply(enabled: Any) -> None:
    if enabled("t"):
        _assume_role_honours_trust()
    _principal_log()
