"""Importing ClinicalTrials.gov API v2 study records.

Accepts one study record (``{"protocolSection": {...}}``), a list of them, or a search
response (``{"studies": [...]}``), as documented for the v2 API
(https://clinicaltrials.gov/data-api/api).  Mapped from the record:

* ``identificationModule``: ``nctId`` (required), ``briefTitle``/``officialTitle``, ``acronym``;
* ``statusModule``: ``overallStatus`` (required), ``statusVerifiedDate`` (status as of),
  ``startDateStruct``/``completionDateStruct`` (date and ACTUAL/ESTIMATED) and ``whyStopped``;
  a month-only date ("2024-02") stays month precision;
* ``sponsorCollaboratorsModule.leadSponsor.name``;
* ``conditionsModule.conditions``; ``designModule.phases``, ``studyType`` and
  ``designInfo.primaryPurpose``;
* ``eligibilityModule``: ``minimumAge``/``maximumAge`` (e.g. "3 Years") and ``sex``
  become structured criteria; ``eligibilityCriteria`` (free text) is split into lines that
  are kept as free-text criteria marked *needs review*;
* ``contactsLocationsModule.locations[]``: facility, city, state, country, the site's
  recruitment status and its public contacts (name, role, phone, email as listed).

Nothing else is inferred from the free text: an imported trial is never more structured
than its record.  A malformed record raises ``TrialImportError`` naming the record and field.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rhabdo.case.vocab import Sex
from rhabdo.errors import RhabdoError
from rhabdo.trials.model import (
    AgeRange,
    DateType,
    EligibilityCriteria,
    PrimaryPurpose,
    SiteContact,
    StudyType,
    Trial,
    TrialPhase,
    TrialSite,
    TrialStatus,
)

_MAX_FILE_BYTES = 50_000_000
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(year|month|week|day|hour|minute)s?\s*$", re.IGNORECASE)
_NCT = re.compile(r"^NCT\d{8}$")
_BULLET = re.compile(r"^\s*(?:[*\-\u2022\u25aa\u25cf\u2043]+|\d{1,3}[.)]|[a-z][.)])\s+")
_HEADER = re.compile(r"^\s*(inclusion|exclusion)\s+criteria\s*:?\s*$", re.IGNORECASE)


class TrialImportError(RhabdoError):
    """A registry record cannot be imported; names the record and the field."""

    def __init__(self, record: str, field: str, problem: str) -> None:
        self.record = record
        self.field = field
        self.problem = problem
        super().__init__(f"{record}: {field}: {problem}")


def _get(
    obj: Any, path: str, record: str, *, required: bool = False, kind: type | None = None
) -> Any:
    """The value at a dotted path of nested mappings, type-checked."""
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            raise TrialImportError(record, path, f"expected an object at {part!r}")
        if part not in cur:
            if required:
                raise TrialImportError(record, path, "required field is missing")
            return None
        cur = cur[part]
    if cur is not None and kind is not None and not isinstance(cur, kind):
        raise TrialImportError(record, path, f"expected {kind.__name__}, got {type(cur).__name__}")
    return cur


def parse_registry_age(text: str, record: str, field: str) -> tuple[int | None, str | None]:
    """Whole years from a registry age such as "21 Years"; else (None, a note for review).

    "N/A" means no limit.  Ages in months, weeks or days that are not whole years are kept as
    a needs-review note rather than rounded, so that no limit is moved.
    """
    if text.strip().upper() in ("N/A", "NA", ""):
        return None, None
    m = _AGE.match(text)
    if not m:
        raise TrialImportError(
            record, field, f"cannot read age {text!r} (expected e.g. '21 Years')"
        )
    number = float(m.group(1))
    unit = m.group(2).lower()
    if unit == "year" and number.is_integer():
        return int(number), None
    if unit == "month" and number.is_integer() and int(number) % 12 == 0:
        return int(number) // 12, None
    return (
        None,
        f"Registry {field.rsplit('.', 1)[-1]}: {text.strip()} (not a whole number of years)",
    )


def split_eligibility_text(text: str) -> list[str]:
    """Split registry eligibility prose into one criterion per line, prefixed by its section.

    Bullets and numbering are removed; "Inclusion Criteria:"/"Exclusion Criteria:" headers
    become the prefix of the lines that follow them.
    """
    lines: list[str] = []
    section = ""
    for raw in text.replace("\\>", ">").replace("\\<", "<").splitlines():
        if not raw.strip():
            continue
        header = _HEADER.match(raw)
        if header:
            section = header.group(1).capitalize()
            continue
        line = _BULLET.sub("", raw).strip()
        if not line:
            continue
        lines.append(f"{section}: {line}" if section else line)
    return lines


def _date(text: Any, record: str, field: str) -> str | None:
    """A registry date at the precision given: "2024-02" stays a month, never "2024-02-01"."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise TrialImportError(record, field, "expected a date string")
    try:
        if re.fullmatch(r"\d{4}-\d{2}", text):
            dt.date.fromisoformat(text + "-01")
            return text
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise TrialImportError(record, field, f"not a date: {text!r}") from None


