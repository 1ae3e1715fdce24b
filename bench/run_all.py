"""Every benchmark, one after another; prints their Markdown sections together.

    make bench        # or: .venv/bin/python -m bench.run_all   (from the project root)

A benchmark is a `bench/bench_*.py` module with a `main() -> str` returning its section.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import cast

import bench
from bench import common


def bench_modules() -> list[str]:
    return sorted(
        f"bench.{info.name}"
        for info in pkgutil.iter_modules(bench.__path__)
        if info.name.startswith("bench_")
    )


def main() -> str:
    sections = [
        "# Benchmarks",
        "",
        f"{common.utc_now()} on {common.machine_line()}.",
        "",
    ]
    for name in bench_modules():
        module = importlib.import_module(name)
        run = getattr(module, "main", None)
        if run is None:
            continue
        common.progress(f"running {name}")
        sections.append(cast(Callable[[], str], run)())
    return "\n".join(sections)


if __name__ == "__main__":
    print(main())
