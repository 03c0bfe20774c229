"""``rhabdo trials``: match a case against trials, import registry records, list the bundled set."""

from __future__ import annotations

import datetime as dt
import json

import click
import yaml

from rhabdo.cli.common import fail, user_errors, write_output
from rhabdo.trials.model import CriterionOutcome, Trial, TrialMatch

_MARK = {
    CriterionOutcome.MET: "met",
    CriterionOutcome.NOT_MET: "NOT MET",
    CriterionOutcome.NOT_ENOUGH_INFORMATION: "not enough information",
}


def _verdict_line(m: TrialMatch) -> str:
    if m.verdict.value == "possible_pending":
        return f"possible, pending {m.pending_count} item(s)"
    return m.verdict.label


def _status_line(t: Trial) -> str:
    as_of = f" as of {t.status_as_of}" if t.status_as_of else " (date not stated)"
    countries = ", ".join(t.countries) if t.countries else "countries not verified"
    opened = f"; start {t.start_date}" if t.start_date else ""
    status = t.status.value.lower().replace("_", " ")
    return f"{t.phase_label}; status {status}{as_of}{opened}; {countries}"


def render_matches_text(matches: list[TrialMatch], on: dt.date | None) -> str:
    """The matches as readable text: verdict, each criterion with its evidence, items to review."""
    judged = on.isoformat() if on else "an unknown date"
    out = [f"Trial matches (judged on {judged}); most plausible first.", ""]
    for i, m in enumerate(matches, 1):
        t = m.trial
        name = f"{t.acronym} - " if t.acronym else ""
        out.append(f"{i}. {t.registry_id} {name}{t.title}")
        out.append(f"   {_status_line(t)}")
        out.append(f"   Verdict: {_verdict_line(m)}")
        for r in [*m.registry_checks, *m.criteria]:
            ev = "; ".join(f"{e.field}={e.value}" for e in r.evidence)
            line = f"   - [{_MARK[r.outcome]}] {r.requirement}: {r.reason}"
            if ev:
                line += f" (evidence: {ev})"
            if r.needs:
                line += f" (needs: {', '.join(r.needs)})"
            out.append(line)
        for text in m.needs_review:
            out.append(f"   - [needs review] {text}")
        for site in t.sites or []:
            where = ", ".join(p for p in (site.facility, site.city, site.country) if p)
            state = (
                site.status.value.lower().replace("_", " ") if site.status else "status not given"
            )
            contacts = "; ".join(
                ", ".join(p for p in (c.name, c.phone, c.email) if p) for c in site.contacts
            )
            out.append(
                f"   Site: {where} ({state})" + (f"; contact {contacts}" if contacts else "")
            )
        if t.citations:
            out.append(f"   Sources: {', '.join(t.citations)}")
        out.append("")
    out.append(
        "Eligibility is decided by the trial team on the current protocol; this list supports "
        "that review and does not replace it."
    )
    return "\n".join(out)


def matches_to_json(matches: list[TrialMatch], on: dt.date | None) -> str:
    doc = {"judged_on": on.isoformat() if on else None, "matches": [m.to_dict() for m in matches]}
    return json.dumps(doc, indent=2)


@click.group("trials")
def trials_group() -> None:
    """Match a case against clinical trials, import registry records, list the bundled trials."""


@trials_group.command("match")
@click.argument("case_file", metavar="CASE")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--trials",
    "trials_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="A trial file (bundled format) to match against instead of the bundled set.",
)
@click.option(
    "--on",
    "on_text",
    default=None,
    metavar="YYYY-MM-DD",
    help="Judge eligibility on this date (default: current.assessed_on of the case).",
)
@click.option(
    "--country",
    default=None,
    metavar="NAME",
    help="Only trials with a recruiting site in this country (as the registry names it, "
    "e.g. 'United Kingdom'); the others are listed as excluded with the reason.",
)
@click.option("-o", "--output", default=None, help="Write to this file instead of standard output.")
def match_cmd(
    case_file: str,
    fmt: str,
    trials_file: str | None,
    on_text: str | None,
    country: str | None,
    output: str | None,
) -> None:
    """Match CASE against the bundled trials (or --trials FILE), criterion by criterion.

    Registry checks come first: the trial's conditions must include RMS, soft-tissue sarcoma
    or solid tumours, and it must have been recruiting on the day judged.
    """
    from rhabdo.case.io import load_case
    from rhabdo.trials.matcher import judgement_date, match_trials
    from rhabdo.trials.registry import load_trial_file, load_trials

    on = None
    if on_text is not None:
        try:
            on = dt.date.fromisoformat(on_text)
        except ValueError:
            fail(f"--on: not a date (YYYY-MM-DD): {on_text!r}")
    with user_errors():
        case = load_case(case_file)
        trials = load_trial_file(trials_file) if trials_file else load_trials()
        if country is not None and not country.strip():
            fail("--country: give a country name, e.g. 'United Kingdom'")
        matches = match_trials(case, trials, on=on, country=country)
        judged = judgement_date(case, on)
    text = (
        matches_to_json(matches, judged) if fmt == "json" else render_matches_text(matches, judged)
    )
    write_output(text, output)


@trials_group.command("import")
@click.argument("file", metavar="FILE")
@click.option(
    "-o", "--output", default=None, help="Write the trial file here instead of standard output."
)
def import_cmd(file: str, output: str | None) -> None:
    """Convert ClinicalTrials.gov API v2 study records (JSON) into a rhabdo trial file (YAML)."""
    from rhabdo.trials.importer import import_ctgov_file
    from rhabdo.trials.registry import trials_to_document

    with user_errors():
        trials = import_ctgov_file(file)
    doc = trials_to_document(
        trials,
        description="Imported from ClinicalTrials.gov API v2 records; "
        "free-text criteria need review.",
    )
    write_output(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100), output)
    click.echo(f"imported {len(trials)} trial(s)", err=True)


@trials_group.command("list")
@click.option(
    "--trials",
    "trials_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="List this trial file instead of the bundled set.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def list_cmd(trials_file: str | None, fmt: str) -> None:
    """List the bundled trials with phase, status (and its date) and countries."""
    from rhabdo.trials.registry import load_trial_file, load_trials, trials_to_document

    with user_errors():
        trials = load_trial_file(trials_file) if trials_file else load_trials()
    if fmt == "json":
        write_output(json.dumps(trials_to_document(trials), indent=2), None)
        return
    lines = []
    for t in trials:
        name = f" ({t.acronym})" if t.acronym else ""
        lines.append(f"{t.registry_id}{name}: {t.title}")
        lines.append(f"  {_status_line(t)}")
        structured = [
            k for k, v in t.criteria.model_dump(exclude_none=True).items() if k != "free_text" and v
        ]
        lines.append(
            f"  structured criteria: {', '.join(structured) or 'none'}; "
            f"free-text criteria to review: {len(t.criteria.free_text)}"
        )
    write_output("\n".join(lines), None)
