"""Who may call what: every route of the app × every kind of caller → the expected answer.

The routes are read from the app's own OpenAPI document, and each must have a rule in
`RULES`: a route nobody wrote a rule for fails here (deny by default). Path parameters are
filled with the owner's real ids (and `session_id` queries with the owner's session), so the
object-level checks are real: another client asks for the owner's entry by its id, an
unlinked therapist for the owner's diary by the owner's id.

The callers are built once per backend: the owner (a client with a person, a focus area, an
entry, a session, a measure, a reminder, a calendar feed and shares), another client,
therapists linked to the owner at scope `full` and `summaries`, a therapist never linked, one
whose share was revoked, one whose share expired, and an anonymous caller.
"""

import itertools
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import app as module_app
from tests.factories import (
    PASSWORD,
    Account,
    assert_problem,
    create_entry,
    create_focus_area,
    create_measure,
    create_person,
    create_session,
    create_share,
    entry_body,
    focus_area_body,
    list_all,
    login,
    measure_body,
    person_body,
    redeem_code,
    register,
    revoke_share,
    session_body,
    share_with,
)
from tests.reminders.support import create_reminder, reminder_body

OWNER = "owner"
OTHER = "other client"
FULL = "therapist linked (full)"
SUMMARIES = "therapist linked (summaries)"
UNLINKED = "therapist never linked"
REVOKED = "therapist whose share was revoked"
EXPIRED = "therapist whose share expired"
ANONYMOUS = "anonymous"
IDENTITIES = (OWNER, OTHER, FULL, SUMMARIES, UNLINKED, REVOKED, EXPIRED, ANONYMOUS)
THERAPISTS = (FULL, SUMMARIES, UNLINKED, REVOKED, EXPIRED)
CLIENTS = (OWNER, OTHER)

OK = "2xx"  # any success; otherwise the exact status expected
Rule = dict[str, int | str]

# Health checks, sign-up and the token endpoints, and the app's emotion vocabulary (no
# personal data): the same answer whoever calls.
PUBLIC: Rule = dict.fromkeys(IDENTITIES, OK)
# The caller's own account, whatever its role.
ACCOUNT: Rule = {**dict.fromkeys(IDENTITIES, OK), ANONYMOUS: 401}
WRONG = "AAAAA-BBBBB"  # a code of the right shape that was never issued
WRONG_SECRET: Rule = {**dict.fromkeys(IDENTITIES, 403), ANONYMOUS: 401}
WRONG_CODE: Rule = {**dict.fromkeys(IDENTITIES, 422), ANONYMOUS: 401}
PUBLIC_WRONG_CODE: Rule = dict.fromkeys(IDENTITIES, 422)
# A client's own collection: each client reads and adds to its own; therapists never.
CLIENT_COLLECTION: Rule = {
    **dict.fromkeys(CLIENTS, OK),
    **dict.fromkeys(THERAPISTS, 403),
    ANONYMOUS: 401,
}
# One of the owner's rows, named by its id: another client gets 404, as for an unknown id.
CLIENT_OBJECT: Rule = {**CLIENT_COLLECTION, OTHER: 404}
# The therapist's own side: redeeming codes, the list of linked clients.
THERAPIST_OWN: Rule = {**dict.fromkeys(CLIENTS, 403), **dict.fromkeys(THERAPISTS, OK)}
THERAPIST_OWN[ANONYMOUS] = 401
# The owner's diary through a therapist's link: only a live link reads, and only at its scope.
THERAPIST_FULL_VIEW: Rule = {
    **dict.fromkeys(CLIENTS, 403),
    FULL: 200,
    SUMMARIES: 403,
    UNLINKED: 404,
    REVOKED: 404,
    EXPIRED: 404,
    ANONYMOUS: 401,
}
THERAPIST_SUMMARY_VIEW: Rule = {**THERAPIST_FULL_VIEW, SUMMARIES: 200}
# The calendar feed, called with the owner's feed token: the token is the credential, so
# whoever holds it reads the feed (sessions and reminders, never diary text).
CALENDAR_FEED: Rule = PUBLIC

