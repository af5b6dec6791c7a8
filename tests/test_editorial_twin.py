"""The machine-readable twin (briefing.json) and the JSON Schemas generated from schema.py's definitions."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Callable

import jsonschema
import pytest
import yaml

from generator import schema
from generator.parse import split_front_matter
from generator.load import RawFile
from generator.diagnostics import Diagnostics
from generator.pipeline import BuildConfig, build


def _built(root: Path) -> Path:
    out = root / "site"
    report = build(BuildConfig(root, out))
    assert not report.failed, [str(d) for d in report.diagnostics]
    return out


def _validator(out: Path, name: str) -> jsonschema.Draft202012Validator:
    document = json.loads((out / "schemas" / name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(document)


def _as_json(value: Any) -> Any:
    """Return YAML data as JSON data: PyYAML's dates back to the text they were written as."""
    if isinstance(value, dict):
        return {str(k): _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def test_every_example_twin_is_valid_against_the_published_schema(example_site: Path) -> None:
    out = _built(example_site)
    validator = _validator(out, "briefing.json")
    twins = sorted(out.glob("briefings/*/briefing.json"))
    assert len(twins) == 2
    for path in twins:
        doc = json.loads(path.read_text(encoding="utf-8"))
        validator.validate(doc)
        assert doc["$schema"] == "../../schemas/briefing.json"
        assert (path.parent / doc["pages"]["html"]).is_file() and (path.parent / doc["pages"]["markdown"]).is_file()
        assert doc["provenance"]["verbatim"] is True and doc["provenance"]["changes"] == []
    first = json.loads((out / "briefings/kim-jong-un-beijing-victory-day/briefing.json").read_text(encoding="utf-8"))
    assert [e["id"] for e in first["experts"]] == ["professor-kim", "park-won-gon"]
    assert [v["anchor"] for v in first["experts"][0]["views"]] == ["view-professor-kim-1", "view-professor-kim-2"]
    assert first["experts"][0]["views"][0]["text"].startswith("Professor Kim of North Korean Studies")
    assert first["disagreement"]["id"] == "professor-kim" and first["disagreement"]["name"] == "Professor Kim"
    assert {a["id"]: a.get("stance") for a in first["actors"]}["kim-jong-un"] == "supportive"
    assert [e["date"] for e in first["timeline"]] == ["2023-09", "2023-11", "2025-09-01", "2025-09-02", "2025-09-03"]


def test_a_twin_carries_corrections_status_and_the_provenance_findings(make_site: Callable[..., Path]) -> None:
    root = make_site(
        {
            "seeds/one.txt": "\nAlice Example spoke. Bob Scholar agreed.\n",
            "content/briefings/first.md": "---\ntitle: T\ndate: 2025-01-02\nupdated: 2025-01-05\nsummary: S.\n"
            "source:\n  seed: one.txt\n  article: excerpt\nstatus:\n  label: easing\n  as_of: 2025-01-04\n"
            "corrections:\n  - date: 2025-01-05\n    text: Corrected a name.\n"
            "experts:\n  bob:\n    stance: sceptical\n    quote: never said this\n---\n\n"
            "::: view bob\n[[bob]] agreed loudly.\n:::\n",
        }
    )
    out = _built(root)
    doc = json.loads((out / "briefings/first/briefing.json").read_text(encoding="utf-8"))
    _validator(out, "briefing.json").validate(doc)
    assert doc["status"] == {"label": "easing", "as_of": "2025-01-04"}
    assert doc["corrections"] == [{"date": "2025-01-05", "text": "Corrected a name."}]
    assert doc["updated"] == "2025-01-05"
    changes = doc["provenance"]["changes"]
    assert [(c["kind"], c["line"], c.get("view")) for c in changes] == [("misquoted", 18, "bob"), ("changed", 22, "bob")]
    assert changes[1]["seed_text"] == "Bob Scholar agreed." and changes[1]["text"] == "Bob Scholar agreed loudly."
    assert doc["experts"][0]["views"][0]["text"] == "Bob Scholar agreed loudly."


def test_the_source_schemas_accept_the_example_sources(example_site: Path) -> None:
    out = _built(example_site)
    front = _validator(out, "front-matter.json")
    for path in sorted((example_site / "content/briefings").rglob("*.md")):
        raw = RawFile(path.relative_to(example_site).as_posix(), path.read_text(encoding="utf-8"))
        parts = split_front_matter(raw, Diagnostics())
        assert parts is not None
        front.validate(_as_json(yaml.safe_load(parts[0])))
    for folder, name in (("actors", "actor.json"), ("experts", "expert.json")):
        validator = _validator(out, name)
        for path in sorted((example_site / "content" / folder).glob("*.yaml")):
            validator.validate(_as_json(yaml.safe_load(path.read_text(encoding="utf-8"))))
    _validator(out, "site.json").validate(_as_json(yaml.safe_load((example_site / "content/site.yaml").read_text(encoding="utf-8"))))


def test_the_front_matter_schema_has_exactly_the_readers_fields(example_site: Path) -> None:
    document = json.loads((_built(example_site) / "schemas/front-matter.json").read_text(encoding="utf-8"))
    assert list(document["properties"]) == list(schema.BRIEFING.fields)
    assert document["required"] == [n for n, f in schema.BRIEFING.fields.items() if f.required]
    assert document["$id"] == "https://example.org/korea-briefings/schemas/front-matter.json"
    stance = document["properties"]["experts"]["anyOf"][0]["additionalProperties"]["properties"]["stance"]
    assert stance["enum"] == ["supportive", "sceptical", "opposed", "neutral", "mixed"]


@pytest.mark.parametrize(
    "front_matter, check_error",
    [
        ("title: T\ndate: 2025-01-02\nsumary: S\n", "unknown key 'sumary'"),
        ("title: T\ndate: 2025-01-02\nsummary: S\nstatus:\n  label: worse\n  as_of: 2025-01-02\n", "expected one of escalating"),
        ("title: T\ndate: 2025-13\nsummary: S\n", None),  # a bad month: the pattern accepts it, the reader does not
        ("title: T\ndate: 2025-01-02\nsummary: S\nexperts:\n  bob:\n    stance: keen\n", "unknown stance 'keen'"),
        ("title: T\ndate: 2025-01-02\nsummary: S\ncorrections:\n  - date: 2025-01-03\n", "missing required field 'text'"),
    ],
)
def test_the_schema_and_the_checker_agree_on_bad_front_matter(make_site: Callable[..., Path], example_site: Path, front_matter: str, check_error: str | None) -> None:
    validator = _validator(_built(example_site), "front-matter.json")
    root = make_site({"content/briefings/first.md": f"---\n{front_matter}---\n\nBody.\n"})
    report = build(BuildConfig(root, root / "site", write=False))
    assert any("error" == d.severity for d in report.diagnostics)
    errors = list(validator.iter_errors(_as_json(yaml.safe_load(front_matter))))
    if check_error is None:
        assert not errors  # documented: the schema checks the shape, `check` also the calendar
    else:
        assert errors, "the schema accepted what check rejects"
        assert any(check_error in d.message for d in report.diagnostics)


def test_twins_and_schemas_are_deterministic(example_site: Path, tmp_path: Path) -> None:
    one = build(BuildConfig(example_site, tmp_path / "one"))
    two = build(BuildConfig(example_site, tmp_path / "two"))
    pick = lambda r: {o.path: o.data for o in r.outputs if o.path.endswith(".json") and ("briefing.json" in o.path or o.path.startswith("schemas/"))}  # noqa: E731
    assert pick(one) == pick(two) and len(pick(one)) == 7


def test_the_documented_yaml_language_server_comment_is_read_past_and_points_at_the_schema(example_site: Path) -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "editorial.md").read_text(encoding="utf-8")
    comment = "# yaml-language-server: $schema=../../site/schemas/actor.json"
    assert comment in docs
    actor = example_site / "content/actors/kim-jong-un.yaml"
    actor.write_text(f"{comment}\n{actor.read_text(encoding='utf-8')}", encoding="utf-8")
    out = _built(example_site)
    report = build(BuildConfig(example_site, out, write=False))
    assert not report.diagnostics, [str(d) for d in report.diagnostics]
    # The path is taken from the YAML file's folder, as the language server does.
    target = (actor.parent / comment.split("$schema=", 1)[1]).resolve()
    assert target == (out / "schemas/actor.json").resolve() and target.is_file()
    _validator(out, "actor.json").validate(_as_json(yaml.safe_load(actor.read_text(encoding="utf-8"))))
