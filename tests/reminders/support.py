"""What the reminder and calendar tests share."""

from typing import Any

from fastapi.testclient import TestClient

from tests.factories import Account


def reminder_body(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": "diary",
        "rrule": "FREQ=WEEKLY;BYDAY=MO,TH",
        "local_time": "20:00",
        "timezone": "Europe/London",
        **overrides,
    }


def create_reminder(client: TestClient, account: Account, **overrides: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/reminders", json=reminder_body(**overrides), headers=account.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())
