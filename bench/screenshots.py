"""`make screenshots`: docs/screenshots/<role>-<width>.png, each demo role's home page at a laptop's
width (1280 px) and a phone's (390 px), in Chinese, with the demo data.

A fresh SQLite database in a temporary folder (migrated, `seed_demo` at SCALE, default 0.25: enough
for every block to show rows in a few minutes), the development server on a free port, and Playwright
driving Debian's chromium (never a downloaded browser). Chinese labels need a CJK font on the machine
(Debian: `apt-get install -y fonts-noto-cjk`), or every label is a row of boxes.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PASSWORD = "demo-2026"  # noqa: S105  demo.seed.DEMO_PASSWORD (printed by seed_demo, in the README)
ROLES = {
    "teacher": "a.teacher",
    "officer": "a.officer",
    "principal": "a.principal",
    "district": "a.district",
    "auditor": "a.auditor",
}
WIDTHS = (1280, 390)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _manage(args: list[str], env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def main() -> None:
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="screenshots-"))
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{folder / 'demo.sqlite3'}"}
    env.pop("REDIS_URL", None)  # tasks in-process, sessions in the database: nothing else to run
    server = None
    try:
        _manage(["migrate", "-v0"], env)
        _manage(["seed_demo", "--scale", os.environ.get("SCALE", "0.25")], env)
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/accounts/login/", timeout=1)  # noqa: S310  our own server
                break
            except OSError:
                time.sleep(0.2)
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            for role, username in ROLES.items():
                context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
                page = context.new_page()
                page.goto(f"{base}/accounts/login/")
                page.fill("#id_username", username)
                page.fill("#id_password", PASSWORD)
                with page.expect_navigation():
                    page.click("button[type=submit]")
                for width in WIDTHS:
                    page.set_viewport_size({"width": width, "height": 900})
                    page.goto(f"{base}/")
                    page.wait_for_load_state("networkidle")
                    target = OUT / f"{role}-{width}.png"
                    page.screenshot(path=str(target), full_page=True)
                    print(target.relative_to(ROOT))
                context.close()
            browser.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
