"""The options of one build, shared by the command line, the preview server and the pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DOCUMENT_SECONDS = 20.0  # the default time budget to render one document (enforced by budget.py, which this module does not import: it loads multiprocessing)


@dataclass(frozen=True)
class BuildConfig:
    source: Path
    output: Path
    drafts: bool = False
    strict: bool = False
    lint: bool = False
    base_url: str | None = None
    write: bool = True  # False: check only
    document_seconds: float | None = DOCUMENT_SECONDS  # time budget to render one article (budget.py); None: unbounded
    hash_assets: bool = True  # content-hashed asset names; serve keeps stable ones so its stylesheet swap works
