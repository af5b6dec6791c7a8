"""Name the theme's static assets by their content, so a host can cache them forever, and render them as outputs."""

from __future__ import annotations

import hashlib
import posixpath
import re
from pathlib import Path
from typing import Mapping

from markupsafe import Markup

from .pages import Output

HASH_LENGTH = 10
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")\s]+)\1\s*\)""")


def asset_names(files: Mapping[str, Path], hashed: bool = True) -> dict[str, str]:
    """Return each asset's output name (under assets/): name.HASH.ext in a build, the name itself when not hashed.

    A stylesheet's own hash covers the hashed names it refers to, so a changed image
    gives its stylesheet a new name too.
    """
    if not hashed:
        return {name: name for name in files}
    names: dict[str, str] = {}
    for name in sorted(files, key=lambda n: (n.endswith(".css"), n)):  # stylesheets last: they name the others
        names[name] = _hashed(name, asset_bytes(name, files, names))
    return dict(sorted(names.items()))


def asset_bytes(name: str, files: Mapping[str, Path], names: Mapping[str, str]) -> bytes:
    """Return an asset's content; in a stylesheet, url() references to other assets point at their output names."""
    data = files[name].read_bytes()
    if not name.endswith(".css"):
        return data
    folder = posixpath.dirname(name)

    def rename(match: re.Match[str]) -> str:
        quote, target = match.group(1), match.group(2)
        if ":" in target or target.startswith(("/", "#")):
            return match.group(0)
        path, _, rest = target.partition("?")
        resolved = posixpath.normpath(posixpath.join(folder, path))
        if resolved not in names:
            return match.group(0)
        new = posixpath.relpath(names[resolved], folder or ".")
        return f"url({quote}{new}{'?' + rest if rest else ''}{quote})"

    return CSS_URL.sub(rename, data.decode("utf-8")).encode("utf-8")


def asset_outputs(files: Mapping[str, Path], names: Mapping[str, str]) -> list[Output]:
    """Return the theme's assets as outputs under assets/, by their output names."""
    return [Output(f"assets/{names[name]}", asset_bytes(name, files, names), frozenset({f"asset:{name}"})) for name in sorted(files)]


def _hashed(name: str, data: bytes) -> str:
    """Return name with a short content hash before its extension: style.css -> style.0123456789.css."""
    stem, dot, ext = name.rpartition(".")
    digest = hashlib.sha256(data).hexdigest()[:HASH_LENGTH]
    if not dot or "/" in ext:
        return f"{name}.{digest}"
    return f"{stem}.{digest}.{ext}"


def inline_asset(name: str, files: Mapping[str, Path]) -> Markup:
    """Return a text asset for a <style> or <script> element of a page served at any depth (404.html)."""
    text = files[name].read_text("utf-8") if name in files else ""
    return Markup(text.replace("</", "<\\/"))
