"""The fixed interface (docs/emulator.md, "Delivery"): `POST /moto-api/fidelity/deliver` with a JSON
body `{"hours": H, "end": "ISO-8601 UTC" (optional, default now), "accounts": [ids] (optional)}`
answers 200 with `{"start": ISO, "end": ISO (the whole hours delivered), "trails": {TRAIL_ARN: {"logging", "log_files", "digest_files", "failures",
"error", "refused": {"ACCOUNT/REGION": error}}}}`; a malformed body answers 400."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from typing import Any, Callable

from .deliver import deliver
from .refusals import EvaluatorError

PATH = "/moto-api/fidelity/deliver"
# Deliveries mutate several backends at once: one at a time.
_LOCK = threading.Lock()


class BadRequest(ValueError):
    pass


def parse(body: bytes) -> tuple[int, datetime, set[str] | None]:
    try:
        params = json.loads(body or b"{}")
    except ValueError as e:
        raise BadRequest(f"body is not JSON: {e}") from e
    if not isinstance(params, dict):
        raise BadRequest("body must be a JSON object")
    hours = params.get("hours")
    if not isinstance(hours, int) or isinstance(hours, bool) or not 1 <= hours <= 24 * 31:
        raise BadRequest(f'"hours" must be an integer from 1 to 744, not {hours!r}')
    end = datetime.now(timezone.utc)
    if params.get("end") is not None:
        try:
            end = datetime.fromisoformat(str(params["end"]).replace("Z", "+00:00"))
        except ValueError as e:
            raise BadRequest(f'"end" must be an ISO-8601 UTC time: {e}') from e
        if end.tzinfo is None:
            raise BadRequest('"end" must carry its zone (e.g. "2026-12-01T10:00:00Z")')
        end = end.astimezone(timezone.utc)
    accounts = params.get("accounts")
    if accounts is not None and (not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts)):
        raise BadRequest('"accounts" must be a list of account ids')
    return hours, end, set(accounts) if accounts is not None else None


def _answer(start_response: Any, code: str, payload: Any) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(code, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def post_endpoint(path: str, run: Callable[[bytes], Any]) -> None:
    """Answers `POST path` with `run(body)` as JSON, one at a time: a ValueError is the caller's
    (400), the policy evaluator's failure the emulator's (500)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original_call = DomainDispatcherApplication.__call__

    def call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") != path:
            return original_call(self, environ, start_response)
        if environ.get("REQUEST_METHOD") != "POST":
            return _answer(start_response, "405 Method Not Allowed", {"error": f"POST {path}"})
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        try:
            with _LOCK:
                result = run(body)
        except EvaluatorError as e:
            return _answer(start_response, "500 Internal Server Error", {"error": str(e)})
        except ValueError as e:
            return _answer(start_response, "400 Bad Request", {"error": str(e)})
        return _answer(start_response, "200 OK", result)

    DomainDispatcherApplication.__call__ = call


def install(enabled_regions: Callable[[str], set[str]]) -> None:
    def run(body: bytes) -> Any:
        hours, end, accounts = parse(body)
        return deliver(hours, end, accounts, enabled_regions)

    post_endpoint(PATH, run)
