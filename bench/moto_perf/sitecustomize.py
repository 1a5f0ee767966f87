"""Benchmark-only speed-up of the moto emulator, loaded through PYTHONPATH by bench/run.sh.

moto 5.2.5 resolves the account of every request by scanning every account's IAM backend for the
access key (moto.iam.models.get_account_id_from): O(accounts x partitions) per call, so an
organization of 10,000 members makes each call ~10,000x dearer than one of a single account,
which real AWS does not. This memoizes key -> account once found (assumed-role keys never move
between accounts). Answers are unchanged; only the emulator's per-call cost is. Unset
ORGTRAIL_BENCH_MOTO_PERF (bench/run.sh --plain-moto) to measure plain moto.
"""
import os

if os.environ.get("ORGTRAIL_BENCH_MOTO_PERF") == "1":
    try:
        import moto.iam.models as _iam

        _scan = _iam.get_account_id_from
        _known: dict = {}

        def _get_account_id_from(access_key: str) -> str:
            account = _known.get(access_key)
            if account is None:
                account = _scan(access_key)
                if account != _iam.DEFAULT_ACCOUNT_ID:  # unknown keys may be created later
                    _known[access_key] = account
            return account

        _iam.get_account_id_from = _get_account_id_from
    except Exception as e:  # never break the emulator for a benchmark nicety
        import sys

        print(f"bench sitecustomize: moto patch not applied: {e}", file=sys.stderr)