THERAPIST_CLIENT = "/v1/therapist/clients/{client_id}"
RULES: dict[str, tuple[Rule, set[str]]] = {
    "/healthz": (PUBLIC, {"GET"}),
    "/readyz": (PUBLIC, {"GET"}),
    "/v1/auth/register": (PUBLIC, {"POST"}),
    "/v1/auth/token": (PUBLIC, {"POST"}),
    "/v1/auth/refresh": (PUBLIC, {"POST"}),
    "/v1/auth/logout": (PUBLIC, {"POST"}),
    "/v1/emotions": (PUBLIC, {"GET"}),
    "/v1/me": (ACCOUNT, {"GET", "PATCH", "DELETE"}),
    # Called with a wrong current password or code: the same refusal for every account.
    "/v1/me/password": (WRONG_SECRET, {"POST"}),
    "/v1/auth/verify-email": (WRONG_CODE, {"POST"}),
    "/v1/auth/verify-email/resend": (ACCOUNT, {"POST"}),
    # No enumeration: the same answer whoever calls, for any address.
    "/v1/auth/password-reset": (PUBLIC, {"POST"}),
    "/v1/auth/password-reset/confirm": (PUBLIC_WRONG_CODE, {"POST"}),
    "/v1/people": (CLIENT_COLLECTION, {"GET", "POST"}),
    "/v1/people/{person_id}": (CLIENT_OBJECT, {"GET", "PATCH", "DELETE"}),
    "/v1/focus-areas": (CLIENT_COLLECTION, {"GET", "POST"}),
    "/v1/focus-areas/{focus_area_id}": (CLIENT_OBJECT, {"GET", "PATCH", "DELETE"}),
    "/v1/entries": (CLIENT_COLLECTION, {"GET", "POST"}),
    "/v1/entries/{entry_id}": (CLIENT_OBJECT, {"GET", "PATCH", "DELETE"}),
    "/v1/sessions": (CLIENT_COLLECTION, {"GET", "POST"}),
    "/v1/sessions/{session_id}": (CLIENT_OBJECT, {"GET", "PATCH", "DELETE"}),
    "/v1/measures": (CLIENT_COLLECTION, {"GET", "POST"}),
    "/v1/measures/{measure_id}": (CLIENT_OBJECT, {"GET", "PATCH", "DELETE"}),
    "/v1/measures/due": (CLIENT_COLLECTION, {"GET"}),
    "/v1/measure-schedule": (CLIENT_COLLECTION, {"GET", "PUT"}),
    "/v1/reminders": (CLIENT_COLLECTION, {"GET", "POST"}),
    "/v1/reminders/{reminder_id}": (CLIENT_OBJECT, {"GET", "PATCH", "DELETE"}),
    "/v1/calendar-token": (CLIENT_COLLECTION, {"POST"}),
    "/v1/calendar.ics": (CALENDAR_FEED, {"GET"}),
    "/v1/summaries/mood-by-person": (CLIENT_COLLECTION, {"GET"}),
    "/v1/summaries/mood-timeline": (CLIENT_COLLECTION, {"GET"}),
    "/v1/summaries/focus-areas": (CLIENT_COLLECTION, {"GET"}),
    # Called with ?session_id= the owner's session.
    "/v1/summaries/between-sessions": (CLIENT_OBJECT, {"GET"}),
    "/v1/reports/session-brief": (CLIENT_COLLECTION, {"GET"}),
    "/v1/sync": (CLIENT_COLLECTION, {"GET"}),
    "/v1/safety-events": (CLIENT_COLLECTION, {"GET"}),
    "/v1/safety-events/{event_id}": (CLIENT_OBJECT, {"GET"}),
    "/v1/shares": (CLIENT_COLLECTION, {"GET", "POST"}),
    "/v1/shares/{share_id}": (CLIENT_OBJECT, {"DELETE"}),
    "/v1/access-log": (CLIENT_COLLECTION, {"GET"}),
    "/v1/export": (CLIENT_COLLECTION, {"GET"}),
    "/v1/import": (CLIENT_COLLECTION, {"POST"}),
    "/v1/therapist/links": (THERAPIST_OWN, {"POST"}),
    "/v1/therapist/clients": (THERAPIST_OWN, {"GET"}),
    f"{THERAPIST_CLIENT}/entries": (THERAPIST_FULL_VIEW, {"GET"}),
    f"{THERAPIST_CLIENT}/people": (THERAPIST_FULL_VIEW, {"GET"}),
    f"{THERAPIST_CLIENT}/focus-areas": (THERAPIST_FULL_VIEW, {"GET"}),
    f"{THERAPIST_CLIENT}/sessions": (THERAPIST_FULL_VIEW, {"GET"}),
    f"{THERAPIST_CLIENT}/measures": (THERAPIST_FULL_VIEW, {"GET"}),
    f"{THERAPIST_CLIENT}/export": (THERAPIST_FULL_VIEW, {"GET"}),
    f"{THERAPIST_CLIENT}/measure-schedule": (THERAPIST_FULL_VIEW, {"GET"}),
    f"{THERAPIST_CLIENT}/measures/due": (THERAPIST_FULL_VIEW, {"GET"}),
    f"{THERAPIST_CLIENT}/summaries/mood-by-person": (THERAPIST_SUMMARY_VIEW, {"GET"}),
    f"{THERAPIST_CLIENT}/summaries/mood-timeline": (THERAPIST_SUMMARY_VIEW, {"GET"}),
    f"{THERAPIST_CLIENT}/summaries/focus-areas": (THERAPIST_SUMMARY_VIEW, {"GET"}),
    f"{THERAPIST_CLIENT}/summaries/between-sessions": (THERAPIST_SUMMARY_VIEW, {"GET"}),
    f"{THERAPIST_CLIENT}/safety-events": (THERAPIST_SUMMARY_VIEW, {"GET"}),
    f"{THERAPIST_CLIENT}/reports/session-brief": (THERAPIST_SUMMARY_VIEW, {"GET"}),
}

