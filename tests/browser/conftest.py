"""Browser tests: Debian's Chromium driven by Playwright against the live app.

Nothing downloads a browser: Playwright launches /usr/bin/chromium (installed by
`make test` when it runs as root). When Chromium or axe-core is missing the tests
are skipped with a reason that says what to install. Screenshots of each step are
kept in test-artifacts/browser/.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("RIS_CHROMIUM", "/usr/bin/chromium"))
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

# Playwright's sync API keeps an event loop running in this thread for the whole session, so
# Django's ORM calls from tests (here and in any test after these) must be allowed. Test-only:
# tests/ris/test_deploy_check.py removes it from the environment it checks.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    reason = None
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} no está instalado (como root: apt-get install chromium; `make test` lo hace)"
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def shots(request):
    """Save a numbered screenshot per step: shots(page, "login")."""
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    counter = {"n": 0}

    def take(page, step: str) -> Path:
        counter["n"] += 1
        path = folder / f"{counter['n']:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def new_page(browser, live_server):
    contexts = []

    def make(locale: str = "es-ES"):
        context = browser.new_context(base_url=live_server.url, locale=locale)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def login(page, username: str, password: str) -> None:
    page.goto("/entrar/")
    page.get_by_label("Usuario").fill(username)
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_load_state("networkidle")


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """Inject axe-core (from the npm registry, node_modules/) and return serious/critical violations."""
    if not AXE.exists():
        pytest.skip("axe-core no está instalado: ejecute `npm ci` (lo hace `make test`)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    found = [v for v in result["violations"] if v.get("impact") in impacts]
    if found:
        print(json.dumps([{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
                          for v in found], indent=1, ensure_ascii=False))
    return found
