"""The portal's screenshots in docs/screenshots/, made with sample data:

    .venv/bin/python -m tests.portal.screenshots

A therapist with three clients (one with a safety notice this week, one sharing summaries
only), the client list and the top of a brief, 1280 px wide, in the system's Chromium."""

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from tests.conftest import ROOT
from tests.factories import PASSWORD, register, share_with
from tests.portal.live import CHROMIUM, CHROMIUM_ARGS, running_portal, seed_diary

DOCS = ROOT / "docs" / "screenshots"
THERAPIST = "Dr Maya Okafor"


def _sample_practice(base_url: str) -> str:
    """The therapist's email, once three clients share with them."""
    with httpx.Client(base_url=base_url) as http:
        therapist = register(http, role="therapist", name=THERAPIST)
        priya = register(http, name="Priya Nair", timezone="Europe/London")
        share_with(http, priya, therapist, "full")
        seed_diary(http, priya, weeks=4, low=False)
        alex = register(http, name="Alex Chen", timezone="Europe/London")
        ends = (datetime.now(UTC) + timedelta(weeks=10)).isoformat()
        share_with(http, alex, therapist, "summaries", expires_at=ends)
        seed_diary(http, alex, weeks=8, low=False)
        sam = register(http, name="Sam Rivera", timezone="Europe/London")
        share_with(http, sam, therapist, "full")
        seed_diary(http, sam, weeks=6)
    return therapist.email


def main() -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as scratch,
        running_portal(Path(scratch) / "sample.db") as base_url,
    ):
        email = _sample_practice(base_url)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 640})
            page.goto(f"{base_url}/portal/login")
            page.get_by_label("Email").fill(email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base_url}/portal/")
            page.screenshot(path=DOCS / "portal-clients.png")
            page.set_viewport_size({"width": 1280, "height": 1100})
            page.get_by_role("link", name="Sam Rivera").click()
            page.get_by_role("heading", name="Mood over time").wait_for()
            page.screenshot(path=DOCS / "portal-brief.png")  # the top of the page
            browser.close()
    print(f"wrote {DOCS / 'portal-clients.png'} and {DOCS / 'portal-brief.png'}")


if __name__ == "__main__":
    main()
