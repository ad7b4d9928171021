"""Benchmark: `manage.py seed_demo` (two districts, ~19,000 pupils, set-based and audited), and the
obvious alternative for the pupils, one INSERT (and one audit append) per row, side by side.

    .venv/bin/python bench/seed_demo.py [--vendors sqlite postgresql] [--rows 2000]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import drop_database, fresh_database, manage, run_script


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vendors", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--rows", type=int, default=2000, help="pupils inserted by each method in the comparison")
    args = parser.parse_args()
    print("| database | seed_demo (2 tenants) | pupils: bulk, audited | pupils: row by row, audited | speed-up |")
    print("|---|---|---|---|---|")
    for vendor in args.vendors:
        env = fresh_database(vendor)
        try:
            seconds = manage(["seed_demo"], env)
            figures = json.loads(run_script("bench.seed_rows", [str(args.rows)], env))
        finally:
            drop_database(env)
        bulk, per_row = figures["bulk_s"], figures["per_row_s"]
        print(
            f"| {vendor} | {seconds:.1f} s ({figures['students']:,} pupils) "
            f"| {args.rows:,} in {bulk:.2f} s ({args.rows / bulk:,.0f}/s) "
            f"| {args.rows:,} in {per_row:.2f} s ({args.rows / per_row:,.0f}/s) | {per_row / bulk:.1f}× |"
        )


if __name__ == "__main__":
    main()