OPENAPI_PATHS: dict[str, dict[str, Any]] = module_app.openapi()["paths"]
ROUTES = [(method.upper(), path) for path, ops in OPENAPI_PATHS.items() for method in ops]


def rule_for(method: str, path: str) -> Rule:
    if path not in RULES:
        pytest.fail(f"{method} {path} has no authorization rule: add one to RULES")
    rule, methods = RULES[path]
    if method not in methods:
        pytest.fail(f"{method} {path}: the rule for this path does not cover {method}")
    return rule


# --- the callers ------------------------------------------------------------------------------


@dataclass
class World:
    http: TestClient
    accounts: dict[str, Account]  # every identity but the anonymous one
    ids: dict[str, str]  # path parameter → the owner's id
    secret: str  # the owner's entry text: only the owner and the full link may read it
    refresh_token: str  # the head of a refresh chain, for POST /v1/auth/refresh
    logout_token: str  # a refresh token to log out with (logging out twice is a 204 too)
    numbers: Iterator[int]  # fresh therapy session numbers

    @property
    def owner(self) -> Account:
        return self.accounts[OWNER]

    @property
    def other(self) -> Account:
        return self.accounts[OTHER]


def in_seconds(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def read_entries(http: TestClient, therapist: Account, client_id: str) -> Any:
    return http.get(f"/v1/therapist/clients/{client_id}/entries", headers=therapist.headers)


def make_therapist(http: TestClient, owner: Account, identity: str) -> Account:
    """A therapist standing to the owner as `identity` says (expired: see the next one)."""
    therapist = register(http, role="therapist", name=f"Dr {identity}")
    if identity in (FULL, SUMMARIES):
        share_with(http, owner, therapist, "full" if identity == FULL else "summaries")
    elif identity == REVOKED:
        share = create_share(http, owner, "full")
        redeem_code(http, therapist, share["code"])
        assert read_entries(http, therapist, owner.id).status_code == 200
        revoke_share(http, owner, share["id"])
    else:
        assert identity == UNLINKED
    return therapist


def make_expiring_therapist(
    http: TestClient, owner: Account, seconds: float
) -> tuple[Account, datetime]:
    """A therapist whose access to the owner ends `seconds` from now, and that moment."""
    therapist = register(http, role="therapist", name="Dr Expiring")
    expires_at = in_seconds(seconds)
    share_with(http, owner, therapist, "full", expires_at.isoformat())
    # The link worked before it expired, so the 404 afterwards is the expiry's doing.
    assert read_entries(http, therapist, owner.id).status_code == 200
    return therapist, expires_at


def wait_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds() + 0.3))


