"""Watch a site project's sources with watchdog and say, by path alone, what each change is."""

from __future__ import annotations

import logging
import os
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable

from watchdog.events import EVENT_TYPE_CREATED, EVENT_TYPE_DELETED, EVENT_TYPE_MODIFIED, EVENT_TYPE_MOVED, FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from .load import EVERYTHING

log = logging.getLogger(__name__)

WATCHED = ("content", "themes", "seeds", "static")
EDITOR_SUFFIXES = ("~", ".swp", ".swo", ".swx", ".swpx", ".tmp", ".bak", ".orig", ".crdownload", ".part", "___jb_tmp___", "___jb_old___")  # the last two: JetBrains' safe write


def is_editor_file(name: str) -> bool:
    """Return whether a file name is an editor's swap, backup or temporary file (never a source)."""
    return (
        name.startswith((".", "#"))  # dotfiles (which the build skips), Emacs .#lock and #autosave#
        or name.endswith(EDITOR_SUFFIXES)
        or name == "4913"  # Vim's probe that the folder is writable
        or name.startswith("~$")  # office lock files
    )


def classify(rel: str) -> str | None:
    """Return what a changed path (relative to the site project, or to the folder holding a theme) is.

    One of config, briefing, actor, expert, seed, static, template, asset, theme; None when
    no build reads the path (editor files, the output, anything outside the source folders).
    """
    parts = PurePosixPath(rel.replace(os.sep, "/")).parts
    if not parts or any(is_editor_file(p) for p in parts):
        return None
    top, rest = parts[0], parts[1:]
    if top == "content":
        if rest == ("site.yaml",):
            return "config"
        if not rest:
            return "config"  # content/ itself appeared or went
        kinds = {"briefings": "briefing", "actors": "actor", "experts": "expert"}
        kind = kinds.get(rest[0])
        if kind is None:
            return None
        suffixes = (".md",) if kind == "briefing" else (".yaml", ".yml")
        return kind if len(rest) == 1 or rest[-1].endswith(suffixes) or "." not in rest[-1] else None
    if top == "seeds":
        return "seed"
    if top == "static":
        return "static"
    if top == "themes":
        if len(rest) < 2:
            return "theme"  # a theme folder appeared or went
        if rest[1] == "theme.yaml":
            return "theme"
        return {"templates": "template", "static": "asset"}.get(rest[1])
    return None


def event_paths(event: FileSystemEvent) -> list[str]:
    """Return the paths a watchdog event touched that can matter to a build (both ends of a move)."""
    if event.event_type not in (EVENT_TYPE_CREATED, EVENT_TYPE_DELETED, EVENT_TYPE_MODIFIED, EVENT_TYPE_MOVED):
        return []  # opened, closed and attribute events change no content
    if event.is_directory and event.event_type == EVENT_TYPE_MODIFIED:
        return []  # a folder "modified" when a file in it was: the file's own event says which
    paths = [event.src_path]
    if event.event_type == EVENT_TYPE_MOVED:
        paths.append(event.dest_path)
    return [os.fsdecode(p) for p in paths]


class _Handler(FileSystemEventHandler):
    """Pass each relevant path, relative to its base, to the callback."""

    def __init__(self, base: Path, on_change: Callable[[set[str]], None]) -> None:
        self.base = base
        self.on_change = on_change

    def on_any_event(self, event: FileSystemEvent) -> None:
        changed = set()
        for path in event_paths(event):
            try:
                rel = Path(path).relative_to(self.base).as_posix()
            except ValueError:
                continue
            if classify(rel) is not None:
                changed.add(rel)
        if changed:
            self.on_change(changed)


class _Folders(FileSystemEventHandler):
    """Watch each source folder of the project, including one created while serving."""

    def __init__(self, root: Path, observer: BaseObserver, on_change: Callable[[set[str]], None]) -> None:
        self.root = root
        self.observer = observer
        self.on_change = on_change
        self.watches: dict[str, object] = {}

    def add(self, name: str) -> bool:
        """Start watching root/name if it is a folder not yet watched; return whether it was added."""
        if name in self.watches or not (self.root / name).is_dir():
            return False
        self.watches[name] = self.observer.schedule(_Handler(self.root, self.on_change), str(self.root / name), recursive=True)
        return True

    def on_any_event(self, event: FileSystemEvent) -> None:
        for path in event_paths(event):
            name = Path(path).name
            if Path(path).parent != self.root or name not in WATCHED:
                continue
            if self.add(name):
                self.on_change({name})
            elif not (self.root / name).is_dir() and name in self.watches:
                self.observer.unschedule(self.watches.pop(name))  # type: ignore[arg-type]
                self.on_change({name})


class _Lost(logging.Handler):
    """Hear watchdog say that the kernel dropped events (inotify's queue overflowed), and report every path as changed."""

    def __init__(self, on_change: Callable[[set[str]], None]) -> None:
        super().__init__(logging.WARNING)
        self.on_change = on_change

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self.on_change({EVERYTHING})


INOTIFY_LOG = logging.getLogger("watchdog.observers.inotify_c")  # where watchdog says the kernel's queue overflowed


def watch(root: Path, theme_bases: Iterable[Path], on_change: Callable[[set[str]], None], poll: bool = False) -> BaseObserver:
    """Start watching the project's source folders and the built-in themes; return the running observer (stop it with unwatch).

    on_change gets the changed paths relative to the project; a themes/ folder outside it
    (the built-in themes) reports its paths as themes/NAME/... too; when events were lost,
    it gets load.EVERYTHING. on_change runs on the observer's thread, so it must only
    record them.
    """
    observer: BaseObserver = PollingObserver(timeout=0.25) if poll else Observer()
    lost = _Lost(on_change)
    INOTIFY_LOG.addHandler(lost)
    observer.lost_handler = lost  # type: ignore[attr-defined]
    root = root.resolve()
    folders = _Folders(root, observer, on_change)
    for name in WATCHED:
        folders.add(name)
    observer.schedule(folders, str(root), recursive=False)  # source folders made later (a theme copied in)
    for themes in theme_bases:
        themes = themes.resolve()
        if themes.is_dir() and not themes.is_relative_to(root):
            observer.schedule(_Handler(themes.parent, on_change), str(themes), recursive=True)
    observer.start()
    return observer


def unwatch(observer: BaseObserver) -> None:
    """Stop an observer that watch() started, and stop listening for its lost events."""
    INOTIFY_LOG.removeHandler(getattr(observer, "lost_handler", None))  # type: ignore[arg-type]
    observer.stop()
    observer.join(timeout=5)
