"""Create a new site project from the starter that ships with the package."""

from __future__ import annotations

import shutil
from pathlib import Path

STARTER = Path(__file__).parent / "starter"


def create_site(path: Path) -> str | None:
    """Copy the starter site to path; return why not, or None."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        return "the folder exists and is not empty; choose a new folder"
    try:
        shutil.copytree(STARTER, path, dirs_exist_ok=True)
        (path / ".gitignore").write_text("site/\n.briefing-cache/\n", encoding="utf-8")
    except OSError as exc:
        return f"cannot create the site: {exc.strerror}"
    return None
