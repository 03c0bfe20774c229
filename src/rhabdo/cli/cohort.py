"""``rhabdo cohort``: score registry cohorts, run survival analyses, make synthetic cohorts."""

from __future__ import annotations

import json
from pathlib import Path

import click

from rhabdo.cli.common import EXIT_CHECK_FAILED, fail, user_errors


@click.group("cohort")
def cohort_group() -> None:
    """Score registry cohorts and run survival analyses."""


@cohort_group.command("score")
@click.argument("input_path", metavar="IN", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    "output_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output table (.csv or .parquet).",
)
@click.option(
    "--mapping",
    "mapping_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML file mapping the registry's column names and codes to ours.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes for scoring distinct rows.",
)
@click.option(
    "--batch-rows", type=click.IntRange(100, 10_000_000), default=65_536, show_default=True
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar (default: on when standard error is a terminal).",
)
@click.option(
    "--date-format",
    help="How the date columns are written when not YYYY-MM-DD, in strptime codes "
    "(e.g. %d/%m/%Y for 15/03/2022).",
)
def score_cmd(
    input_path: Path,
    output_path: Path,
    mapping_path: Path | None,
    workers: int,
    batch_rows: int,
    progress: bool | None,
    date_format: str | None,
) -> None:
    """Score every row of a cohort table IN with the same rules as `rhabdo assess`."""
    from rhabdo.cohort.columns import load_mapping
    from rhabdo.cohort.score import score_file

    with user_errors():
        mapping = load_mapping(mapping_path)
        summary = score_file(
            input_path,
            output_path,
            mapping=mapping,
            workers=workers,
            batch_rows=batch_rows,
            progress=progress,
            date_format=date_format,
        )
    click.echo(
        f"{summary.rows} rows: {summary.scored} scored, {summary.errors} with errors "
        f"(see the 'error' column of {output_path})",
        err=True,
    )
    if summary.scored == 0:
        fail(f"no row of {input_path.name} could be scored", code=EXIT_CHECK_FAILED)


def _parse_times(values: tuple[float, ...]) -> list[float]:
    return sorted(set(values))


@cohort_group.command("survival")
@click.argument("input_path", metavar="IN", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--time", "time_col", required=True, help="Column with the time to event or censoring."
)
@click.option(
    "--event", "event_col", required=True, help="Column with the event flag (1/0, true/false)."
)
@click.option("--by", "by", help="Finding id (column of a scored table) to group by.")
@click.option("--cox", "cox_terms", multiple=True, help="Finding for the Cox model (repeatable).")
@click.option("--score", "score_col", help="Numeric finding whose concordance index is reported.")
@click.option(
    "--at", "time_points", multiple=True, type=float, help="Time points for the table (repeatable)."
)
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for km.csv, logrank.csv, cox.csv, the figure and summary.html.",
)
@click.option(
    "--figure-format", type=click.Choice(["png", "svg"]), default="png", show_default=True
)
@click.option(
    "--time-unit",
    type=click.Choice(["days", "weeks", "months", "years"]),
    help="Unit of the time column (default: read from its name, e.g. efs_years).",
)
def survival_cmd(
    input_path: Path,
    time_col: str,
    event_col: str,
    by: str | None,
    cox_terms: tuple[str, ...],
    score_col: str | None,
    time_points: tuple[float, ...],
    output_dir: Path | None,
    figure_format: str,
    time_unit: str | None,
) -> None:
    """Kaplan-Meier by group, log-rank test, Cox model and concordance for a scored cohort."""
    from rhabdo.cohort import survival as sv
    from rhabdo.cohort.report import SurvivalReport, default_time_points, text_summary, write_report
    from rhabdo.labels import finding_label

    with user_errors():
        df = sv.read_table(input_path)
        data = sv.prepare(df, time_col, event_col, [by] if by else [])
        if data.frame.empty:
            fail(
                "no row can enter the analysis: "
                + ", ".join(f"{k} ({v})" for k, v in data.excluded.items())
            )
        curves = sv.km_by_group(data, by)
        report = SurvivalReport(
            title=f"Survival by {finding_label(by)}" if by else "Survival",
            time_column=time_col,
            event_column=event_col,
            by=by,
            curves=curves,
            excluded=data.excluded,
            time_points=_parse_times(time_points) or default_time_points(curves),
            time_unit=time_unit,
        )
        if by and data.frame[by].nunique() > 1:
            report.logrank = sv.logrank(data, by)
        if cox_terms:
            report.cox = sv.cox(
                sv.prepare(df, time_col, event_col, list(cox_terms)), list(cox_terms)
            )
        if score_col:
            report.concordance = (
                score_col,
                sv.concordance(sv.prepare(df, time_col, event_col, [score_col]), score_col),
            )
        click.echo(text_summary(report))
        if output_dir is not None:
            for p in write_report(report, output_dir, figure_format):
                click.echo(f"wrote {p}", err=True)


@cohort_group.command("synth")
@click.option(
    "--n", "n", required=True, type=click.IntRange(1, 50_000_000), help="Number of patients."
)
@click.option(
    "-o", "--output", "output_path", required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--seed", type=int, default=0, show_default=True)
def synth_cmd(n: int, output_path: Path, seed: int) -> None:
    """Write a synthetic cohort (documented distributions; outcomes from published figures)."""
    from rhabdo.cohort.published import published_figures
    from rhabdo.cohort.synth import write_synthetic_cohort

    with user_errors():
        figures, gaps = published_figures()
        for g in gaps:
            click.echo(f"warning: published figure not used: {g.target}: {g.problem}", err=True)
        written = write_synthetic_cohort(output_path, n, seed, figures=figures)
    click.echo(f"wrote {written} synthetic rows to {output_path}", err=True)


@cohort_group.command("compare")
@click.argument("input_path", metavar="IN", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--time", "time_col", required=True, help="Time column, in years.")
@click.option("--event", "event_col", required=True, help="Event flag column.")
@click.option(
    "-o",
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the table as CSV (default: print it).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text", show_default=True
)
def compare_cmd(
    input_path: Path, time_col: str, event_col: str, output_path: Path | None, fmt: str
) -> None:
    """Published figure per group next to this cohort's estimate and 95% interval."""
    from rhabdo.cohort.calibration import calibration_frame, calibration_table
    from rhabdo.cohort.published import published_figures
    from rhabdo.cohort.survival import read_table

    with user_errors():
        figures, gaps = published_figures()
        for g in gaps:
            click.echo(f"warning: published figure not used: {g.target}: {g.problem}", err=True)
        if not figures:
            fail("no published figure is available to compare with")
        frame = calibration_frame(
            calibration_table(read_table(input_path), figures, time_col, event_col)
        )
    if output_path is not None:
        frame.to_csv(output_path, index=False)
        click.echo(f"wrote {output_path}", err=True)
    elif fmt == "csv":
        click.echo(frame.to_csv(index=False), nl=False)
    elif fmt == "json":
        click.echo(json.dumps(json.loads(frame.to_json(orient="records")), indent=2))
    else:
        click.echo(frame.to_string(index=False))