def make_identity(http: TestClient, owner: Account, identity: str) -> Account:
    """A new account in the same standing as `identity` (for erasing one's own account)."""
    if identity in CLIENTS:
        return register(http, name="Spare")
    if identity == EXPIRED:
        therapist, expires_at = make_expiring_therapist(http, owner, 2.0)
        wait_until(expires_at)
        return therapist
    return make_therapist(http, owner, identity)


@pytest.fixture(scope="module")
def world(app: FastAPI) -> Iterator[World]:
    with TestClient(app, raise_server_exceptions=False) as http:
        owner = register(http, name="Ana")
        # First, so that building everything else uses up most of the wait.
        expiring, expires_at = make_expiring_therapist(http, owner, 3.0)
        accounts = {OWNER: owner, EXPIRED: expiring}
        accounts[OTHER] = register(http, name="Bob")
        create_entry(http, accounts[OTHER], event="Bob's own entry")
        secret = f"Argued with mum about the move {uuid.uuid4().hex}"
        person = create_person(http, owner, name="Mum", relationship="parent")
        focus_area = create_focus_area(http, owner, person_ids=[person["id"]])
        entry = create_entry(
            http,
            owner,
            event=secret,
            focus_area_id=focus_area["id"],
            people=[{"person_id": person["id"], "quality": -1}],
            emotions=[{"label": "hurt", "intensity": 6, "person_id": person["id"]}],
        )
        session = create_session(http, owner, number=1)
        measure = create_measure(http, owner)
        reminder = create_reminder(http, owner)
        calendar = http.post("/v1/calendar-token", headers=owner.headers)
        assert calendar.status_code == 201, calendar.text
        low = create_entry(http, owner, mood=1)  # raises a safety event
        [event] = http.get("/v1/safety-events", headers=owner.headers).json()["items"]
        assert event["source_id"] == low["id"]
        for identity in (FULL, SUMMARIES, UNLINKED, REVOKED):
            accounts[identity] = make_therapist(http, owner, identity)
        share = create_share(http, owner, "summaries")  # pending: the one others try to revoke
        refresh_token = login(http, accounts[OTHER].email)["refresh_token"]
        logout_token = login(http, accounts[OTHER].email)["refresh_token"]
        wait_until(expires_at)
        yield World(
            http=http,
            accounts=accounts,
            ids={
                "person_id": person["id"],
                "focus_area_id": focus_area["id"],
                "entry_id": entry["id"],
                "session_id": session["id"],
                "measure_id": measure["id"],
                "event_id": event["id"],
                "share_id": share["id"],
                "reminder_id": reminder["id"],
                "calendar_token": calendar.json()["token"],
                "client_id": owner.id,
            },
            secret=secret,
            refresh_token=refresh_token,
            logout_token=logout_token,
            numbers=itertools.count(2),
        )


# --- the requests ----------------------------------------------------------------------------

Kwargs = dict[str, Any]

