"""Run every benchmark (`make bench`). Each prints a markdown table for docs/benchmarks.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHES = [
    "bench/seed_demo.py",
    "bench/roster_import.py",
    "bench/payments_export.py",
    "bench/reconcile.py",
    "bench/load.py",
]

if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    for bench in BENCHES:
        print(f"\n## {bench}\n", flush=True)
        subprocess.run([sys.executable, bench, *sys.argv[1:]], cwd=root, check=True)
