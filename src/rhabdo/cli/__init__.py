"""The ``rhabdo`` command.

Sub-command groups live in their own modules (``rhabdo.cli.<name>``) and are imported only
when used, so that ``rhabdo validate`` and ``rhabdo assess`` start quickly.  CLI errors are
raised here and nowhere else: library errors are caught and turned into a message naming the
field and the problem, with a non-zero exit code and no traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

#: name -> (module, attribute, one-line help) for every command, imported on first use.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "assess": ("rhabdo.cli.core", "assess_cmd", "Assess one case and print the findings."),
    "validate": ("rhabdo.cli.core", "validate_cmd", "Check a case file without assessing it."),
    "schema": ("rhabdo.cli.core", "schema_cmd", "Print the JSON Schema of the case format."),
    "kb": ("rhabdo.cli.kb", "kb_group", "Check and list the knowledge base."),
    "trials": ("rhabdo.cli.trials", "trials_group", "Match, import and list clinical trials."),
    "fhir": ("rhabdo.cli.fhir", "fhir_group", "Import cases from and export assessments to FHIR."),
    "cohort": (
        "rhabdo.cli.cohort",
        "cohort_group",
        "Score registry cohorts and run survival analyses.",
    ),
    "serve": ("rhabdo.cli.serve", "serve_cmd", "Run the web app, JSON API and CDS Hooks service."),
    "admin": ("rhabdo.cli.serve", "admin_group", "Administer the service (users, database)."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attr, _ = entry
        module = importlib.import_module(module_name)
        cmd: click.Command = getattr(module, attr)
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (_, _, help_) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup)
@click.version_option(package_name="rhabdo", prog_name="rhabdo")
def cli() -> None:
    """rhabdo: decision support for relapsed, refractory and metastatic rhabdomyosarcoma.

    It supports, and does not replace, the judgement of the treating team.
    """


#: Top-level module -> the optional extra (pyproject.toml) that installs it.
OPTIONAL_MODULES: dict[str, str] = {
    **dict.fromkeys(["jinja2", "matplotlib", "weasyprint"], "report"),
    "fhir": "fhir",
    **dict.fromkeys(
        ["duckdb", "polars", "pyarrow", "lifelines", "tqdm", "pandas", "numpy"], "cohort"
    ),
    **dict.fromkeys(
        [
            "fastapi",
            "uvicorn",
            "sqlalchemy",
            "alembic",
            "argon2",
            "jwt",
            "itsdangerous",
            "multipart",
            "psycopg",
            "httpx",
            "starlette",
        ],
        "service",
    ),
}


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the command, turning rhabdo's own errors into clean messages."""
    from rhabdo.errors import RhabdoError

    try:
        return cli.main(args=argv, prog_name="rhabdo", standalone_mode=True)
    except RhabdoError as exc:  # pragma: no cover - commands handle their own; last resort
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except ModuleNotFoundError as exc:
        extra = OPTIONAL_MODULES.get((exc.name or "").split(".")[0])
        if extra is None:
            raise
        click.echo(
            f"error: this command needs the optional '{extra}' dependencies, which are not "
            f"installed: run .venv/bin/pip install -e '.[{extra}]' (or make test, which "
            "installs everything)",
            err=True,
        )
        sys.exit(2)
