"""A browser's view of the portal for TestClient tests: its own cookies, the forms' tokens."""

import re
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def browser(app: FastAPI) -> TestClient:
    """A client with a cookie jar of its own (one per person in a test); no redirects
    followed, so that each answer can be checked."""
    return TestClient(app, raise_server_exceptions=False, follow_redirects=False)


def csrf_token(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


def submit_login(web: TestClient, email: str, password: str = PASSWORD) -> httpx.Response:
    form = web.get("/portal/login")
    assert form.status_code == 200, form.text
    data = {"email": email, "password": password, "csrf_token": csrf_token(form)}
    return web.post("/portal/login", data=data)


def sign_in(app: FastAPI, email: str) -> TestClient:
    web = browser(app)
    response = submit_login(web, email)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/portal/"
    return web


def post_form(web: TestClient, path: str, **fields: Any) -> httpx.Response:
    """A form posted with the token of the page that shows it (the portal's home)."""
    token = csrf_token(web.get("/portal/"))
    return web.post(path, data={"csrf_token": token, **fields})


def assert_page(response: httpx.Response, status: int) -> str:
    """An HTML page of the portal: the status, the strict CSP, no script, not cached."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src" not in policy
    assert "default-src 'none'" in policy
    assert response.headers["cache-control"] == "no-store"
    assert "<script" not in response.text.lower()
    return response.text
