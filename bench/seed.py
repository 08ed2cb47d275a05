"""Realistic diaries, fast: generated JSON export documents (format_version 1) sent through
`POST /v1/import`, and minimal rows for many other owners written with plain SQL.

`seed_client` talks to any httpx client: a server's (bench/run.py) or a `TestClient` of
the app in process (bench/request_costs.py).

The documents look like what the app would export after months of use: an interpersonal
inventory, two focus areas, weekly sessions, PHQ-9/GAD-7 every few weeks, and entries with
people, emotions (some about one person), tags, communication analyses and a few private
ones. Generation is seeded, so every run imports the same shapes.
"""

import random
import secrets
import string
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.common import vacuum_like_autovacuum

PASSWORD = "correct horse battery staple"  # a throwaway benchmark account
RELATIONSHIPS = (
    "partner", "ex_partner", "parent", "child", "sibling", "grandparent", "other_family",
    "friend", "colleague", "manager", "neighbour", "carer", "health_professional", "other",
)  # fmt: skip
EVENT_TYPES = (
    "conversation", "conflict", "support_received", "support_given", "loss_reminder",
    "life_change", "isolation", "social_activity", "other",
)  # fmt: skip
EMOTIONS = (
    "anxious", "calm", "hurt", "grateful", "lonely", "supported", "frustrated", "sad",
    "hopeful", "irritated", "content", "worried", "relieved", "resentful", "misunderstood",
    "loved", "overwhelmed", "proud", "guilty", "drained", "ashamed", "peaceful",
)  # fmt: skip
TAGS = ("work", "family", "home", "weekend", "evening", "phone", "school run", "gym", "sleep")
WORDS = (  # noqa: SIM905 - prose reads better than a list of words
    "we talked about the weekend and she said she could not come because of work again "
    "I felt left out and a bit angry but I did not say so at the time later he called "
    "and apologised for being short with me we agreed to try again on Sunday the kids "
    "were loud all evening and I snapped at my mother on the phone about the visit I went "
    "for a walk afterwards which helped my manager asked how I was doing and I told him "
    "the truth for once it felt strange but good nobody replied in the group chat"
).split()
COMMUNICATION = (
    "what_i_said", "what_they_said", "what_i_felt", "what_i_wanted", "what_happened",
    "what_i_could_try",
)  # fmt: skip
TIMEZONES = ("Europe/London", "Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC")
# The body of every benchmark create (`POST /v1/entries`): a printf format, filled by Lua in
# bench/run.py's wrk script and by `create_body` in bench/request_costs.py.
CREATE_BODY = (
    '{"occurred_at":"2026-%02d-%02dT%02d:%02d:00Z","mood":%d,'
    '"event":"Bench entry %d: talked it through and agreed to try again on Sunday.",'
    '"event_type":"conversation","people":[{"person_id":"%s","quality":%d},'
    '{"person_id":"%s","quality":null}],"emotions":[{"label":"anxious","intensity":%d,'
    '"person_id":"%s"},{"label":"hopeful","intensity":4}],"tags":["work","evening"],'
    '"communication":{"what_i_said":"I said I needed more help at home.",'
    '"what_they_said":"They said they were tired too."}}'
)


def create_body(person_a: str, person_b: str, n: int) -> bytes:
    """The n-th create's body, as bench/run.py's wrk script writes it."""
    values = (n % 12 + 1, n % 28 + 1, n % 24, n % 60, 2 + n % 9, n, person_a, n % 5 - 2)
    return (CREATE_BODY % (*values, person_b, 1 + n % 10, person_a)).encode()