BODIES: dict[tuple[str, str], Callable[[World], Kwargs]] = {
    ("POST", "/v1/auth/register"): lambda w: {
        "json": {
            "email": f"new-{uuid.uuid4().hex[:12]}@example.org",
            "password": PASSWORD,
            "role": "client",
            "display_name": "New",
            "timezone": "UTC",
        }
    },
    ("POST", "/v1/auth/token"): lambda w: {
        "data": {"username": w.other.email, "password": PASSWORD}
    },
    ("POST", "/v1/auth/refresh"): lambda w: {"json": {"refresh_token": w.refresh_token}},
    ("POST", "/v1/auth/logout"): lambda w: {"json": {"refresh_token": w.logout_token}},
    ("PATCH", "/v1/me"): lambda w: {"json": {"timezone": "UTC"}},
    ("DELETE", "/v1/me"): lambda w: {"json": {"password": PASSWORD}},
    ("POST", "/v1/me/password"): lambda w: {
        "json": {"current_password": "not the password", "new_password": "a new long passphrase"}
    },
    ("POST", "/v1/auth/verify-email"): lambda w: {"json": {"code": WRONG}},
    # An address of its own each time: five requests for one address are throttled.
    ("POST", "/v1/auth/password-reset"): lambda w: {
        "json": {"email": f"reset-{uuid.uuid4().hex[:12]}@example.org"}
    },
    ("POST", "/v1/auth/password-reset/confirm"): lambda w: {
        "json": {"email": w.other.email, "code": WRONG, "new_password": "a new long passphrase"}
    },
    ("POST", "/v1/people"): lambda w: {"json": person_body()},
    ("PATCH", "/v1/people/{person_id}"): lambda w: {"json": {"closeness": 1}},
    ("POST", "/v1/focus-areas"): lambda w: {"json": focus_area_body(status="resolved")},
    ("PATCH", "/v1/focus-areas/{focus_area_id}"): lambda w: {"json": {"title": "Mum"}},
    ("POST", "/v1/entries"): lambda w: {"json": entry_body()},
    ("PATCH", "/v1/entries/{entry_id}"): lambda w: {"json": {"mood": 4}},
    ("POST", "/v1/sessions"): lambda w: {"json": session_body(number=next(w.numbers))},
    ("PATCH", "/v1/sessions/{session_id}"): lambda w: {"json": {"notes": "Talked about work"}},
    ("POST", "/v1/measures"): lambda w: {"json": measure_body()},
    ("PATCH", "/v1/measures/{measure_id}"): lambda w: {"json": {"answers": [1] * 9}},
    ("PUT", "/v1/measure-schedule"): lambda w: {"json": {"phq9": {"every_n_sessions": 4}}},
    ("POST", "/v1/reminders"): lambda w: {"json": reminder_body()},
    ("PATCH", "/v1/reminders/{reminder_id}"): lambda w: {"json": {"local_time": "21:00"}},
    ("POST", "/v1/shares"): lambda w: {"json": {"scope": "summaries"}},
    ("POST", "/v1/import"): lambda w: {"json": {"format_version": 1}},  # nothing to add
    # A code of the other client's: redeeming it leaves the links to the owner as they are.
    ("POST", "/v1/therapist/links"): lambda w: {
        "json": {"code": create_share(w.http, w.other, "full")["code"]}
    },
}
QUERIES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/v1/summaries/between-sessions"): {"session_id": "{session_id}"},
    ("GET", f"{THERAPIST_CLIENT}/summaries/between-sessions"): {"session_id": "{session_id}"},
    ("GET", "/v1/calendar.ics"): {"token": "{calendar_token}"},
}
# What the owner deletes is made for the occasion, so the owner's rows above stay.
FRESH: dict[str, Callable[[World], str]] = {
    "person_id": lambda w: create_person(w.http, w.owner)["id"],
    "focus_area_id": lambda w: create_focus_area(w.http, w.owner, status="resolved")["id"],
    "entry_id": lambda w: create_entry(w.http, w.owner)["id"],
    "session_id": lambda w: create_session(w.http, w.owner, number=next(w.numbers))["id"],
    "measure_id": lambda w: create_measure(w.http, w.owner)["id"],
    "share_id": lambda w: create_share(w.http, w.owner, "summaries")["id"],
    "reminder_id": lambda w: create_reminder(w.http, w.owner)["id"],
}
PARAMETER = re.compile(r"\{(\w+)\}")


@dataclass
class Call:
    method: str
    url: str
    headers: dict[str, str]
    kwargs: Kwargs


