"""``rhabdo fhir import`` and ``rhabdo fhir export``: FHIR R4 / mCODE STU4 in and out."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import click

from rhabdo.cli.common import fail, user_errors, write_output
from rhabdo.errors import FhirBundleError, FieldProblem, NotRhabdomyosarcoma

_MAX_BUNDLE_BYTES = 20_000_000


def read_bundle(path: str) -> Any:
    """Read a FHIR Bundle from a JSON file, with errors that name the file and the problem."""
    p = Path(path)
    try:
        if p.stat().st_size > _MAX_BUNDLE_BYTES:
            raise FhirBundleError(
                [FieldProblem("(file)", "file is too large for a bundle")], p.name
            )
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FhirBundleError([FieldProblem("(file)", "file not found")], str(p)) from None
    except IsADirectoryError:
        raise FhirBundleError([FieldProblem("(file)", "is a directory")], str(p)) from None
    except UnicodeDecodeError:
        raise FhirBundleError([FieldProblem("(file)", "not UTF-8 text")], str(p)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FhirBundleError(
            [FieldProblem("(file)", f"not valid JSON: {exc.msg} at line {exc.lineno}")], p.name
        ) from None


@click.group("fhir")
def fhir_group() -> None:
    """Import cases from FHIR R4 / mCODE bundles and export assessments as FHIR."""


@fhir_group.command("import")
@click.argument("bundle_file", type=click.Path(dir_okay=False, path_type=str))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the case here.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "json"]),
    default=None,
    help="Case file format; default from the output file's extension, else YAML.",
)
@click.option("--provenance", is_flag=True, help="Also list which resource each field came from.")
def import_cmd(bundle_file: str, output: str | None, fmt: str | None, provenance: bool) -> None:
    """Read BUNDLE_FILE (FHIR JSON) into a rhabdo case file.

    Codes that cannot be mapped and resources that are not used are listed on standard
    error, so that nothing is dropped silently.
    """
    import yaml

    from rhabdo.case.io import case_to_dict
    from rhabdo.interop.fhir_import import case_from_bundle

    with user_errors():
        try:
            result = case_from_bundle(read_bundle(bundle_file))
        except NotRhabdomyosarcoma as exc:
            fail(f"{bundle_file}: {exc}")
    fmt = fmt or ("json" if output and output.endswith(".json") else "yaml")
    data = case_to_dict(result.case)
    if fmt == "json":
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    write_output(text, output)
    resources = {p.resource for p in result.provenance}
    click.echo(
        f"imported {len(result.provenance)} field(s) from {len(resources)} resource(s); "
        f"{len(result.unmapped)} unmapped code(s); {len(result.skipped)} resource(s) not used",
        err=True,
    )
    for note in result.notes:
        click.echo(f"  note: {note}", err=True)
    for item in result.unmapped:
        click.echo(f"  unmapped: {item}", err=True)
    for skipped in result.skipped:
        click.echo(f"  not used: {skipped.resource} -- {skipped.reason}", err=True)
    if provenance:
        for entry in result.provenance:
            note = f" ({entry.note})" if entry.note else ""
            click.echo(f"  {entry.field} <- {entry.resource}{note}", err=True)


@fhir_group.command("export")
@click.argument("case_file", type=click.Path(dir_okay=False, path_type=str))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the bundle here.")
@click.option("--case-only", is_flag=True, help="Export the case alone, without assessing it.")
@click.option("--assessed-on", help="Date stamped on the assessment (YYYY-MM-DD); default today.")
def export_cmd(
    case_file: str, output: str | None, case_only: bool, assessed_on: str | None
) -> None:
    """Write CASE_FILE, and its assessment, as a FHIR R4 Bundle (JSON)."""
    from rhabdo.case.io import load_case
    from rhabdo.interop.fhir_export import assessment_to_bundle, case_to_bundle

    when: date | None = None
    if assessed_on is not None:
        try:
            when = date.fromisoformat(assessed_on)
        except ValueError:
            fail(f"--assessed-on: {assessed_on!r} is not a date (YYYY-MM-DD)")
    with user_errors():
        case = load_case(case_file)
        if case_only:
            bundle = case_to_bundle(case)
        else:
            from rhabdo.engine import assess

            bundle = assessment_to_bundle(case, assess(case, assessed_on=when))
    write_output(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", output)
