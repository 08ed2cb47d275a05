"""The three export formats, each written as a stream of byte chunks."""

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson

from app.export.source import DiarySource
from app.measures.instruments import spec_of
from app.models.base import utcnow

FORMAT_VERSION = 2
FHIR_SYSTEM = "https://ipt-diary.example/fhir/CodeSystem"
LOINC = "http://loinc.org"
CSV_COLUMNS = (
    "id", "local_date", "local_time", "occurred_at", "mood", "event", "event_type",
    "focus_area", "people", "emotions", "tags", "private",
)  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS)


# --- JSON: everything, re-importable ------------------------------------------------------


def json_document(source: DiarySource) -> Iterator[bytes]:
    head = {
        "format_version": FORMAT_VERSION,
        "exported_at": utcnow(),
        "account": source.account(),
        "range": {"from": source.occurred.start, "to": source.occurred.end},
        "people": list(source.people()),
        "focus_areas": list(source.focus_areas()),
        "sessions": list(source.sessions()),
        "measures": list(source.measures()),
        "reminders": list(source.reminders()),
    }
    yield _dumps(head)[:-1] + b',"entries":['
    first = True
    for chunk in source.entry_json_batches():
        yield chunk if first else b"," + chunk
        first = False
    yield b"]}"


# --- CSV: one row per entry, for spreadsheets ----------------------------------------------


def _cell(value: str) -> str:
    """Neutralise spreadsheet formulas: a leading =, +, -, @ is shown as text."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_rows(source: DiarySource) -> Iterator[bytes]:
    names = {str(person["id"]): person["name"] for person in source.people()}
    titles = {str(area["id"]): area["title"] for area in source.focus_areas()}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield ("\ufeff" + buffer.getvalue()).encode()  # BOM: spreadsheets then read UTF-8
    for batch in source.entry_batches():
        buffer.seek(0)
        buffer.truncate()
        for entry in batch:
            # With the offset of the clock it was written by: its own local date and time.
            local = datetime.fromisoformat(entry["occurred_at"])
            people = "; ".join(
                f"{names.get(p['person_id'], p['person_id'])} ({p['quality']})"
                if p["quality"] is not None
                else names.get(p["person_id"], p["person_id"])
                for p in entry["people"]
            )
            emotions = "; ".join(f"{e['label']}:{e['intensity']}" for e in entry["emotions"])
            row = (
                str(entry["id"]),
                local.date().isoformat(),
                local.strftime("%H:%M"),
                local.isoformat(),
                str(entry["mood"]),
                entry["event"],
                entry["event_type"],
                titles.get(str(entry["focus_area_id"]), ""),
                people,
                emotions,
                "; ".join(entry["tags"] or []),
                "yes" if entry["private"] else "no",
            )
            writer.writerow([_cell(str(value)) for value in row])
        yield buffer.getvalue().encode()


# --- FHIR R4: a collection Bundle ----------------------------------------------------------


def _entry(resource: dict[str, Any]) -> bytes:
    # FHIR allows no empty arrays or nulls: leave such elements out.
    resource = {key: value for key, value in resource.items() if value not in (None, [], {})}
    return _dumps({"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource})


def _reference(kind: str, row_id: Any) -> dict[str, str]:
    return {"reference": f"urn:uuid:{row_id}", "type": kind}


def _concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": f"{FHIR_SYSTEM}/{system}", "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding], "text": display or code}


def fhir_bundle(source: DiarySource) -> Iterator[bytes]:
    account = source.account()
    patient = _reference("Patient", account["id"])
    yield (
        _dumps({"resourceType": "Bundle", "type": "collection", "timestamp": utcnow()})[:-1]
        + b',"entry":['
    )
    yield _entry(
        {
            "resourceType": "Patient",
            "id": account["id"],
            "name": [{"text": account["display_name"]}],
        }
    )
    for person in source.people():
        yield b"," + _entry(
            {
                "resourceType": "RelatedPerson",
                "id": str(person["id"]),
                "active": person["archived_at"] is None,
                "patient": patient,
                "relationship": [_concept("relationship", person["relationship"])],
                "name": [{"text": person["name"]}],
            }
        )
    areas = list(source.focus_areas())
    # Keyed by id text, as the entries name their focus area.
    problem_areas = {str(area["id"]): area["problem_area"] for area in areas}
    for area in areas:
        yield b"," + _entry(
            {
                "resourceType": "Goal",
                "id": str(area["id"]),
                "lifecycleStatus": "active" if area["status"] == "active" else "completed",
                "category": [_concept("ipt-problem-area", area["problem_area"])],
                "description": {"text": area["title"]},
                "subject": patient,
                "note": [{"text": goal} for goal in area["goals"] or []],
            }
        )
    for measure in source.measures():
        yield b"," + _entry(
            {
                "resourceType": "Observation",
                "id": str(measure["id"]),
                "status": "final",
                "code": _measure_code(measure["instrument"]),
                "subject": patient,
                "effectiveDateTime": measure["completed_at"],
                "valueInteger": measure["total"],
                "interpretation": [{"text": measure["severity"]}],
            }
        )
    for batch in source.entry_batches():
        yield b"".join(
            b"," + _entry(_mood_observation(entry, patient, problem_areas)) for entry in batch
        )
    yield b"]}"


def _measure_code(instrument: str) -> dict[str, Any]:
    """LOINC's code for the instrument's total where LOINC has one, else ours."""
    spec = spec_of(instrument)
    if spec.loinc_total is None:
        return _concept("instrument-total", spec.code, f"{spec.name} total score")
    coding = {"system": LOINC, "code": spec.loinc_total.code, "display": spec.loinc_total.display}
    return {"coding": [coding]}


def _mood_observation(
    entry: dict[str, Any], patient: dict[str, str], problem_areas: dict[Any, str]
) -> dict[str, Any]:
    components: list[dict[str, Any]] = [
        {"code": _concept("emotion", emotion["label"]), "valueInteger": emotion["intensity"]}
        for emotion in entry["emotions"]
    ]
    components.append(
        {
            "code": _concept("diary", "event-type"),
            "valueCodeableConcept": _concept("event-type", entry["event_type"]),
        }
    )
    if entry["focus_area_id"] in problem_areas:
        area = problem_areas[entry["focus_area_id"]]
        components.append(
            {
                "code": _concept("diary", "ipt-focus-area"),
                "valueCodeableConcept": _concept("ipt-problem-area", area),
            }
        )
    return {
        "resourceType": "Observation",
        "id": str(entry["id"]),
        "status": "final",
        "code": _concept("diary", "mood", "Mood (0 worst – 10 best)"),
        "subject": patient,
        "focus": [_reference("RelatedPerson", p["person_id"]) for p in entry["people"]],
        "effectiveDateTime": entry["occurred_at"],
        "valueQuantity": {
            "value": entry["mood"],
            "unit": "score",
            "system": "http://unitsofmeasure.org",
            "code": "{score}",
        },
        "component": components,
        "note": [{"text": entry["event"]}],
    }
