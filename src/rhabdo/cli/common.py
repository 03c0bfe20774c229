"""Helpers shared by the command modules: error reporting and output."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import click

from rhabdo.errors import CaseValidationError, KnowledgeBaseError, RhabdoError

#: Exit codes: 0 success, 1 the check found problems, 2 bad input or usage.
EXIT_INVALID_INPUT = 2
EXIT_CHECK_FAILED = 1


def fail(message: str, code: int = EXIT_INVALID_INPUT) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Report rhabdo's errors as one clear message and a non-zero exit, never a traceback."""
    try:
        yield
    except CaseValidationError as exc:
        fail(str(exc))
    except KnowledgeBaseError as exc:
        fail(f"knowledge base: {exc}")
    except RhabdoError as exc:
        fail(str(exc))


def write_output(text: str | bytes, output: str | None) -> None:
    """Write to a file when ``-o`` is given, else to standard output."""
    if output is None or output == "-":
        if isinstance(text, bytes):
            sys.stdout.buffer.write(text)
        else:
            click.echo(text, nl=not text.endswith("\n"))
        return
    try:
        if isinstance(text, bytes):
            with open(output, "wb") as fh:
                fh.write(text)
        else:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}")
