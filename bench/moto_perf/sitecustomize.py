"""Benchmark-only speed-ups of the moto emulator, loaded through PYTHONPATH by bench/run.sh.

moto 5.2.5 resolves the account of every request by scanning every account's IAM backend for the
access key (moto.iam.models.get_account_id_from), creating each account's IAM backend for every
partition on the way: O(accounts x partitions) per call. At 10,000 member accounts a scan costs
moto ~145 ms, which real AWS does not charge: every call with the base key pays it, and so does
the first call of every assumed-role session (10,000 sessions: ~24 minutes of emulator time,
quadratic in the organization's size). The same answers, found without the scan:
- a key once found -> its account (moto never moves a key between accounts);
- a key moto issued encodes its account (moto.iam.utils.generate_access_key_id_from_account_id:
  prefix, base32 of account // 2 + offset, a parity character): that account is looked in first,
  and the full scan runs only when the key is not there;
- a key moto could never have issued (moto's are 20 characters of A-Z0-9) -> moto's default
  account, where the scan ends for it (the sandbox's base key "testing").
Answers are unchanged; only the emulator's per-call cost is. s3_listing.py does the same for S3
prefix listings (O(matches) instead of O(bucket)). Unset ORGTRAIL_BENCH_MOTO_PERF
(bench/run.sh --plain-moto) to measure plain moto.
"""
import os
import re

if os.environ.get("ORGTRAIL_BENCH_MOTO_PERF") == "1":
    try:
        import base64

        import moto.iam.models as _iam
        from moto.iam.utils import ACCOUNT_OFFSET, AWS_ROLE_ALPHABET

        _scan = _iam.get_account_id_from
        _known: dict = {}
        _moto_format = re.compile(r"[A-Z0-9]{20}")

        def _encoded_account(access_key: str):
            try:
                n = int.from_bytes(base64.b32decode(access_key[4:12]), byteorder="big") - ACCOUNT_OFFSET
            except Exception:
                return None
            account = 2 * n + (1 if access_key[12] in AWS_ROLE_ALPHABET[16:] else 0)
            return f"{account:012d}" if 0 <= account < 10**12 else None

        def _holds(account: str, access_key: str) -> bool:
            if account not in _iam.iam_backends:
                return False
            backends = _iam.iam_backends[account]
            return any(access_key in backends[p].access_keys for p in list(backends.keys()))

        def _get_account_id_from(access_key: str) -> str:
            account = _known.get(access_key)
            if account is not None:
                return account
            if not _moto_format.fullmatch(access_key):
                account = _scan(access_key)
            else:
                encoded = _encoded_account(access_key)
                account = encoded if encoded is not None and _holds(encoded, access_key) else _scan(access_key)
                if account == _iam.DEFAULT_ACCOUNT_ID and not _holds(account, access_key):
                    return account  # not issued yet: scan again next time
            _known[access_key] = account
            return account

        _iam.get_account_id_from = _get_account_id_from
    except Exception as e:  # never break the emulator for a benchmark nicety
        import sys

        print(f"bench sitecustomize: moto patch not applied: {e}", file=sys.stderr)

    try:
        import os.path
        import sys

        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import s3_listing

        s3_listing.apply()
        # One stderr line per request, formatted under the GIL: ~9% of the emulator's CPU on a
        # read-heavy run. Errors (log_error) still print.
        import werkzeug.serving

        werkzeug.serving.WSGIRequestHandler.log_request = lambda self, *args, **kwargs: None
        # moto writes one server-access-log object per request into the target bucket, on the
        # request's own path (S3 delivers access logs later, batched, best effort, off the
        # caller's clock): ~15% of the emulator's CPU on a read-heavy run. No benchmark reads them.
        import moto.s3.models

        moto.s3.models.S3Backend.log_incoming_request = lambda self, request, bucket_name: None
    except Exception as e:  # never break the emulator for a benchmark nicety
        print(f"bench sitecustomize: S3 listing patch not applied: {e}", file=sys.stderr)
