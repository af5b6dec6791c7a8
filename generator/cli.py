"""The command line: parse arguments, run a command, print its report. The only module that prints."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .diagnostics import Diagnostics, format_json, format_text
from .config import BuildConfig
from .scaffold import create_site

if TYPE_CHECKING:
    from .pipeline import BuildReport


def main(argv: list[str] | None = None) -> int:
    """Run the command argv names; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="briefing", description="Build briefing sites from annotated news articles.")
    parser.add_argument("--version", action="version", version=f"briefing {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    new = commands.add_parser("new", help="create a new site project", description="Create a new site project at PATH, ready to build.")
    new.add_argument("path", metavar="PATH", type=Path, help="the folder to create (must not exist or be empty)")
    new.set_defaults(run=cmd_new, command="new")

    check = commands.add_parser("check", help="check the sources and report every problem", description="Check the sources without writing anything; exit 1 on errors.")
    _source(check)
    check.add_argument("--strict", action="store_true", help="treat warnings as errors")
    check.add_argument("--lint", action="store_true", help="add editorial advice (summary length, key points, gists) as warnings")
    check.add_argument("--drafts", action="store_true", help="check drafts as they would be built (always parsed and checked)")
    check.add_argument("--format", choices=("text", "json"), default="text", help="text: one gcc-style line per problem (default); json: for tools")
    check.set_defaults(run=cmd_check, command="check")

    b = commands.add_parser("build", help="build the site", description="Build the site into the output folder; nothing is written if any source has an error.")
    _source(b)
    b.add_argument("--output", type=Path, default=None, metavar="DIR", help="where to write the site (default: site/ in the source folder)")
    b.add_argument("--strict", action="store_true", help="treat warnings as errors")
    b.add_argument("--drafts", action="store_true", help="include briefings marked draft: true")
    b.add_argument("--base-url", default=None, metavar="URL", help="override site.yaml's base_url (for a staging copy)")
    b.set_defaults(run=cmd_build, command="build")

    imp = commands.add_parser(
        "import",
        help="draft a briefing from a raw article",
        description="Read a plain-text article and write a draft briefing, plus draft registry entries for the actors and experts "
        "it names that are not registered yet; copy the article into seeds/. Never overwrites a file.",
    )
    imp.add_argument("path", metavar="PATH", type=Path, help="the article, as plain UTF-8 text")
    _source(imp)
    imp.add_argument("--slug", default=None, metavar="S", help="the briefing's slug (default: made from the title)")
    imp.add_argument("--date", default=None, type=_iso_date, metavar="YYYY-MM-DD", help="the article's date; weekdays in the text are dated against it")
    imp.add_argument("--dry-run", action="store_true", help="print the draft files instead of writing them")
    imp.set_defaults(run=cmd_import, command="import")

    serve = commands.add_parser(
        "serve",
        help="preview the site with live reload",
        description="Build the site into memory (drafts shown, marked), serve it, and rebuild and reload open pages on every change. Never writes site/.",
    )
    _source(serve)
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1, this machine only)")
    serve.add_argument("--port", type=int, default=None, help="the port (default 8000, or the next free one)")
    serve.add_argument("--allow-host", action="append", default=[], metavar="NAME", help="also accept requests for this host name (repeatable), e.g. a LAN name for a phone")
    serve.add_argument("--open", action="store_true", help="open the site in the web browser")
    serve.add_argument("--poll", action="store_true", help="poll for changes, for file systems that send no events (network and container mounts)")
    serve.set_defaults(run=cmd_serve, command="serve")
    return parser


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def _source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", type=Path, default=Path("."), metavar="DIR", help="the site project (default: the current folder)")


def _print_diagnostics(report: BuildReport) -> None:
    sys.stderr.write(format_text(report.diagnostics))


def cmd_new(args: argparse.Namespace) -> int:
    problem = create_site(args.path)
    if problem:
        print(f"{args.path}: error: {problem}", file=sys.stderr)
        return 1
    print(f"created a site project in {args.path}; next: cd {args.path} && briefing build")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from .pipeline import build

    report = build(BuildConfig(args.source, args.source / "site", drafts=True, strict=args.strict, lint=args.lint, write=False))
    if args.format == "json":
        sys.stdout.write(format_json(report.diagnostics))
    else:
        _print_diagnostics(report)
    failed = bool(report.errors) or (args.strict and bool(report.warnings))
    if args.format == "text":
        summary = f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)"
        print(f"check: {summary}" if report.diagnostics else f"check: {report.briefings} briefing(s), no problems", file=sys.stderr)
    return 1 if failed else 0


