"""Index the rendered briefing, actor and expert pages with Pagefind; return its search bundle as outputs under pagefind/.

Pagefind (PyPI `pagefind[bin]`) ships a static-search indexer as a binary. The pages are
written to a temporary folder in the site's `.briefing-cache/`, indexed there, and the
bundle is read back, so the write stage stays the only one that touches the output.
What the index shows per result comes from the pages themselves: `data-pagefind-body` on
`<main>`, and `data-pagefind-meta` on the head's description (the summary) and kind.
The search page's script (themes/default/static/search.js) loads the bundle relative to
itself and resolves result URLs against the site's root, so search works under any sub-path.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from pathlib import Path

from .diagnostics import Diagnostics
from .model import Pos
from .pages import Output

log = logging.getLogger(__name__)

BUNDLE = "pagefind"
SEARCH_PAGE = "search/index.html"
INDEXED = ("briefings/", "actors/", "experts/")
FALLBACK = "index.html"  # indexed when there is nothing else, so that an empty site still has a bundle
UNUSED = ("pagefind-ui.js", "pagefind-ui.css", "pagefind-modular-ui.js", "pagefind-modular-ui.css", "pagefind-component-ui.js", "pagefind-component-ui.css", "pagefind-highlight.js")
TIMEOUT = 600


def pagefind_binary() -> Path | None:
    """Return the Pagefind executable: $PAGEFIND_BINARY_PATH, else the one `pagefind[bin]` installed."""
    configured = os.environ.get("PAGEFIND_BINARY_PATH")
    if configured:
        return Path(configured)
    try:
        from pagefind_bin import get_executable  # type: ignore[import-not-found]
    except ImportError:
        return None
    return Path(get_executable())


def indexed_pages(outputs: list[Output]) -> list[Output]:
    """Return the HTML outputs that search covers: briefings, actors and experts (the home page if there are none)."""
    pages = [o for o in outputs if o.path.startswith(INDEXED) and o.path.endswith("/index.html") and o.path.count("/") == 2]  # not lists, not page-2
    return pages or [o for o in outputs if o.path == FALLBACK]


def search_outputs(outputs: list[Output], cache: Path, diagnostics: Diagnostics) -> list[Output]:
    """Return the Pagefind bundle for the site's pages, or report why it could not be made."""
    pages = indexed_pages(outputs)
    binary = pagefind_binary()
    where = Pos(f"{BUNDLE}/")
    if binary is None or not binary.is_file():
        diagnostics.error(where, "search: the Pagefind binary is not installed; install it with pip install 'pagefind[bin]'")
        return []
    if not pages:
        return []
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="search-", dir=cache) as folder:
        site, bundle = Path(folder) / "site", Path(folder) / BUNDLE
        for page in pages:
            target = site / page.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(page.data)
        command = [str(binary), "--site", str(site), "--output-path", str(bundle), "--keep-index-url", "--silent"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            diagnostics.error(where, f"search: Pagefind could not run: {exc}")
            return []
        if done.returncode != 0:
            detail = " ".join((done.stderr or done.stdout).split())[:400]
            diagnostics.error(where, f"search: Pagefind failed (exit {done.returncode}): {detail}")
            return []
        deps = frozenset({"search:index"} | {d for page in pages for d in page.deps if not d.startswith("template:")})
        files = sorted(p for p in bundle.rglob("*") if p.is_file() and p.name not in UNUSED)
        log.debug("search: indexed %d pages into %d files", len(pages), len(files))
        return [Output(f"{BUNDLE}/{p.relative_to(bundle).as_posix()}", p.read_bytes(), deps) for p in files]
