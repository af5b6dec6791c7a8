"""Problems found in the sources: collected with their positions, printed gcc-style or as JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the build command's no-change check loads this module, not the model
    from .model import Pos


@dataclass(frozen=True, order=True)
class Diagnostic:
    path: str
    line: int
    col: int
    severity: str  # "error" | "warning"
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.severity}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.col,
            "severity": self.severity,
            "message": self.message,
        }


class Diagnostics:
    """A collector that every stage appends to; nothing is raised one at a time."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []
        self._once: dict[object, Diagnostic] = {}  # error_once's keys and what each reported

    def error(self, pos: Pos, message: str) -> None:
        self.items.append(Diagnostic(pos.path, pos.line, pos.col, "error", message))

    def error_once(self, key: object, pos: Pos, message: str) -> None:
        """Report an error unless one with the same key was reported (a template bug hits every page)."""
        if key not in self._once:
            self.error(pos, message)
            self._once[key] = self.items[-1]

    def merge(self, other: Diagnostics) -> None:
        """Take in what another collector (a worker's) reported, keeping each error_once key's error once."""
        keyed = {id(d) for d in other._once.values()}
        self.items.extend(d for d in other.items if id(d) not in keyed)
        for key, d in other._once.items():
            if key not in self._once:
                self._once[key] = d
                self.items.append(d)

    def warning(self, pos: Pos, message: str) -> None:
        self.items.append(Diagnostic(pos.path, pos.line, pos.col, "warning", message))

    def extend(self, other: Diagnostics) -> None:
        self.items.extend(other.items)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "warning"]

    def sorted(self) -> list[Diagnostic]:
        """Return the problems in file order, without repeats."""
        return sorted(set(self.items))


def format_text(diagnostics: list[Diagnostic]) -> str:
    """Return one gcc-style line per problem."""
    return "".join(f"{d}\n" for d in diagnostics)


def format_json(diagnostics: list[Diagnostic]) -> str:
    """Return the problems as a JSON document for tools."""
    doc = {
        "errors": sum(d.severity == "error" for d in diagnostics),
        "warnings": sum(d.severity == "warning" for d in diagnostics),
        "diagnostics": [d.as_dict() for d in diagnostics],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