def _date_struct(ps: dict[str, Any], name: str, record: str) -> tuple[str | None, DateType | None]:
    """(date, ACTUAL/ESTIMATED) of a ``statusModule`` date struct such as ``startDateStruct``."""
    path = f"protocolSection.statusModule.{name}"
    struct = _get(ps, f"statusModule.{name}", record, kind=dict)
    if not struct:
        return None, None
    date = _date(struct.get("date"), record, path + ".date")
    kind = struct.get("type")
    if kind is None:
        return date, None
    try:
        return date, DateType(kind)
    except ValueError:
        raise TrialImportError(record, path + ".type", f"unknown date type {kind!r}") from None


def _enum(value: Any, vocab: type[Any], record: str, field: str) -> Any:
    if value is None:
        return None
    try:
        return vocab(value)
    except ValueError:
        raise TrialImportError(record, field, f"unknown value {value!r}") from None


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _sites(locations: list[Any], record: str) -> list[TrialSite]:
    """Each location with its facility, place, recruitment status and public contacts."""
    sites = []
    for i, loc in enumerate(locations):
        field = f"protocolSection.contactsLocationsModule.locations[{i}]"
        if not isinstance(loc, dict):
            raise TrialImportError(record, field, "a location must be an object")
        contacts = [
            SiteContact(
                name=_text(c.get("name")),
                role=_text(c.get("role")),
                phone=_text(c.get("phone")),
                email=_text(c.get("email")),
            )
            for c in loc.get("contacts") or []
            if isinstance(c, dict)
        ]
        sites.append(
            TrialSite(
                facility=_text(loc.get("facility")),
                city=_text(loc.get("city")),
                state=_text(loc.get("state")),
                country=_text(loc.get("country")),
                status=_enum(loc.get("status"), TrialStatus, record, field + ".status"),
                contacts=contacts,
            )
        )
    return sites


