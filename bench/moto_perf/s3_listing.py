"""Benchmark-only: moto answers a prefix listing in O(matches), as S3 does, not O(bucket).

moto 5.2.5's S3Backend.list_objects visits every key of the bucket for every listing, prefix or
not (each visit reads the key's newest version through _VersionedKeyStore.__getitem__). A log
bucket that holds 100 accounts x 17 regions x 24 hours of log files and digests has 81,600 keys,
so each of the 800 per-pair listings of a validation costs the emulator ~0.1 s of CPU, which real
S3 does not charge. Here a prefix listing finds its keys by bisecting a sorted copy of the key
names, rebuilt after any change to the bucket's keys; everything after the key visit (delete
markers, delimiters, order, markers, truncation) is moto's own code path. `check()` compares the
two on random buckets; `bench/moto_perf/check.py` runs it.
"""
from __future__ import annotations

import bisect
from typing import Any

_MUTATORS = ("__setitem__", "__delitem__", "setlist", "pop", "popitem", "clear", "update", "setdefault")


def _tracked(store_cls: type) -> None:
    """Every mutation of a key store bumps its generation, so a stale name index is never used."""
    def bumping(original: Any) -> Any:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            self.__dict__["_bench_generation"] = self.__dict__.get("_bench_generation", 0) + 1
            return original(self, *args, **kwargs)

        return wrapper

    for name in _MUTATORS:
        setattr(store_cls, name, bumping(getattr(store_cls, name)))


def _sorted_names(store: Any) -> list[str]:
    generation = store.__dict__.get("_bench_generation", 0)
    cached = store.__dict__.get("_bench_names")
    if cached is None or cached[0] != generation:
        cached = (generation, sorted(dict.keys(store)))
        store.__dict__["_bench_names"] = cached
    return cached[1]


def _keys_under(store: Any, prefix: str):
    names = _sorted_names(store)
    for name in names[bisect.bisect_left(names, prefix):]:
        if not name.startswith(prefix):
            break
        try:
            yield name, store[name]
        except (KeyError, IndexError):
            continue  # removed since the index was built, as moto's own copy-then-read would skip


def apply() -> None:
    import moto.s3.models as models
    from moto.s3.utils import _VersionedKeyStore

    _tracked(_VersionedKeyStore)
    original = models.S3Backend.list_objects

    def list_objects(self: Any, bucket: Any, prefix: Any, delimiter: Any, marker: Any, max_keys: Any) -> Any:
        if not prefix or isinstance(bucket, models.FakeTableStorageBucket) or not isinstance(bucket.keys, _VersionedKeyStore):
            return original(self, bucket, prefix, delimiter, marker, max_keys)
        key_results = set()
        folder_results = set()
        for key_name, key in _keys_under(bucket.keys, prefix):
            key_without_prefix = key_name.replace(prefix, "", 1)
            if delimiter and delimiter in key_without_prefix:
                folder_results.add(f"{prefix}{key_without_prefix.split(delimiter)[0]}{delimiter}")
            else:
                key_results.add(key)
        key_results = sorted((k for k in key_results if not isinstance(k, models.FakeDeleteMarker)), key=lambda k: k.name)
        folder_results = sorted(folder_results)
        if marker:
            limit = self._pagination_tokens.get(marker) or marker
            key_results = self._get_results_from_token(key_results, limit)
        if max_keys is not None:
            key_results, is_truncated, next_marker = self._truncate_result(key_results, max_keys)
        else:
            is_truncated, next_marker = False, None
        return key_results, folder_results, is_truncated, next_marker

    list_objects.__wrapped__ = original  # type: ignore[attr-defined]
    models.S3Backend.list_objects = list_objects


def check(rounds: int = 200, seed: int = 7) -> int:
    """Random buckets, prefixes, delimiters, markers and deletions: the indexed listing answers
    exactly as moto's own. Returns the number of listings compared."""
    import random

    import moto.s3.models as models

    fast = models.S3Backend.list_objects
    slow = fast.__wrapped__
    rng = random.Random(seed)
    backend = models.s3_backends["123456789012"]["aws"]
    compared = 0
    for r in range(rounds):
        name = f"bench-check-{r}"
        backend.create_bucket(name, "us-east-1")
        bucket = backend.get_bucket(name)
        if r % 2:
            backend.put_bucket_versioning(name, "Enabled")  # deletions leave delete markers
        keys = [f"{rng.choice('ab')}/{rng.choice('xyz')}/{rng.randrange(40):02d}" for _ in range(rng.randrange(1, 60))]
        for k in keys:
            backend.put_object(name, k, b"x")
        for k in rng.sample(keys, len(keys) // 5):
            backend.delete_object(name, k)
        for _ in range(5):
            prefix = rng.choice(["a", "a/", "a/x", "b/y/1", "c", "a/z/0"])
            delimiter = rng.choice([None, "/"])
            marker = rng.choice([None, rng.choice(keys)])
            max_keys = rng.choice([None, 1, 3, 1000])
            args = (bucket, prefix, delimiter, marker, max_keys)
            got, want = fast(backend, *args), slow(backend, *args)
            got = ([k.name for k in got[0]], list(got[1]), got[2])
            want = ([k.name for k in want[0]], list(want[1]), want[2])
            if got != want:
                raise AssertionError(f"listing differs for {args[1:]}: {got} != {want}")
            compared += 1
        backend.put_object(name, "a/x/new", b"y")  # a change after listing: the index must follow
        got = [k.name for k in fast(backend, bucket, "a/x/", None, None, None)[0]]
        want = [k.name for k in slow(backend, bucket, "a/x/", None, None, None)[0]]
        if got != want:
            raise AssertionError(f"index stale after a put: {got} != {want}")
        compared += 1
    return compared
