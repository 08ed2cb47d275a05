"""Every comparison says how sure it is: Welch's interval for each person's delta, whether
there are enough entries to say anything, and the interval of each focus area's trend.

SciPy's own tests on the raw moods are the reference (`scipy.stats.ttest_ind`,
`scipy.stats.linregress`); the first example is also worked by hand.
"""

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from scipy import stats

from tests.factories import (
    Account,
    create_entry,
    create_focus_area,
    create_person,
    get_summary,
    register,
    share_with,
)

START = datetime.fromisoformat("2026-10-05T19:00:00+01:00")


def write(client: TestClient, account: Account, moods: list[int], **fields: Any) -> None:
    for day, mood in enumerate(moods):
        at = (START + timedelta(days=day, minutes=len(moods))).isoformat()
        create_entry(client, account, occurred_at=at, mood=mood, **fields)


def welch(with_: list[int], without: list[int]) -> list[Any]:
    low, high = stats.ttest_ind(with_, without, equal_var=False).confidence_interval(0.95)
    return [pytest.approx(low, rel=1e-6), pytest.approx(high, rel=1e-6)]


def rounded(value: Any) -> Any:
    """Floats to 9 significant digits: PostgreSQL may add a float sum in another order."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [rounded(item) for item in value]
    return value


def person(body: dict[str, Any], person_id: str) -> dict[str, Any]:
    return next(p for p in body["people"] if p["person_id"] == person_id)


def test_the_delta_has_welchs_interval(client: TestClient) -> None:
    ana = register(client)
    sam = create_person(client, ana, name="Sam")
    write(client, ana, [4, 6, 8], people=[{"person_id": sam["id"]}])
    write(client, ana, [1, 3, 5, 7])

    found = person(get_summary(client, ana, "mood-by-person"), sam["id"])

    # By hand: means 6 and 4; variances 4 and 20/3; standard error √(4/3 + 5/3) = √3; Welch's
    # degrees of freedom 9 / ((4/3)²/2 + (5/3)²/3) = 4.959; t = 2.5772: 2 ± 4.463.
    assert found["delta"] == 2.0
    assert found["delta_ci95"] == [pytest.approx(-2.463, abs=1e-3), pytest.approx(6.463, abs=1e-3)]
    assert found["delta_ci95"] == welch([4, 6, 8], [1, 3, 5, 7])
    assert found["enough"] is True


@pytest.mark.parametrize(
    ("with_", "without", "interval", "enough"),
    [
        ([5], [2, 9, 4], False, False),  # one entry with Sam: no spread on that side
        ([5, 8], [2, 9], True, False),  # an interval, but too few on each side to say
        ([5, 8, 6], [2, 9], True, False),  # three with, two without: still too few
        ([5, 8, 6], [2, 9, 3], True, True),
    ],
)
def test_too_few_entries_say_so(
    client: TestClient, with_: list[int], without: list[int], interval: bool, enough: bool
) -> None:
    ana = register(client)
    sam = create_person(client, ana, name="Sam")
    write(client, ana, with_, people=[{"person_id": sam["id"]}])
    write(client, ana, without)

    found = person(get_summary(client, ana, "mood-by-person"), sam["id"])

    assert found["delta_ci95"] == (welch(with_, without) if interval else None)
    assert found["enough"] is enough


def test_no_spread_on_either_side_is_an_exact_difference(client: TestClient) -> None:
    ana = register(client)
    sam = create_person(client, ana, name="Sam")
    write(client, ana, [7, 7, 7], people=[{"person_id": sam["id"]}])
    write(client, ana, [4, 4, 4])
    found = person(get_summary(client, ana, "mood-by-person"), sam["id"])
    assert (found["delta"], found["delta_ci95"], found["enough"]) == (3.0, [3.0, 3.0], True)


def test_two_people_of_one_name_are_two_people(client: TestClient) -> None:
    ana = register(client)
    sam_friend = create_person(client, ana, name="Sam", relationship="friend")
    sam_brother = create_person(client, ana, name="Sam", relationship="sibling")
    write(client, ana, [8, 9, 7], people=[{"person_id": sam_friend["id"]}])
    write(client, ana, [2, 3, 1], people=[{"person_id": sam_brother["id"]}])

    body = get_summary(client, ana, "mood-by-person")

    friend, brother = person(body, sam_friend["id"]), person(body, sam_brother["id"])
    assert (friend["name"], brother["name"]) == ("Sam", "Sam")
    assert (friend["mean_mood"], brother["mean_mood"]) == (8.0, 2.0)
    assert friend["delta_ci95"] == welch([8, 9, 7], [2, 3, 1])
    assert brother["delta_ci95"] == welch([2, 3, 1], [8, 9, 7])
    # Naming one person twice in an entry is refused: a count would go twice.
    twice = client.post(
        "/v1/entries",
        json={
            "occurred_at": START.isoformat(),
            "mood": 5,
            "event": "twice",
            "people": [{"person_id": sam_friend["id"]}, {"person_id": sam_friend["id"]}],
        },
        headers=ana.headers,
    )
    assert twice.status_code == 422


def test_the_trend_has_the_slopes_interval(client: TestClient) -> None:
    ana = register(client)
    area = create_focus_area(client, ana)
    days, moods = [0, 3, 7, 12, 20, 26], [3, 4, 4, 6, 5, 8]
    for day, mood in zip(days, moods, strict=True):
        at = (START + timedelta(days=day)).isoformat()
        create_entry(client, ana, occurred_at=at, mood=mood, focus_area_id=area["id"])

    [found] = get_summary(client, ana, "focus-areas")["focus_areas"]

    fit = stats.linregress([day / 7 for day in days], moods)
    half = stats.t.ppf(0.975, len(days) - 2) * fit.stderr
    assert found["trend_per_week"] == pytest.approx(fit.slope, rel=1e-9)
    assert found["trend_ci95"] == [
        pytest.approx(fit.slope - half, rel=1e-6),
        pytest.approx(fit.slope + half, rel=1e-6),
    ]


def test_a_therapist_gets_the_clients_numbers_without_the_private_entries(
    client: TestClient,
) -> None:
    """The therapist's numbers are the numbers of the same diary without its private
    entries: here, those of a twin account that never wrote them."""
    ana, twin = register(client), register(client)
    therapist = register(client, role="therapist", name="Dr Lee")
    share_with(client, ana, therapist, "summaries")
    for account in (ana, twin):
        sam = create_person(client, account, name="Sam")
        area = create_focus_area(client, account, title="Work")
        named = {"people": [{"person_id": sam["id"]}], "focus_area_id": area["id"]}
        write(client, account, [6, 7, 5, 8], **named)
        write(client, account, [3, 2, 4])
    write(client, ana, [0, 1], private=True)  # only Ana's own numbers count these

    def numbers(path: str, viewer: Account) -> dict[str, Any]:
        by_person = client.get(f"{path}/mood-by-person", headers=viewer.headers).json()
        focus = client.get(f"{path}/focus-areas", headers=viewer.headers).json()
        timeline = client.get(f"{path}/mood-timeline", headers=viewer.headers).json()
        [sam] = by_person["people"]
        [area] = focus["focus_areas"]
        return rounded(
            {
                "baseline": by_person["baseline"],
                "sam": {k: v for k, v in sam.items() if k != "person_id"},
                "area": {k: v for k, v in area.items() if k != "focus_area_id"},
                "timeline": timeline["points"],
            }
        )

    therapists = numbers(f"/v1/therapist/clients/{ana.id}/summaries", therapist)
    assert therapists == numbers("/v1/summaries", twin)
    assert therapists != numbers("/v1/summaries", ana)
    assert therapists["baseline"] == {"entries": 7, "mean_mood": 5.0}
