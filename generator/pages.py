"""What a page is (where it goes, which template, what it shows, what it was made from) and how one is rendered."""

from __future__ import annotations

import functools
import posixpath
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping

import jinja2

from . import __version__
from .diagnostics import Diagnostics
from .model import Pos, SiteConfig


@dataclass(frozen=True)
class Page:
    path: str  # where it goes in the output, e.g. briefings/x/index.html
    template: str
    title: str
    context: Mapping[str, Any]
    deps: frozenset[str] = frozenset()  # model keys it shows: briefing:SLUG, actor:ID, expert:ID, list:*
    reads: frozenset[str] | None = None  # what its context was made from, by briefing field name (incremental.py); None: anything
    standalone: bool = False  # served at any depth (404.html): links from base_url (else from the host's root, CSS inlined)


@dataclass(frozen=True)
class Output:
    """A rendered file and what it was made from (model keys and template names)."""

    path: str
    data: bytes
    deps: frozenset[str] = field(default=frozenset())


def page_reads(page: Page, template_names: Callable[[str], frozenset[str] | None], helpers: Mapping[str, frozenset[str]] = MappingProxyType({})) -> frozenset[str] | None:
    """Return the fields a page can show (incremental.py): what its templates name, what the helpers they call read, what its context was made from; None: any."""
    if page.reads is None:
        return None
    names = template_names(page.template)
    if names is None:
        return None
    return names | page.reads | {field for helper, read in helpers.items() if helper in names for field in read}


def relative(target: str, page: str) -> str:
    """Return the link from page to target (both paths from the site's root)."""
    if target.startswith(("http://", "https://", "mailto:", "#")):
        return target
    path, _, fragment = target.partition("#")
    rel = _relative_path(path or "index.html", page.rpartition("/")[0])
    return rel + (f"#{fragment}" if fragment else "")


@functools.lru_cache(maxsize=65536)
def _relative_path(path: str, folder: str) -> str:
    """Return the path from folder to path (both from the site's root), as posixpath.relpath would, without its normalising."""
    if path.startswith("/") or path.endswith("/") or "//" in path or "." in path.split("/") or ".." in path.split("/"):
        return posixpath.relpath(path, folder or ".")
    if not folder:
        return path
    up, down = folder.split("/"), path.split("/")
    same = 0
    while same < len(up) and same < len(down) and up[same] == down[same]:
        same += 1
    return "/".join([".."] * (len(up) - same) + down[same:]) or "."


def paginate(items: tuple[Any, ...], per_page: int, folder: str) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    """Split items into pages folder/index.html, folder/page-2.html, ...; all in one folder so links keep their depth."""
    chunks = [items[i : i + per_page] for i in range(0, len(items), per_page)] or [()]
    paths = [f"{folder}/index.html" if n == 0 else f"{folder}/page-{n + 1}.html" for n in range(len(chunks))]
    listing = tuple((i + 1, p) for i, p in enumerate(paths))  # one for all the pages: a list of k pages is not k² pairs
    result = []
    for n, chunk in enumerate(chunks):
        pager = {
            "number": n + 1,
            "count": len(chunks),
            "prev": paths[n - 1] if n > 0 else None,
            "next": paths[n + 1] if n + 1 < len(chunks) else None,
            "pages": listing,
        }
        result.append((paths[n], chunk, pager))
    return result


def base_context(config: SiteConfig, page: Page, assets: Mapping[str, str]) -> dict[str, Any]:
    """Return what every template may use: the site, this page, and link helpers bound to this page."""

    def rel(target: str) -> str:
        if page.standalone and not target.startswith(("http://", "https://", "mailto:", "#")):
            return config.base_url.rstrip("/") + "/" + target
        return relative(target, page.path)

    def asset(name: str) -> str:
        return rel(f"assets/{assets.get(name, name)}")

    return {
        "site": config,
        "page": page,
        "rel": rel,
        "asset": asset,
        "tag_name": config.tag_name,
        "generator": f"Briefing {__version__}",
        **page.context,
    }


def render(env: jinja2.Environment, page: Page, context: dict[str, Any], theme_file: Callable[[str], Path | None], root: Path, diagnostics: Diagnostics) -> bytes | None:
    """Return the page rendered through its template, or report the template error where it is."""
    try:
        text = env.get_template(page.template).render(context)
    except jinja2.TemplateSyntaxError as exc:
        pos = _template_pos(exc.name or page.template, exc.lineno, theme_file, root)
        diagnostics.error_once((pos, exc.message), pos, f"template error: {exc.message}")
        return None
    except jinja2.TemplateNotFound as exc:
        diagnostics.error_once(exc.name, Pos(f"themes/{page.template}"), f"template not found: {exc.name}")
        return None
    except Exception as exc:  # a template's runtime error: name the template line, not a traceback
        name, line = page.template, 1
        for frame, lineno in traceback.walk_tb(sys.exc_info()[2]):
            filename = frame.f_code.co_filename
            if filename.endswith((".html", ".md", ".xml", ".txt", ".json")):
                name, line = filename, lineno
        pos = _template_pos(name, line, theme_file, root)
        diagnostics.error_once((pos, str(exc)), pos, f"template error while rendering {page.path} (and any other page that uses it): {exc}")
        return None
    return text.encode("utf-8")


def _template_pos(name: str, line: int, theme_file: Callable[[str], Path | None], root: Path) -> Pos:
    path = Path(name) if Path(name).is_absolute() else theme_file(name)
    if path is None:
        return Pos(name, line, 1)
    try:
        shown = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        shown = str(path)
    return Pos(shown, line, 1)