def _text(rng: random.Random, low: int, high: int) -> str:
    words = []
    length = rng.randint(low, high)
    while sum(len(w) + 1 for w in words) < length:
        words.append(rng.choice(WORDS))
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def _alias(rng: random.Random) -> str:
    letters = rng.choices(string.ascii_lowercase, k=rng.randint(2, 7))
    return rng.choice(string.ascii_uppercase) + "".join(letters)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _at(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def export_document(
    rng: random.Random,
    *,
    people: int,
    entries: int,
    days: int,
    start: datetime = datetime(2023, 1, 2, tzinfo=UTC),
) -> dict[str, Any]:
    """A JSON export document (format_version 1) as POST /v1/import reads it."""
    person_ids = [_uuid(rng) for _ in range(people)]
    # A few people matter a lot (partner, mother, manager), most appear now and then.
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(people)]
    effect = {pid: rng.uniform(-2.5, 2.0) for pid in person_ids}
    doc_people = [
        {
            "id": pid,
            "name": _alias(rng),
            "relationship": RELATIONSHIPS[index % len(RELATIONSHIPS)],
            "closeness": 1 + min(2, index // 5),
            "deceased": index == people - 1,
            "satisfaction": rng.randint(0, 10) if index % 3 else None,
            "notes": _text(rng, 30, 160) if index % 4 == 0 else None,
        }
        for index, pid in enumerate(person_ids)
    ]
    focus_ids = [_uuid(rng), _uuid(rng)]
    agreed = (start + timedelta(days=21)).date().isoformat()
    focus_areas = [
        {
            "id": focus_ids[0],
            "problem_area": "role_dispute",
            "title": "Arguments with my partner about the household",
            "description": _text(rng, 80, 300),
            "goals": ["Say what I need without shouting", "Agree on a weekly plan"],
            "agreed_on": agreed,
            "status": "active",
            "dispute_stage": "renegotiation",
            "person_ids": person_ids[:2],
        },
        {
            "id": focus_ids[1],
            "problem_area": "role_transition",
            "title": "Going back to work after parental leave",
            "description": _text(rng, 80, 300),
            "goals": ["Keep one evening a week for friends"],
            "agreed_on": agreed,
            "status": "active",
            "from_role": "Full-time parent",
            "to_role": "Working parent",
            "person_ids": person_ids[2:4],
        },
    ][: 2 if people >= 4 else 0]
    sessions = [
        {
            "id": _uuid(rng),
            "held_at": _at(start + timedelta(days=7 * n, hours=10)),
            "number": n + 1,
            "notes": _text(rng, 40, 200) if n % 2 else None,
        }
        for n in range(min(16, max(1, days // 7)))
    ]
    measures = []
    for n in range(max(1, days // 21)):
        completed = _at(start + timedelta(days=21 * n, hours=9))
        measures.append(
            {
                "id": _uuid(rng),
                "instrument": "phq9",
                "answers": [rng.randint(0, 3) for _ in range(8)] + [0],
                "completed_at": completed,
            }
        )
        measures.append(
            {
                "id": _uuid(rng),
                "instrument": "gad7",
                "answers": [rng.randint(0, 3) for _ in range(7)],
                "completed_at": completed,
            }
        )
    span = timedelta(days=days).total_seconds()
    moments = sorted(rng.uniform(0, span) for _ in range(entries))
    doc_entries = []
    for index, offset in enumerate(moments):
        named = sorted(set(rng.choices(person_ids, weights, k=rng.choice((0, 1, 1, 2, 2, 3)))))
        mood = 5 + sum(effect[p] for p in named) / max(1, len(named)) + rng.gauss(0, 1.8)
        feelings = []
        for position in range(rng.choice((1, 2, 2, 3))):
            about = named[position % len(named)] if named and rng.random() < 0.4 else None
            feelings.append(
                {"label": EMOTIONS[rng.randrange(len(EMOTIONS))], "intensity": rng.randint(1, 10)}
                | ({"person_id": about} if about else {})
            )
        communication = None
        if named and rng.random() < 0.3:
            communication = {
                key: _text(rng, 30, 140) for key in COMMUNICATION if rng.random() < 0.8
            }
        doc_entries.append(
            {
                "id": _uuid(rng),
                "occurred_at": _at(start + timedelta(seconds=int(offset))),
                "mood": max(0, min(10, round(mood))),
                "event": _text(rng, 60, 400),
                "event_type": EVENT_TYPES[index % len(EVENT_TYPES)],
                "focus_area_id": rng.choice(focus_ids) if focus_areas and index % 3 == 0 else None,
                "private": rng.random() < 0.08,
                "tags": sorted(set(rng.choices(TAGS, k=rng.randint(0, 3)))),
                "people": [{"person_id": p, "quality": rng.randint(-2, 2)} for p in named],
                "emotions": feelings,
                "communication": communication,
            }
        )
    return {
        "format_version": 1,
        "people": doc_people,
        "focus_areas": focus_areas,
        "sessions": sessions,
        "measures": measures,
        "entries": doc_entries,
    }


def split_entries(document: dict[str, Any], per_part: int) -> Iterator[dict[str, Any]]:
    """The document as several imports: everything but the entries first, then the
    entries `per_part` at a time (each part refers to people imported earlier)."""
    entries = document["entries"]
    yield {**document, "entries": entries[:per_part]}
    for start in range(per_part, len(entries), per_part):
        yield {"format_version": 1, "entries": entries[start : start + per_part]}


@dataclass
class Client:
    user_id: str
    token: str
    person_ids: list[str]
    entry_ids: list[str]


def seed_client(
    client: httpx.Client,
    label: str,
    *,
    people: int,
    entries: int,
    days: int,
    seed: int,
    timezone: str = "Europe/London",
    per_import: int = 5000,
) -> Client:
    """Register a client, log it in and import a generated diary into it."""
    email = f"{label}-{secrets.token_hex(4)}@example.org"
    account = {"email": email, "password": PASSWORD, "role": "client"}
    account |= {"display_name": label.title(), "timezone": timezone}
    response = client.post("/v1/auth/register", json=account)
    response.raise_for_status()
    user_id = response.json()["id"]
    response = client.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
    response.raise_for_status()
    token = response.json()["access_token"]
    document = export_document(random.Random(seed), people=people, entries=entries, days=days)
    for part in split_entries(document, per_import):
        response = client.post(
            "/v1/import", json=part, headers={"Authorization": f"Bearer {token}"}
        )
        if response.status_code != 200:
            raise RuntimeError(f"import: {response.status_code} {response.text[:2000]}")
    return Client(
        user_id=user_id,
        token=token,
        person_ids=[p["id"] for p in document["people"]],
        entry_ids=[e["id"] for e in document["entries"]],
    )


# --- other owners, straight into the database ----------------------------------------------


def bulk_other_owners(database_url: str, owners: int, entries_per_owner: int) -> int:
    """`owners` client accounts with `entries_per_owner` minimal entries each (and 5 people,
    one person and one emotion per entry), inserted with set-based SQL. Free text is a
    ciphertext-looking string (never decrypted: no request reads another owner's rows).
    No change_log rows: nothing syncs these accounts. Returns the entries written."""
    if database_url.startswith("sqlite"):
        _bulk_sqlite(database_url.split("///", 1)[1], owners, entries_per_owner)
    else:
        _bulk_postgres(database_url, owners, entries_per_owner)
    return owners * entries_per_owner


FAKE_CIPHERTEXT = "v1.k0." + "QmVuY2htYXJrIGNpcGhlcnRleHQgdGhhdCBpcyBuZXZlciByZWFk" * 3


def _bulk_postgres(database_url: str, owners: int, per_owner: int) -> None:
    import psycopg

    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=False) as conn:
        conn.execute(
            """
            CREATE TEMP TABLE bench_owners AS
            SELECT gen_random_uuid() AS id, n FROM generate_series(1, %(owners)s) AS n
            """,
            {"owners": owners},
        )
        conn.execute(
            """
            INSERT INTO users (id, email, role, display_name, timezone, password_hash,
                               change_seq, created_at, updated_at)
            SELECT id, 'other-' || n || '-' || id || '@example.org', 'client', %(ct)s,
                   'Europe/Berlin', 'not-a-password-hash', 0, now(), now()
            FROM bench_owners
            """,
            {"ct": FAKE_CIPHERTEXT},
        )
        conn.execute(
            """
            CREATE TEMP TABLE bench_people AS
            SELECT o.id AS owner_id, p, gen_random_uuid() AS id
            FROM bench_owners o CROSS JOIN generate_series(0, 4) AS p
            """
        )
        conn.execute(
            """
            INSERT INTO people (owner_id, id, name, relationship, closeness, deceased,
                                created_at, updated_at, version)
            SELECT owner_id, id, %(ct)s, 'friend', 1 + p %% 3, false, now(), now(), 1
            FROM bench_people
            """,
            {"ct": FAKE_CIPHERTEXT},
        )
        conn.execute(
            """
            CREATE TEMP TABLE bench_entries AS
            SELECT o.id AS owner_id, gen_random_uuid() AS id, e, bp.id AS person_id
            FROM bench_owners o
            CROSS JOIN generate_series(1, %(per)s) AS e
            JOIN bench_people bp ON bp.owner_id = o.id AND bp.p = e %% 5
            """,
            {"per": per_owner},
        )
        conn.execute(
            """
            INSERT INTO entries (owner_id, id, occurred_at, occurred_at_offset_minutes,
                                 local_date, mood, event, event_type, private,
                                 tags, created_at, updated_at, version)
            SELECT owner_id, id,
                   timestamptz '2023-01-01 00:00+00' + (e * interval '5 hours'), 0,
                   (timestamp '2023-01-01 00:00' + (e * interval '5 hours'))::date,
                   e %% 11, %(ct)s, 'conversation', false, to_json(%(ct)s::text),
                   now(), now(), 1
            FROM bench_entries
            """,
            {"ct": FAKE_CIPHERTEXT},
        )
        conn.execute(
            """
            INSERT INTO entry_people (owner_id, entry_id, person_id, quality)
            SELECT owner_id, id, person_id, (e %% 5) - 2 FROM bench_entries
            """,
            {},
        )
        conn.execute(
            """
            INSERT INTO entry_emotions (owner_id, entry_id, position, label, intensity,
                                        person_id, custom)
            SELECT owner_id, id, 0,
                   (ARRAY['anxious','calm','hurt','sad','hopeful','lonely'])[1 + e %% 6],
                   e %% 11, NULL, false
            FROM bench_entries
            """,
            {},
        )
        conn.commit()
    # What autovacuum would do shortly after a bulk load; without it the planner would still
    # believe the tables hold a few thousand rows, and index-only scans would visit the
    # table for every row (no visibility map).
    vacuum_like_autovacuum(url)


def _bulk_sqlite(path: str, owners: int, per_owner: int) -> None:
    import sqlite3

    conn = sqlite3.connect(path, timeout=60, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=60000")
        conn.execute("BEGIN IMMEDIATE")
        # Ids as SQLAlchemy's Uuid stores them on SQLite: 32 lower-case hex digits.
        conn.execute(
            """
            CREATE TEMP TABLE bench_owners AS
            WITH RECURSIVE n(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM n WHERE n < ?)
            SELECT lower(hex(randomblob(16))) AS id, n FROM n
            """,
            (owners,),
        )
        conn.execute(
            """
            INSERT INTO users (id, email, role, display_name, timezone, password_hash,
                               change_seq, created_at, updated_at)
            SELECT id, 'other-' || n || '-' || id || '@example.org', 'client', ?,
                   'Europe/Berlin', 'not-a-password-hash', 0,
                   '2023-01-01 00:00:00.000000', '2023-01-01 00:00:00.000000'
            FROM bench_owners
            """,
            (FAKE_CIPHERTEXT,),
        )
        conn.execute(
            """
            CREATE TEMP TABLE bench_people AS
            WITH RECURSIVE p(p) AS (SELECT 0 UNION ALL SELECT p + 1 FROM p WHERE p < 4)
            SELECT o.id AS owner_id, p.p AS p, lower(hex(randomblob(16))) AS id
            FROM bench_owners o CROSS JOIN p
            """
        )
        conn.execute(
            """
            INSERT INTO people (owner_id, id, name, relationship, closeness, deceased,
                                created_at, updated_at, version)
            SELECT owner_id, id, ?, 'friend', 1 + p % 3, 0,
                   '2023-01-01 00:00:00.000000', '2023-01-01 00:00:00.000000', 1
            FROM bench_people
            """,
            (FAKE_CIPHERTEXT,),
        )
        conn.execute("CREATE INDEX temp.bench_people_owner_p ON bench_people (owner_id, p)")
        conn.execute(
            """
            CREATE TEMP TABLE bench_entries AS
            WITH RECURSIVE e(e) AS (SELECT 1 UNION ALL SELECT e + 1 FROM e WHERE e < ?)
            SELECT o.id AS owner_id, lower(hex(randomblob(16))) AS id, e.e AS e,
                   (SELECT bp.id FROM bench_people bp
                    WHERE bp.owner_id = o.id AND bp.p = e.e % 5) AS person_id
            FROM bench_owners o CROSS JOIN e
            """,
            (per_owner,),
        )
        conn.execute(
            """
            INSERT INTO entries (owner_id, id, occurred_at, occurred_at_offset_minutes,
                                 local_date, mood, event, event_type, private,
                                 tags, created_at, updated_at, version)
            SELECT owner_id, id,
                   strftime('%Y-%m-%d %H:%M:%S.000000', '2023-01-01', '+' || (e * 5) || ' hours'),
                   0, date('2023-01-01', '+' || (e * 5) || ' hours'),
                   e % 11, ?, 'conversation', 0, json_quote(?),
                   '2023-01-01 00:00:00.000000', '2023-01-01 00:00:00.000000', 1
            FROM bench_entries
            """,
            (FAKE_CIPHERTEXT, FAKE_CIPHERTEXT),
        )
        conn.execute(
            """
            INSERT INTO entry_people (owner_id, entry_id, person_id, quality)
            SELECT owner_id, id, person_id, (e % 5) - 2 FROM bench_entries
            """
        )
        conn.execute(
            """
            INSERT INTO entry_emotions (owner_id, entry_id, position, label, intensity,
                                        person_id, custom)
            SELECT owner_id, id, 0,
                   CASE e % 6 WHEN 0 THEN 'anxious' WHEN 1 THEN 'calm' WHEN 2 THEN 'hurt'
                              WHEN 3 THEN 'sad' WHEN 4 THEN 'hopeful' ELSE 'lonely' END,
                   e % 11, NULL, 0
            FROM bench_entries
            """
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()
