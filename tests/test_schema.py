"""Reading YAML against the field definitions: positions, hints, YAML 1.1 surprises, limits."""

from __future__ import annotations

from generator import schema
from generator.diagnostics import Diagnostics


def read(text: str, record: schema.Record = schema.ACTOR, offset: int = 0) -> tuple[dict | None, list[str]]:
    diagnostics = Diagnostics()
    values = schema.read_document(text, record, "f.yaml", offset, diagnostics)
    return values, [str(d) for d in diagnostics.sorted()]


def test_values_carry_their_positions() -> None:
    values, problems = read("name: Kim Jong Un\nkind: person\naliases:\n  - Kim\n")
    assert problems == []
    assert values is not None
    assert values["name"].value == "Kim Jong Un"
    assert (values["name"].pos.line, values["name"].pos.col) == (1, 7)
    assert [(a.value, a.pos.line, a.pos.col) for a in values["aliases"].value] == [("Kim", 4, 5)]


def test_line_offset_is_added_for_front_matter() -> None:
    _, problems = read("title: T\ndate: 2025-01-01\nsumary: s\n", schema.BRIEFING, offset=1)
    assert problems == ["f.yaml:4:1: error: unknown key 'sumary'; did you mean 'summary'?"]


def test_unknown_key_without_a_close_match_has_no_hint() -> None:
    _, problems = read("name: X\nkind: person\nshoe_size: 42\n")
    assert problems == ["f.yaml:3:1: error: unknown key 'shoe_size'"]


def test_yaml_11_surprises_in_text_fields() -> None:
    _, problems = read("name: yes\nkind: person\ncountry: NO\nrole: 1_000\nsummary: 2025-01-01\n")
    assert problems == [
        "f.yaml:1:7: error: name: expected text, but YAML reads 'yes' as a boolean; put it in quotes: \"yes\"",
        "f.yaml:3:10: error: country: expected text, but YAML reads 'NO' as a boolean; put it in quotes: \"NO\"",
        "f.yaml:4:7: error: role: expected text, but YAML reads '1_000' as a number; put it in quotes: \"1_000\"",
        "f.yaml:5:10: error: summary: expected text, but YAML reads '2025-01-01' as a date; put it in quotes: \"2025-01-01\"",
    ]


def test_quoted_values_are_text() -> None:
    values, problems = read('name: "yes"\nkind: person\ncountry: "NO"\n')
    assert problems == []
    assert values is not None and values["country"].value == "NO"


def test_choices_are_checked_with_a_hint() -> None:
    _, problems = read("name: X\nkind: persn\n")
    assert problems == ["f.yaml:2:7: error: kind: expected one of person, state, organisation, got 'persn'; did you mean 'person'?"]


def test_duplicate_keys_are_errors() -> None:
    _, problems = read("name: X\nkind: person\nname: Y\n")
    assert problems == ["f.yaml:3:1: error: duplicate key 'name' (first at line 1)"]


def test_missing_required_and_empty_required() -> None:
    _, problems = read("kind: person\n")
    assert problems == ["f.yaml:1:1: error: missing required field 'name'"]
    _, problems = read("name: ~\nkind: person\n")
    assert problems == ["f.yaml:1:7: error: name: a value is required"]


def test_malformed_yaml_is_positioned() -> None:
    values, problems = read("name: [a, b\nkind: person\n")
    assert values is None
    assert len(problems) == 1 and problems[0].startswith("f.yaml:2:5: error: malformed YAML: ")


def test_a_document_that_is_not_a_mapping() -> None:
    _, problems = read("- a\n- b\n")
    assert problems == ["f.yaml:1:1: error: expected a mapping of keys to values, got a list"]


def test_nested_aliases_are_refused_before_any_field_is_read() -> None:
    # A billion-laughs document is a small node tree; its expansion is counted per shared
    # node, and the first value that expands too far is the one error (no flood of
    # unknown keys from the anchors' own lines).
    bomb = "z: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for n in range(1, 7):
        prev, cur = chr(ord("a") + n - 1), chr(ord("a") + n)
        bomb += f"{cur * 2}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]\n"
    values, problems = read("name: X\nkind: person\n" + bomb + "aliases: *g\n")
    assert values is None
    assert problems == [f"f.yaml:7:5: error: YAML document expands to more than {schema.MAX_NODES} values (too many aliases?)"]  # ee: 111,111 values


def test_too_many_values_are_stopped_with_one_error() -> None:
    many = ", ".join(["*n"] * (schema.MAX_NODES + 10))
    _, problems = read(f"name: X\nkind: person\naliases: [&n Kim, {many}]\n")
    assert problems == [f"f.yaml:3:10: error: YAML document expands to more than {schema.MAX_NODES} values (too many aliases?)"]
    under = ", ".join(["*n"] * (schema.MAX_NODES - 10))  # the whole document: 49,998 values
    values, problems = read(f"name: X\nkind: person\naliases: [&n Kim, {under}]\n")
    assert problems == [] and values is not None and len(values["aliases"].value) == schema.MAX_NODES - 9


def test_empty_document() -> None:
    values, problems = read("")
    assert values is None
    assert problems == ["f.yaml:1:1: error: empty document: expected a mapping of fields"]
