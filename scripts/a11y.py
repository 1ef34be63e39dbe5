#!/usr/bin/env python3
"""Accessibility audit of the public pages with axe-core in headless Chromium, at 360 px.

    scripts/a11y.py BINARY        (needs Debian's chromium, PyPI's playwright, npm's axe-core)

Starts `BINARY demo` on a fresh directory, opens the home page, the public statistics of
the province and of a commune, the list of routes, a route and a place's page at 360 px
wide, runs axe-core (WCAG 2 A and AA rules) on each, and fails on any serious or critical
violation, or on a page wider than the screen.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from playwright.sync_api import sync_playwright


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def axe_source(work):
    subprocess.run(["npm", "install", "--silent", "--prefix", work, "axe-core@4"], check=True)
    return open(os.path.join(work, "node_modules", "axe-core", "axe.min.js")).read()


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="ngoso-a11y.")
    port = free_port()
    server = subprocess.Popen(
        [binary, "demo", "--dir", os.path.join(work, "demo"), "--households", "2000", "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "NGOSO_DATABASE_URL": ""},
    )
    base = f"http://127.0.0.1:{port}"
    failures = []
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        axe = axe_source(work)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=["--no-sandbox"])
            # The pages forbid inline scripts (Content-Security-Policy); axe is injected past it.
            page = browser.new_page(viewport={"width": 360, "height": 740}, bypass_csp=True)
            # A route and one of its places, found from the list of routes.
            routes = urllib.request.urlopen(base + "/r").read().decode()
            route = re.search(r'href="(/r/[0-9]+)"', routes).group(1)
            place = re.search(r'href="(/p/[a-z0-9]+)"', urllib.request.urlopen(base + route).read().decode()).group(1)
            for path in ["/", "/stats/80?period=2025", "/stats/28414?period=2025", "/stats/80?period=2025&lang=en",
                         "/r", route, place, place + "?lang=en"]:
                page.goto(base + path)
                page.add_script_tag(content=axe)
                result = page.evaluate("() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})")
                bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
                width = page.evaluate("document.documentElement.scrollWidth")
                print(f"{path}: {len(result['passes'])} rules pass, {len(result['violations'])} violations "
                      f"({len(bad)} serious or critical), width {width}px")
                for v in bad:
                    failures.append(f"{path}: {v['id']} ({v['impact']}): {v['help']} — " + json.dumps([n['target'] for n in v['nodes']][:5]))
                if width > 360:
                    failures.append(f"{path}: {width}px wide at 360px: scrolls sideways")
            browser.close()
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("\n".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
