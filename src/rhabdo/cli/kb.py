"""``rhabdo kb check | list | sources``: validate and browse the knowledge base.

``kb check`` exits 0 when every table loads and every citation key resolves, 1 when a
knowledge file is malformed (the file, entry and field are named) or a key does not resolve,
and 2 on bad usage.  ``--data-dir`` checks a copy of the data instead of the shipped files.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from rhabdo.cli.common import EXIT_CHECK_FAILED, fail, write_output
from rhabdo.errors import KnowledgeBaseError

_DATA_DIR = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Check this copy of the knowledge data instead of the shipped files.",
)
_FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)


@click.group("kb")
def kb_group() -> None:
    """Check and list the knowledge base."""


@kb_group.command("check")
@_DATA_DIR
@_FORMAT
def check_cmd(data_dir: Path | None, fmt: str) -> None:
    """Validate every knowledge file; list every entry whose evidence is unverified."""
    from rhabdo.knowledge.catalog import check_knowledge

    try:
        report = check_knowledge(data_dir)
    except KnowledgeBaseError as exc:
        fail(f"knowledge base: {exc}", code=EXIT_CHECK_FAILED)
    if fmt == "json":
        out = {
            "ok": report.ok,
            "directory": report.directory,
            "version": report.version,
            "sources": report.sources,
            "tables": [{"file": t.filename, "entries": t.entries} for t in report.tables],
            "unverified": [
                {"file": u.filename, "entry": u.entry_id, "evidence_gap": u.evidence_gap}
                for u in report.unverified
            ],
            "problems": [str(p) for p in report.problems],
        }
        write_output(json.dumps(out, indent=2) + "\n", None)
    else:
        lines = [
            f"knowledge base {report.version} ({report.directory})",
            f"  sources: {report.sources}",
        ]
        lines += [f"  {t.filename}: {t.entries} entries" for t in report.tables]
        lines.append(f"  total: {report.entries} entries in {len(report.tables)} tables")
        lines.append(f"unverified entries: {len(report.unverified)}")
        for u in report.unverified:
            lines.append(
                f"  - {u.filename} {u.entry_id}: {u.evidence_gap or 'evidence not verified'}"
            )
        if report.problems:
            lines.append(f"problems: {len(report.problems)}")
            lines += [f"  - {p}" for p in report.problems]
        lines.append("OK" if report.ok else "FAILED")
        write_output("\n".join(lines) + "\n", None)
    if not report.ok:
        raise SystemExit(EXIT_CHECK_FAILED)


@kb_group.command("list")
@click.argument("table", required=False)
@_DATA_DIR
def list_cmd(table: str | None, data_dir: Path | None) -> None:
    """List the tables, or the entries of one TABLE (e.g. regimens.yaml)."""
    from rhabdo.knowledge.catalog import CATALOG, load_catalog_table

    if table is None:
        for spec in CATALOG:
            click.echo(f"{spec.filename}\t{spec.description}")
        return
    specs = [s for s in CATALOG if s.filename in (table, f"{table}.yaml")]
    if not specs:
        fail(f"unknown table {table!r}; one of: {', '.join(s.filename for s in CATALOG)}")
    try:
        entries = load_catalog_table(specs[0], data_dir)
    except KnowledgeBaseError as exc:
        fail(f"knowledge base: {exc}", code=EXIT_CHECK_FAILED)
    for e in entries:
        flag = "" if e.verified else "  [unverified]"
        click.echo(f"{e.id}\t{', '.join(e.citations)}{flag}")


@kb_group.command("sources")
@click.argument("key", required=False)
@_DATA_DIR
def sources_cmd(key: str | None, data_dir: Path | None) -> None:
    """List every source as a reference line, or show one KEY."""
    from rhabdo.knowledge.catalog import load_sources

    try:
        registry = load_sources(data_dir)
    except KnowledgeBaseError as exc:
        fail(f"knowledge base: {exc}", code=EXIT_CHECK_FAILED)
    if key is not None:
        if key not in registry:
            fail(f"unknown citation key {key!r}")
        click.echo(f"{key}: {registry[key].reference()}")
        return
    for k in sorted(registry):
        click.echo(f"{k}: {registry[k].reference()}")
