#!/usr/bin/env python3
"""Proves bench/moto_perf's S3 listing answers exactly as moto's own: `.venv/bin/python
bench/moto_perf/check.py` (run by scripts/test.sh). Loads moto in-process: this checks the
emulator's patch against the emulator, nothing of orgtrail's."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import s3_listing  # noqa: E402

s3_listing.apply()
print(f"bench/moto_perf: {s3_listing.check()} listings identical to moto's own")
