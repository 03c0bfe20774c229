"""``rhabdo assess``, ``rhabdo validate`` and ``rhabdo schema``."""

from __future__ import annotations

import json
import sys
from datetime import date

import click

from rhabdo.cli.common import fail, user_errors, write_output


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"--assessed-on: {value!r} is not a date (YYYY-MM-DD)")


@click.command("assess")
@click.argument("case_file", type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html", "pdf"]),
    default="text",
    show_default=True,
    help="Readable summary, machine-readable JSON, or the tumour-board report.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file.")
@click.option("--assessed-on", help="Date stamped on the assessment (YYYY-MM-DD); default today.")
def assess_cmd(case_file: str, fmt: str, output: str | None, assessed_on: str | None) -> None:
    """Assess one case file (YAML or JSON) and print what the tumour board needs."""
    from rhabdo.case.io import load_case
    from rhabdo.engine import assess

    when = _parse_date(assessed_on)
    with user_errors():
        case = load_case(case_file)
        assessment = assess(case, assessed_on=when)
    if fmt == "text":
        from rhabdo.report.text import render_text

        write_output(render_text(case, assessment), output)
    elif fmt == "json":
        write_output(assessment_json(assessment), output)
    elif fmt == "html":
        from rhabdo.report import render_html

        write_output(render_html(case, assessment), output)
    else:
        if output is None and sys.stdout.isatty():
            fail("--format pdf writes binary data: give -o FILE.pdf")
        from rhabdo.report import render_pdf

        write_output(render_pdf(case, assessment), output)


def assessment_json(assessment: object) -> str:
    from rhabdo.results import Assessment

    assert isinstance(assessment, Assessment)
    return json.dumps(assessment.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


@click.command("validate")
@click.argument(
    "case_files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=str)
)
def validate_cmd(case_files: tuple[str, ...]) -> None:
    """Check case files against the case format; report every problem with its field."""
    from rhabdo.case.io import load_case
    from rhabdo.errors import CaseValidationError
    from rhabdo.exposure.plausibility import implausible_doses

    failed = 0
    for path in case_files:
        try:
            problems = implausible_doses(load_case(path))
            if problems:
                raise CaseValidationError(problems, source=path)
        except CaseValidationError as exc:
            failed += 1
            click.echo(f"error: {exc}", err=True)
        else:
            click.echo(f"{path}: valid")
    if failed:
        sys.exit(2)


@click.command("schema")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file.")
def schema_cmd(output: str | None) -> None:
    """Print the JSON Schema of the case format."""
    from rhabdo.case.schema import case_json_schema

    write_output(json.dumps(case_json_schema(), indent=2) + "\n", output)
