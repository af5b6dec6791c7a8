"""Find a theme and its `extends` chain, and make the Jinja environments that render through it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
import jinja2.meta
from markupsafe import Markup

from . import schema
from .annotations import defuse_links
from .diagnostics import Diagnostics
from .model import Pos

THEME = schema.Record(
    {
        "name": schema.Field(schema.Text(), doc="the theme's display name"),
        "extends": schema.Field(schema.Text(), doc="the theme this one builds on (default: none)"),
        "description": schema.Field(schema.Text(), doc="what the theme is for"),
    }
)


def builtin_themes() -> Path:
    """Return the folder of the themes that ship with the package."""
    packaged = Path(__file__).parent / "themes"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "themes"


@dataclass(frozen=True)
class Theme:
    names: tuple[str, ...]  # the chosen theme first, then what it extends
    folders: tuple[Path, ...]

    def static_files(self) -> dict[str, Path]:
        """Return the theme's static files by output name; a theme overrides what it extends."""
        files: dict[str, Path] = {}
        for folder in reversed(self.folders):
            static = folder / "static"
            if static.is_dir():
                for path in sorted(static.rglob("*")):
                    if path.is_file() and not path.name.startswith("."):
                        files[path.relative_to(static).as_posix()] = path
        return dict(sorted(files.items()))

    def template_path(self, name: str) -> Path | None:
        """Return the file a template name resolves to."""
        for theme, folder in zip(self.names, self.folders):
            if name.startswith(theme + "/") and (folder / "templates" / name[len(theme) + 1 :]).is_file():
                return folder / "templates" / name[len(theme) + 1 :]
        for folder in self.folders:
            if (folder / "templates" / name).is_file():
                return folder / "templates" / name
        return None


def resolve_theme(name: str, root: Path, diagnostics: Diagnostics, pos: Pos) -> Theme | None:
    """Return the theme called name, looking in the site's themes/ then the built-in ones."""
    names: list[str] = []
    folders: list[Path] = []
    while name:
        if name in names:
            diagnostics.error(pos, f"theme {name!r} extends itself through {' -> '.join(names)}")
            return None
        folder = next((f for f in (root / "themes" / name, builtin_themes() / name) if f.is_dir()), None)
        if folder is None:
            available = sorted({p.name for base in (root / "themes", builtin_themes()) if base.is_dir() for p in base.iterdir() if p.is_dir()})
            diagnostics.error(pos, f"unknown theme {name!r}; themes found: {', '.join(available)}{schema.hint(name, available)}")
            return None
        names.append(name)
        folders.append(folder)
        name = ""
        config = folder / "theme.yaml"
        if config.is_file():
            rel = config.relative_to(root).as_posix() if config.is_relative_to(root) else str(config)
            values = schema.read_document(config.read_text("utf-8"), THEME, rel, 0, diagnostics) or {}
            name = schema.plain(values.get("extends"), "")
            pos = Pos(rel)
    return Theme(tuple(names), tuple(folders))


ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")


def markdown_escape(value: object) -> object:
    """Escape what would become active HTML in a Markdown page; leave prose readable."""
    if value is None or isinstance(value, Markup) or not isinstance(value, str):
        return "" if value is None else value
    return defuse_links(ENTITY.sub("&amp;", value).replace("<", "&lt;"))


SAFE_SCHEMES = ("http://", "https://", "mailto:")


def safe_url(url: object) -> str:
    """Return url if it is web, mail or relative; '#' for javascript:, data: and other active schemes."""
    text = str(url).strip()
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", re.sub(r"[\x00-\x20]", "", text))
    if scheme and not text.lower().startswith(SAFE_SCHEMES):
        return "#"
    return text


def environments(theme: Theme) -> tuple[jinja2.Environment, jinja2.Environment]:
    """Return the HTML environment (autoescaped) and the Markdown one, over one loader."""
    chain = [jinja2.FileSystemLoader(str(f / "templates")) for f in theme.folders]
    prefixed = jinja2.PrefixLoader({n: jinja2.FileSystemLoader(str(f / "templates")) for n, f in zip(theme.names, theme.folders)})
    loader = jinja2.ChoiceLoader([*chain, prefixed])
    common = dict(loader=loader, undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    html = jinja2.Environment(autoescape=True, **common)  # type: ignore[arg-type]
    md = jinja2.Environment(autoescape=False, finalize=markdown_escape, **common)  # type: ignore[arg-type]
    for env in (html, md):
        env.filters["safe_url"] = safe_url
    return html, md


ATTRIBUTE_PATH = re.compile(r"\w+(?:\.\w+)*")  # "body", "briefing.title"; not a path such as "actors/index.html"
DYNAMIC_READS = frozenset({"attr", "pprint"})  # filters that reach attributes by a computed name, or print every one


def template_names(env: jinja2.Environment, name: str) -> frozenset[str] | None:
    """Return every name and word of a string that the template and those it uses spell in their code; None if it may reach any attribute.

    Markup and comments are left out: a template can only read an attribute it names, in
    `a.name`, `a["name"]` or a filter's `attribute="a.name"`, unless it computes the name
    (the attr filter, or strings joined with ~) or prints whole objects (pprint).
    """
    names: set[str] = set()
    try:
        sources = [env.loader.get_source(env, t)[0] for t in sorted(referenced_templates(env, name))]  # type: ignore[union-attr]
        tokens = [token for source in sources for token in env.lex(source)]
    except (jinja2.TemplateSyntaxError, jinja2.TemplateNotFound):
        return None  # reported where the template is rendered
    for _, kind, value in tokens:
        if kind == "name":
            names.add(value)
        elif kind == "string" and ATTRIBUTE_PATH.fullmatch(value[1:-1]):
            names.update(value[1:-1].split("."))
    return None if DYNAMIC_READS & names else frozenset(names)


def template_keys(env: jinja2.Environment, name: str, memo: dict[str, frozenset[str]]) -> frozenset[str]:
    """Return the `template:NAME` keys of a template and all it uses, parsed once per memo (the environments share one loader, so one memo serves both)."""
    if name not in memo:
        memo[name] = frozenset(f"template:{t}" for t in referenced_templates(env, name))
    return memo[name]


def referenced_templates(env: jinja2.Environment, name: str) -> frozenset[str]:
    """Return name and every template it extends, includes or imports, transitively."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            source = env.loader.get_source(env, current)[0]  # type: ignore[union-attr]
        except jinja2.TemplateNotFound:
            continue
        todo.extend(r for r in jinja2.meta.find_referenced_templates(env.parse(source)) if r)
    return frozenset(seen)