def prepare(world: World, method: str, path: str, identity: str) -> Call:
    account = world.accounts.get(identity)
    if (method, path) == ("DELETE", "/v1/me") and account is not None:
        account = make_identity(world.http, world.owner, identity)  # erase a double
    headers = dict(account.headers) if account is not None else {}
    if method in ("PATCH", "DELETE"):
        headers["If-Match"] = "*"

    def fill(name: str) -> str:
        if identity == OWNER and method == "DELETE" and name in FRESH:
            return FRESH[name](world)
        if name not in world.ids:
            pytest.fail(f"{method} {path}: no id of the owner's to fill in for {{{name}}}")
        return world.ids[name]

    url = PARAMETER.sub(lambda match: fill(match.group(1)), path)
    kwargs: Kwargs = {}
    if "requestBody" in OPENAPI_PATHS[path][method.lower()]:
        if (method, path) not in BODIES:
            pytest.fail(f"{method} {path} takes a body: add a minimal valid one to BODIES")
        kwargs = BODIES[(method, path)](world)
    if (method, path) in QUERIES:
        kwargs["params"] = {
            key: PARAMETER.sub(lambda match: fill(match.group(1)), value)
            for key, value in QUERIES[(method, path)].items()
        }
    return Call(method, url, headers, kwargs)


def owner_view(world: World, path: str, url: str) -> Any:
    """How the owner sees the row a path names (to show a refused write left it alone)."""
    if "get" in OPENAPI_PATHS.get(path, {}):
        response = world.http.get(url, headers=world.owner.headers)
        return response.status_code, response.headers.get("etag"), response.json()
    if path == "/v1/shares/{share_id}":
        response = world.http.get("/v1/shares", params={"limit": 100}, headers=world.owner.headers)
        return [share for share in response.json()["items"] if url.endswith(share["id"])]
    return None


# --- the tests -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "identity"),
    [
        pytest.param(method, path, identity, id=f"{method} {path} as {identity}")
        for method, path in ROUTES
        for identity in IDENTITIES
    ],
)
def test_each_caller_gets_what_the_routes_rule_says(
    world: World, method: str, path: str, identity: str
) -> None:
    expected = rule_for(method, path)[identity]
    call = prepare(world, method, path, identity)
    refused_write = method != "GET" and expected != OK and PARAMETER.search(path) is not None
    before = owner_view(world, path, call.url) if refused_write else None

    response = world.http.request(call.method, call.url, headers=call.headers, **call.kwargs)

    if expected == OK:
        assert 200 <= response.status_code < 300, response.text
    elif int(expected) < 300:
        assert response.status_code == expected, response.text
    else:
        assert_problem(response, int(expected))
    if identity not in (OWNER, FULL):
        assert world.secret not in response.text
    if refused_write:
        assert owner_view(world, path, call.url) == before
    if path == "/v1/auth/refresh" and response.status_code == 200:
        world.refresh_token = response.json()["refresh_token"]
    if path == "/v1/calendar-token" and identity == OWNER:  # the feed's old token is spent
        world.ids["calendar_token"] = response.json()["token"]


def test_every_route_of_the_app_has_a_rule() -> None:
    app_routes = {(method, path) for method, path in ROUTES}
    ruled = {(method, path) for path, (_, methods) in RULES.items() for method in methods}
    assert sorted(app_routes - ruled) == [], "routes without an authorization rule"
    assert sorted(ruled - app_routes) == [], "rules for routes the app does not have"
    for rule, _ in RULES.values():
        assert set(rule) == set(IDENTITIES)


@pytest.mark.parametrize("identity", THERAPISTS)
def test_the_owner_is_listed_only_for_a_live_link(world: World, identity: str) -> None:
    response = world.http.get("/v1/therapist/clients", headers=world.accounts[identity].headers)
    assert response.status_code == 200, response.text
    listed = {item["client_id"]: item for item in response.json()["items"]}
    if identity in (FULL, SUMMARIES):
        assert listed[world.owner.id]["scope"] == ("full" if identity == FULL else "summaries")
        assert listed[world.owner.id]["display_name"] == "Ana"
    else:
        assert world.owner.id not in listed


def test_the_owners_shares_list_the_state_of_each_link(world: World) -> None:
    shares = list_all(world.http, world.owner, "/v1/shares")
    by_therapist = {share["therapist_id"]: share for share in shares if share["therapist_id"]}
    states = {
        identity: by_therapist[world.accounts[identity].id]["status"]
        for identity in (FULL, SUMMARIES, REVOKED, EXPIRED)
    }
    assert states == {FULL: "active", SUMMARIES: "active", REVOKED: "revoked", EXPIRED: "expired"}
    assert world.accounts[UNLINKED].id not in by_therapist