def cmd_build(args: argparse.Namespace) -> int:
    from .cache import fingerprint, lookup  # light: the pipeline's libraries load only if the build must run

    started = time.perf_counter()
    output = args.output if args.output is not None else args.source / "site"
    config = BuildConfig(args.source, output, drafts=args.drafts, strict=args.strict, base_url=args.base_url)
    sources_print = fingerprint(config)
    same = lookup(config.source, config.output, sources_print)
    if same is not None:  # nothing it read has changed and its output stands: say what the last build said
        sys.stderr.write(format_text(list(same.record.diagnostics)))
        kept = same.others
        if kept:  # the rule for a host's own files lives with the writer, as do its libraries
            from .write import HOST_FILES

            kept = tuple(sorted(p for p in kept if p.partition("/")[0] not in HOST_FILES))
        note = " (no source changed since the last build)"
        _built(same.record.briefings, 0, len(same.record.files), 0, kept, time.perf_counter() - started, output, note)
        return 0

    from .pipeline import build

    report = build(config, sources_print=sources_print)
    _print_diagnostics(report)
    if report.failed:
        why = "warnings with --strict" if not report.errors else f"{len(report.errors)} error(s)"
        print(f"build failed: {why}; nothing was written to {output}", file=sys.stderr)
        return 1
    w = report.written
    assert w is not None
    _built(report.briefings, w.written, w.unchanged, w.deleted, w.kept, report.seconds, output)
    return 0


def _built(briefings: int, written: int, unchanged: int, deleted: int, kept: tuple[str, ...], seconds: float, output: Path, note: str = "") -> None:
    print(f"built {briefings} briefing(s): {written} file(s) written, {unchanged} unchanged, {deleted} deleted in {seconds:.2f} s -> {output}{note}")
    if kept:
        print(f"left alone {len(kept)} file(s) in {output} that briefing did not write (e.g. {kept[0]})", file=sys.stderr)


def cmd_serve(args: argparse.Namespace) -> int:
    from .serve import PreviewServer, Rebuild, ServeConfig, ServeError

    def report(rebuild: Rebuild) -> None:
        r = rebuild.report
        if r.failed:
            _print_diagnostics(r)
            print(f"build {rebuild.number} failed ({len(r.errors)} error(s)) in {rebuild.milliseconds:.0f} ms; still serving the last good build", file=sys.stderr)
            return
        if r.diagnostics:
            _print_diagnostics(r)
        what = ", ".join(rebuild.sources[:3]) + (f" and {len(rebuild.sources) - 3} more" if len(rebuild.sources) > 3 else "")
        why = f"{what} changed: " if what else ""
        early = f"{rebuild.told_ahead} open page(s) told ahead at {rebuild.ahead:.0f} ms, " if rebuild.told_ahead else ""
        timing = f" ({rebuild.settled:.0f} ms for the edits to settle; {early}{rebuild.told} open page(s) told {rebuild.telling:.1f} ms after)" if what else ""
        print(f"build {rebuild.number}: {why}{len(rebuild.changed)} file(s) rewritten, {len(r.rendered)} page(s) rendered in {rebuild.milliseconds:.0f} ms{timing}", flush=True)

    config = ServeConfig(
        args.source,
        host=args.host,
        port=8000 if args.port is None else args.port,
        allow_hosts=tuple(args.allow_host),
        poll=args.poll,
        next_free_port=args.port is None,
    )
    if not (args.source / "content").is_dir():
        print(f"{args.source}: error: no content/ folder; is this a site project? (see briefing new)", file=sys.stderr)
        return 1
    server = PreviewServer(config, report)
    try:
        try:
            server.start()
        except ServeError as exc:
            print(f"serve: error: {exc}", file=sys.stderr)
            return 1
        if config.port and server.port != config.port:
            print(f"port {config.port} is in use; serving on {server.port} instead", file=sys.stderr)
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            print(f"warning: listening on {args.host}: other machines on the network can read this preview (drafts included)", file=sys.stderr)
        print(f"serving {args.source} at {server.url} (drafts shown); Ctrl-C stops", flush=True)
        if args.open:
            import webbrowser

            webbrowser.open(server.url)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    print("stopped", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from .importer import ImportOptions, plan_import, render_dry_run, write_import

    diagnostics = Diagnostics()
    plan = plan_import(ImportOptions(args.path, args.source, args.slug, args.date), diagnostics)
    sys.stderr.write(format_text(diagnostics.sorted()))
    if plan is None:
        print("import failed; nothing was written", file=sys.stderr)
        return 1
    if args.dry_run:
        sys.stdout.write(render_dry_run(plan))
    else:
        try:
            written = write_import(plan, args.path, args.source)
        except FileExistsError as exc:
            print(f"{exc.filename}: error: exists; import never overwrites a file", file=sys.stderr)
            return 1
        except OSError as exc:
            print(f"{exc.filename}: error: cannot write: {exc.strerror}", file=sys.stderr)
            return 1
        for path in written:
            print(f"wrote {path}")
    for note in plan.notes:
        print(f"note: {note}", file=sys.stderr)
    drafts, matched = len(plan.registry), len(plan.matched)
    print(
        f"import: draft briefing {plan.slug!r}; {matched} registry entr{'y' if matched == 1 else 'ies'} matched, "
        f"{drafts} draft entr{'y' if drafts == 1 else 'ies'} made; next: briefing check",
        file=sys.stderr,
    )
    return 0
