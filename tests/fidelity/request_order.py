"""The order of signed requests (not a fidelity patch): every signed request appended as
(sequence, account, operation), named as the request log names them. `GET
/moto-api/fidelity/request-order` returns them as JSON. Tests prove orderings from outside orgtrail
(`remove` detaches and deletes the SCP before it touches detection). Bounded: the newest 20,000.
Other logs of signed requests (fid_delegation's per-account counts) register with `also_log`, so
each request's account and operation are found once."""

from __future__ import annotations

import io
import json
import re
import threading
from collections import deque
from typing import Any, Callable
from urllib.parse import parse_qs

ORDER: deque[tuple[int, str, str]] = deque(maxlen=20_000)
_SEQ = [0]
# GET path -> (that log's recorder of (account, operation), its JSON body).
_LOGS: dict[str, tuple[Callable[[str, str], None], Callable[[], bytes]]] = {}


def also_log(path: str, record: Callable[[str, str], None], body: Callable[[], bytes]) -> None:
    """Another log of signed requests: `record(account, operation)` for each, `GET path` answers `body()`."""
    _LOGS[path] = (record, body)


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

    def order() -> bytes:
        with lock:
            return json.dumps([{"seq": s, "account": a, "operation": o} for s, a, o in ORDER]).encode()

    def record(account: str, op: str) -> None:
        with lock:
            _SEQ[0] += 1
            ORDER.append((_SEQ[0], account, op))

    also_log("/moto-api/fidelity/request-order", record, order)

    def call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        log = _LOGS.get(environ.get("PATH_INFO", ""))
        if log is not None:
            body = log[1]()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        signed = scope.search(environ.get("HTTP_AUTHORIZATION", ""))
        if signed:
            account = get_account_id_from(signed.group(1))
            op = operation(environ, signed.group(2))
            for each, _ in _LOGS.values():
                each(account, op)
        return original_call(self, environ, start_response)

    DomainDispatcherApplication.__call__ = call
