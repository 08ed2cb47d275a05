"""A/B of the summaries: old code on the old schema against this tree, alternated in one run.

    .venv/bin/python bench/summary_ab.py --old /tmp/old [--backend sqlite|postgresql]
        [--other-owners N] [--rounds 6] [--requests 10] [--path NAME ...]

`--old` is a checkout of the old code (e.g. `git worktree add --detach /tmp/old <commit>`).
Two fresh databases, one migrated with the old checkout's migrations and one with this
tree's, each get the heavy client of bench/summary_latency.py (the same diary) imported
through the app that then serves it, as bench/summary_latency.py does (so SQLite has the
statistics it would have right after an import: none). One process serves both; the old
app answers the summaries with the old checkout's `app/summaries/` router and service. The requests
alternate old and new in rounds (ABBA order); the figures are the median latency and the
CPU time per request of this process plus the PostgreSQL backends of that database.
With `--other-owners N`, both databases then get N × 500 other owners' entries (PostgreSQL
is ANALYZEd) and are measured again.
"""

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from types import ModuleType
from typing import Any

if __package__ in {None, ""}:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.update(ENVIRONMENT="test", DATABASE_URL="sqlite:///:memory:")

from fastapi.testclient import TestClient

import app.main
import app.summaries.router as new_router
from bench import common, seed
from bench.summary_latency import (
    PATHS,
    SECRET_KEY,
    postgres_backend_seconds,
    production_settings,
    seed_heavy_client,
    silence_app_logs,
)


def load_module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_old_router(old: Path) -> ModuleType:
    """The old checkout's summaries router, answering with its own service module."""
    service = load_module("old_summaries_service", old / "app/summaries/service.py")
    router = load_module("old_summaries_router", old / "app/summaries/router.py")
    router.service = service  # type: ignore[attr-defined]
    return router


def migrate(database_url: str, checkout: Path) -> None:
    env = dict(
        os.environ, DATABASE_URL=database_url, ENVIRONMENT="production", SECRET_KEY=SECRET_KEY
    )
    common.migrate(env, checkout)


class Variant:
    def __init__(self, name: str, url: str, router: ModuleType, backend: str) -> None:
        self.name, self.url = name, url
        app.main.summaries_router = router.router  # type: ignore[attr-defined]
        try:
            self.app = app.main.create_app(production_settings(url))
        finally:
            app.main.summaries_router = new_router.router  # type: ignore[attr-defined]
        self.client = TestClient(self.app)
        self.client.__enter__()
        self.database_seconds: Callable[[], float] = (
            postgres_backend_seconds(url) if backend == "postgresql" else lambda: 0.0
        )
        self.headers: dict[str, str] = {}

    def get(self, path: str) -> Any:
        response = self.client.get(path, headers=self.headers)
        response.raise_for_status()
        return response

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        self.app.state.engine.dispose()


def measure(variants: list[Variant], paths: list[str], args: argparse.Namespace) -> None:
    for name in paths:
        path = PATHS[name]
        wall: dict[str, list[float]] = {v.name: [] for v in variants}
        cpu: dict[str, list[float]] = {v.name: [] for v in variants}
        for variant in variants:
            for _ in range(args.warmup):
                variant.get(path)
        # Check the answers agree before timing anything.
        bodies = [variant.get(path).json() for variant in variants]
        same = all(body == bodies[0] for body in bodies)
        for round_ in range(args.rounds):
            order = variants if round_ % 2 == 0 else variants[::-1]
            for variant in order:
                before = time.process_time() + variant.database_seconds()
                for _ in range(args.requests):
                    started = time.perf_counter()
                    variant.get(path)
                    wall[variant.name].append((time.perf_counter() - started) * 1000)
                used = time.process_time() + variant.database_seconds() - before
                cpu[variant.name].append(used * 1000 / args.requests)
        cells = [
            f"{v.name} median {statistics.median(wall[v.name]):6.1f} ms"
            f" CPU {statistics.median(cpu[v.name]):6.1f} ms/req"
            f" (rounds {min(cpu[v.name]):.1f}-{max(cpu[v.name]):.1f})"
            for v in variants
        ]
        ratio = statistics.median(wall[variants[1].name]) / statistics.median(
            wall[variants[0].name]
        )
        print(
            f"  {name:22} " + " | ".join(cells) + f" | new/old {ratio:.2f}"
            f"{'' if same else '  ANSWERS DIFFER'}",
            flush=True,
        )


def run_backend(backend: str, args: argparse.Namespace, workdir: Path) -> None:
    old_router = load_old_router(args.old)
    variants: list[Variant] = []
    with ExitStack() as stack:
        for name, checkout, router in [
            ("old", args.old, old_router),
            ("new", Path(common.ROOT), new_router),
        ]:
            url = stack.enter_context(
                common.fresh_database(backend, workdir, args.pg_url, prefix=f"summary_ab_{name}")
            )
            migrate(url, checkout)
            variant = Variant(name, url, router, backend)
            variants.append(variant)
            silence_app_logs()
            started = time.perf_counter()
            variant.headers = seed_heavy_client(variant.client)
            print(
                f"{backend} {name}: heavy client imported in {time.perf_counter() - started:.0f} s"
            )
        try:
            common.wait_until_quiet(max_wait=10)
            measure(variants, args.paths, args)
            if args.other_owners:
                print(f"{backend}: writing {args.other_owners} other owners' entries to both")
                for variant in variants:
                    seed.bulk_other_owners(variant.url, args.other_owners, 500)
                common.wait_until_quiet(max_wait=10)
                measure(variants, args.paths, args)
        finally:
            for variant in variants:
                variant.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", type=Path, required=True)
    parser.add_argument(
        "--backend", choices=("sqlite", "postgresql"), action="append", dest="backends"
    )
    parser.add_argument("--path", choices=list(PATHS), action="append", dest="paths")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--other-owners", type=int, default=0)
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", common.DEFAULT_PG_URL))
    args = parser.parse_args()
    args.paths = args.paths or [name for name in PATHS if not name.startswith("entries")]
    with tempfile.TemporaryDirectory(prefix="summary-ab-") as workdir:
        for backend in args.backends or ["sqlite", "postgresql"]:
            run_backend(backend, args, Path(workdir))


if __name__ == "__main__":
    main()
