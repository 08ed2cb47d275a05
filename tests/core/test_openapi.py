import json
from pathlib import Path

from fastapi import FastAPI

PUBLISHED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def test_published_contract_matches_the_code(app: FastAPI) -> None:
    published = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    assert published == app.openapi(), (
        "openapi/openapi.json is stale: run `make openapi` and commit the result"
    )


def test_every_operation_has_a_summary_and_declares_its_problems(app: FastAPI) -> None:
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
            if path.startswith("/v1/") and path != "/v1/emotions":
                problems = [
                    status
                    for status, response in operation["responses"].items()
                    if "application/problem+json" in response.get("content", {})
                ]
                assert problems, f"{method.upper()} {path} declares no problem responses"
