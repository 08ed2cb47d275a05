"""The portal in a real browser (the system's Chromium, headless, through Playwright) against
a real uvicorn: a therapist signs in through the form, finds the client, sees every chart
drawn at a legible size and downloads the PDF, with JavaScript on and off. SQLite only: the
pages are the same on either database, and tests/portal/test_portal.py covers both."""

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.factories import register, share_with
from tests.portal.live import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    running_portal,
    seed_diary,
)

# Skipped on a laptop without Chromium (`make system-packages` installs it); never under CI.
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and os.environ.get("CI") != "true", reason="no system Chromium"
)

MIN_CHART_WIDTH = 300


@pytest.fixture(scope="module", params=["sqlite"])
def portal(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with running_portal(tmp_path_factory.mktemp(request.param) / "portal.db") as base_url:
        yield base_url


@pytest.fixture(scope="module")
def therapist_email(portal: str) -> str:
    """A therapist with one client who shares the full diary: six weeks of it."""
    with httpx.Client(base_url=portal) as http:
        therapist = register(http, role="therapist", name="Dr Maya Okafor")
        client = register(http, name="Sam Rivera")
        share_with(http, client, therapist, "full")
        seed_diary(http, client)
    return therapist.email


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _sign_in(page: Page, portal: str, email: str) -> None:
    page.goto(f"{portal}/portal/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{portal}/portal/")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_therapist_reads_a_brief_and_downloads_it(
    portal: str, therapist_email: str, browser: Browser, javascript: bool, tmp_path: Path
) -> None:
    context = browser.new_context(
        java_script_enabled=javascript,
        viewport={"width": 1280, "height": 900},
        accept_downloads=True,
    )
    page = context.new_page()
    suffix = "js" if javascript else "no-js"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        _sign_in(page, portal, therapist_email)
        expect(page.get_by_role("heading", name="Your clients")).to_be_visible()
        expect(page.get_by_text("Signed in as")).to_contain_text("Dr Maya Okafor")
        row = page.get_by_role("row").filter(has_text="Sam Rivera")
        expect(row).to_contain_text("Full diary")
        expect(row).to_contain_text("notice")  # this week's mood of 1
        page.screenshot(path=SCREENSHOTS / f"clients-{suffix}.png", full_page=True)

        page.get_by_role("link", name="Sam Rivera").click()
        expect(page.get_by_role("heading", name="Sam Rivera", level=1)).to_be_visible()
        charts = page.locator("svg[role=img]")
        assert charts.count() >= 5  # mood, people, PHQ-9, GAD-7, closeness circle
        for index in range(charts.count()):
            chart = charts.nth(index)
            chart.scroll_into_view_if_needed()
            expect(chart).to_be_visible()
            box = chart.bounding_box()
            assert box is not None
            assert box["width"] >= MIN_CHART_WIDTH, (index, box)
        page.screenshot(path=SCREENSHOTS / f"brief-{suffix}.png", full_page=True)

        with page.expect_download() as download_info:
            page.get_by_role("link", name="Download this brief as a PDF").click()
        download = download_info.value
        assert download.suggested_filename.startswith("session-brief-")
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        assert saved.read_bytes().startswith(b"%PDF")
    finally:
        context.close()