def study_to_trial(study: Any, index: int = 0) -> Trial:
    """Map one API v2 study record to a Trial."""
    record = f"study #{index}"
    if not isinstance(study, dict):
        raise TrialImportError(record, "(record)", "a study record must be an object")
    ps = _get(study, "protocolSection", record, required=True, kind=dict)
    nct = _get(ps, "identificationModule.nctId", record, required=True, kind=str)
    if not _NCT.match(nct):
        raise TrialImportError(
            record, "protocolSection.identificationModule.nctId", f"not an NCT id: {nct!r}"
        )
    record = nct
    title = _get(ps, "identificationModule.briefTitle", record, kind=str) or _get(
        ps, "identificationModule.officialTitle", record, kind=str
    )
    if not title:
        raise TrialImportError(
            record, "protocolSection.identificationModule.briefTitle", "required field is missing"
        )
    status_text = _get(ps, "statusModule.overallStatus", record, required=True, kind=str)
    try:
        status = TrialStatus(status_text)
    except ValueError:
        raise TrialImportError(
            record, "protocolSection.statusModule.overallStatus", f"unknown status {status_text!r}"
        ) from None
    phases_raw = _get(ps, "designModule.phases", record, kind=list) or []
    phases = []
    for p in phases_raw:
        try:
            phases.append(TrialPhase(p))
        except ValueError:
            raise TrialImportError(
                record, "protocolSection.designModule.phases", f"unknown phase {p!r}"
            ) from None
    conditions = _get(ps, "conditionsModule.conditions", record, kind=list) or []
    if not all(isinstance(c, str) for c in conditions):
        raise TrialImportError(
            record, "protocolSection.conditionsModule.conditions", "expected a list of strings"
        )

    free_text: list[str] = []
    elig = _get(ps, "eligibilityModule", record, kind=dict) or {}
    age_min = age_max = None
    for key in ("minimumAge", "maximumAge"):
        value = elig.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise TrialImportError(
                record, f"protocolSection.eligibilityModule.{key}", "expected a string"
            )
        years, note = parse_registry_age(value, record, f"protocolSection.eligibilityModule.{key}")
        if note:
            free_text.append(note)
        if key == "minimumAge":
            age_min = years
        else:
            age_max = years
    sexes = None
    sex_text = elig.get("sex")
    if sex_text is not None:
        mapping = {"ALL": None, "FEMALE": [Sex.FEMALE], "MALE": [Sex.MALE]}
        if sex_text not in mapping:
            raise TrialImportError(
                record, "protocolSection.eligibilityModule.sex", f"unknown sex {sex_text!r}"
            )
        sexes = mapping[sex_text]
    text = elig.get("eligibilityCriteria")
    if text is not None:
        if not isinstance(text, str):
            raise TrialImportError(
                record, "protocolSection.eligibilityModule.eligibilityCriteria", "expected text"
            )
        free_text.extend(split_eligibility_text(text))

    locations = _get(ps, "contactsLocationsModule.locations", record, kind=list)
    sites = _sites(locations, record) if locations is not None else None
    countries = sorted({s.country for s in sites if s.country}) if sites is not None else None
    start_date, start_type = _date_struct(ps, "startDateStruct", record)
    completion_date, completion_type = _date_struct(ps, "completionDateStruct", record)
    study_type = _enum(
        _get(ps, "designModule.studyType", record, kind=str),
        StudyType,
        record,
        "protocolSection.designModule.studyType",
    )
    purpose = _enum(
        _get(ps, "designModule.designInfo.primaryPurpose", record, kind=str),
        PrimaryPurpose,
        record,
        "protocolSection.designModule.designInfo.primaryPurpose",
    )

    try:
        age = (
            AgeRange(min_years=age_min, max_years=age_max)
            if (age_min is not None or age_max is not None)
            else None
        )
        criteria = EligibilityCriteria(age=age, sexes=sexes, free_text=free_text)
        return Trial(
            registry_id=nct,
            title=title,
            acronym=_get(ps, "identificationModule.acronym", record, kind=str),
            sponsor=_get(ps, "sponsorCollaboratorsModule.leadSponsor.name", record, kind=str),
            phases=phases,
            status=status,
            status_as_of=_date(
                _get(ps, "statusModule.statusVerifiedDate", record),
                record,
                "protocolSection.statusModule.statusVerifiedDate",
            ),
            start_date=start_date,
            start_date_type=start_type,
            completion_date=completion_date,
            completion_date_type=completion_type,
            why_stopped=_get(ps, "statusModule.whyStopped", record, kind=str),
            study_type=study_type,
            primary_purpose=purpose,
            countries=countries,
            sites=sites,
            conditions=conditions,
            criteria=criteria,
            provenance=f"Imported from a ClinicalTrials.gov API v2 record ({nct}); "
            "age, sex, phase, status and its dates, study type and purpose, conditions and "
            "sites are structured.",
            url=f"https://clinicaltrials.gov/study/{nct}",
        )
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in err["loc"]) or "(record)"
        raise TrialImportError(
            record, field, str(err["msg"]).removeprefix("Value error, ")
        ) from None


def import_ctgov(document: Any) -> list[Trial]:
    """Map a v2 document (one study, a list, or ``{"studies": [...]}``) to trials."""
    if isinstance(document, dict) and "studies" in document:
        studies = document["studies"]
        if not isinstance(studies, list):
            raise TrialImportError("(file)", "studies", "expected a list of study records")
    elif isinstance(document, dict):
        studies = [document]
    elif isinstance(document, list):
        studies = document
    else:
        raise TrialImportError(
            "(file)", "(document)", "expected a study record, a list or {'studies': [...]}"
        )
    if not studies:
        raise TrialImportError("(file)", "studies", "no study records")
    trials = [study_to_trial(s, i) for i, s in enumerate(studies)]
    ids = [t.registry_id for t in trials]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise TrialImportError(dupes[0], "nctId", "the same study appears twice")
    return trials


def import_ctgov_file(path: str | Path) -> list[Trial]:
    """Read a JSON file of API v2 study records and map it to trials."""
    p = Path(path)
    try:
        if p.stat().st_size > _MAX_FILE_BYTES:
            raise TrialImportError(p.name, "(file)", "file is too large")
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TrialImportError(str(p), "(file)", "file not found") from None
    except IsADirectoryError:
        raise TrialImportError(str(p), "(file)", "is a directory, not a file") from None
    except UnicodeDecodeError:
        raise TrialImportError(str(p), "(file)", "not UTF-8 text") from None
    except OSError as exc:
        raise TrialImportError(str(p), "(file)", f"cannot be read ({exc.strerror})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TrialImportError(
            p.name, "(file)", f"not valid JSON: {exc.msg} at line {exc.lineno}"
        ) from None
    return import_ctgov(document)
