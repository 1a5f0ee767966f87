"""The order of signed requests (not a fidelity patch): every signed request appended as
(sequence, account, operation), named as the request log names them. `GET
/moto-api/fidelity/request-order` returns them as JSON. Tests prove orderings from outside orgtrail
(`remove` detaches and deletes the SCP before it touches detection). Bounded: the newest 20,000."""

from __future__ import annotations

import io
import json
import re
import threading
from collections import deque
from typing import Any
from urllib.parse import parse_qs

ORDER: deque[tuple[int, str, str]] = deque(maxlen=20_000)
_SEQ = [0]


def operation(environ: dict[str, Any], service: str) -> str:
    """`cloudtrail.StartLogging`, `s3.PUT?policy`: as the request log names operations."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return f"{service}.{target.rsplit('.', 1)[-1]}"
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return f"{service}.{action[0]}"
    query = environ.get("QUERY_STRING", "").split("&", 1)[0].split("=", 1)[0]
    return f"{service}.{environ.get('REQUEST_METHOD', '?')}" + (f"?{query}" if query else "")


def apply() -> None:
    from moto.iam.models import get_account_id_from
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    lock = threading.Lock()
    original_call = DomainDispatcherApplication.__call__
    scope = re.compile(r"Credential=([^/,\s]+)/[^/]+/[^/]+/([^/]+)/")

    def call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/moto-api/fidelity/request-order":
            with lock:
                body = json.dumps([{"seq": s, "account": a, "operation": o} for s, a, o in ORDER]).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        signed = scope.search(environ.get("HTTP_AUTHORIZATION", ""))
        if signed:
            account = get_account_id_from(signed.group(1))
            op = operation(environ, signed.group(2))
            with lock:
                _SEQ[0] += 1
                ORDER.append((_SEQ[0], account, op))
        return original_call(self, environ, start_response)

    DomainDispatcherApplication.__call__ = call
