"""Themes: the extends chain, overriding one partial, reaching the parent, strict templates."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import jinja2

from conftest import run_cli

from generator.pipeline import BuildConfig, build

WITH_ACTOR = "---\ntitle: First\ndate: 2025-01-02\nsummary: S.\nactors:\n  alice:\n    stance: neutral\n---\n\nText.\n"


def test_a_theme_overrides_one_partial_and_extends_its_parent(make_site: Callable[..., Path], tmp_path: Path) -> None:
    root = make_site(
        {
            "content/site.yaml": "title: T\ntheme: mine\n",
            "content/briefings/first.md": WITH_ACTOR,
            "themes/mine/theme.yaml": "name: Mine\nextends: default\n",
            "themes/mine/templates/partials/actor_card.html": '<div class="my-card">{{ card.actor.name }} / {{ card.role.stance }}</div>\n',
            "themes/mine/templates/briefing.html": '{% extends "default/briefing.html" %}\n{% block description %}MINE {{ super() }}{% endblock %}\n',
            "themes/mine/static/extra.css": "body{}\n",
        }
    )
    report = build(BuildConfig(root, tmp_path / "out"))
    assert not report.failed, report.diagnostics
    page = (tmp_path / "out" / "briefings" / "first" / "index.html").read_text()
    assert '<div class="my-card">Alice Example / neutral</div>' in page
    assert '<meta name="description" content="MINE S."' in page
    assert "What the experts say" not in page and "Who’s who" in page  # the rest is the default theme's
    assert (tmp_path / "out" / "actors" / "alice" / "index.html").is_file()
    assert list((tmp_path / "out" / "assets").glob("extra*.css"))  # the child's static files join the parent's


def test_unknown_theme_is_a_positioned_error(make_site: Callable[..., Path]) -> None:
    root = make_site({"content/site.yaml": "title: T\ntheme: defualt\n"})
    result = run_cli("check", "--source", str(root))
    assert result.returncode == 1
    assert "content/site.yaml:1:1: error: unknown theme 'defualt'; themes found: default; did you mean 'default'?" in result.stderr


def test_theme_that_extends_itself(make_site: Callable[..., Path]) -> None:
    root = make_site({"content/site.yaml": "title: T\ntheme: a\n", "themes/a/theme.yaml": "extends: b\n", "themes/b/theme.yaml": "extends: a\n"})
    result = run_cli("check", "--source", str(root))
    assert result.returncode == 1
    assert "error: theme 'a' extends itself through a -> b" in result.stderr


def test_undefined_variable_in_a_template_names_the_file_and_line(make_site: Callable[..., Path], tmp_path: Path) -> None:
    root = make_site(
        {
            "content/site.yaml": "title: T\ntheme: broken\n",
            "themes/broken/theme.yaml": "extends: default\n",
            "themes/broken/templates/tag.html": "{% extends 'base.html' %}\n{% block main %}\n<h1>{{ tag_nmae }}</h1>\n{% endblock %}\n",
            "content/briefings/first.md": "---\ntitle: First\ndate: 2025-01-02\nsummary: S.\ntags:\n  - x\n---\n\nText.\n",
        }
    )
    out = tmp_path / "out"
    result = run_cli("build", "--source", str(root), "--output", str(out))
    assert result.returncode == 1
    assert "themes/broken/templates/tag.html:3:1: error: template error while rendering tags/x/index.html (and any other page that uses it): 'tag_nmae' is undefined" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_template_syntax_error_is_positioned(make_site: Callable[..., Path]) -> None:
    root = make_site(
        {
            "content/site.yaml": "title: T\ntheme: broken\n",
            "themes/broken/theme.yaml": "extends: default\n",
            "themes/broken/templates/tags.html": "{% extends 'base.html' %}\n{% block main %}\n{% for x in %}\n{% endblock %}\n",
        }
    )
    result = run_cli("check", "--source", str(root))
    assert result.returncode == 1
    assert "themes/broken/templates/tags.html:3:1: error: template error: " in result.stderr


def test_template_names_are_what_its_code_spells_not_its_markup() -> None:
    from generator.theme import template_names

    loader = jinja2.DictLoader(
        {
            "base.html": "<title>{{ page.title }}</title>{% block main %}{% endblock %}",
            "list.html": '{% extends "base.html" %}{% block main %}<p>body text</p>{# body #}'
            '{% for e in entries %}<a href="{{ rel("briefings/index.html") }}">{{ e.briefing["summary"] }}</a>'
            '{{ e | map(attribute="briefing.date") | list }}{% endfor %}{% endblock %}',
            "dynamic.html": "{{ b | attr(name) }}",
            "broken.html": "{{ b. }",
        }
    )
    env = jinja2.Environment(loader=loader)
    names = template_names(env, "list.html")
    assert names is not None
    assert {"page", "title", "entries", "e", "briefing", "summary", "date", "rel"} <= names
    assert "body" not in names  # markup and comments read nothing
    assert "briefings" not in names  # a path, not an attribute
    assert template_names(env, "dynamic.html") is None  # a computed name may reach anything
    assert template_names(env, "broken.html") is None
