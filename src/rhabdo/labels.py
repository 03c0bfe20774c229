"""Clinical words for internal identifiers: finding ids, finding values and case field paths.

This is the one place where ``relapse.timing`` becomes "Timing of relapse",
``within_18_months_of_treatment_start`` becomes "off therapy, within 18 months of the start of
treatment" and ``first_line.chemotherapy[0].cumulative_dose`` becomes "Cumulative dose —
first-line treatment, chemotherapy agent 1".  Text, HTML and PDF reports (and the web pages and
CDS cards) read their words from here; JSON output keeps the ids.

Whoever adds a finding id, a finding value or a case field adds its label here: the tests
enumerate every id and value the engine produces and every field of the case model.
"""

from __future__ import annotations

import re
import types
import typing
from functools import cache, lru_cache
from typing import Any

from pydantic import BaseModel

from rhabdo.case.vocab import ChemotherapyAgent

# --- finding ids ------------------------------------------------------------------------------

#: Finding id -> the question it answers, in a clinician's words.
FINDING_LABELS: dict[str, str] = {
    "stage.pretreatment": "Pretreatment stage (IRS/COG TNM)",
    "group.clinical": "IRS clinical group",
    "risk.cog": "COG risk group (current, FOXO1-fusion era)",
    "risk.cog_histology": "COG risk group (histology era)",
    "risk.epssg": "EpSSG RMS 2005 risk group",
    "relapse.timing": "Timing of relapse",
    "relapse.type": "Type of relapse",
    "relapse.extent": "Extent of the latest recurrence",
    "relapse.cog_risk_group": "Risk group at relapse (COG ARST0121)",
    "relapse.refractory": "Refractory disease",
    "score.oberlin": "Oberlin score (metastatic at diagnosis)",
    "prognosis.relapse": "Prognosis after relapse",
    "exposure.agents_given": "Agents given",
    "exposure.anthracycline_doxorubicin_equivalent": "Anthracyclines (doxorubicin equivalent)",
    "exposure.ced": "Cyclophosphamide-equivalent dose (CED)",
    "exposure.radiation": "Radiotherapy courses",
    "exposure.chest_radiation": "Chest radiotherapy",
    "exposure.relapse_site_irradiated": "Recurrence in an irradiated field",
    "late_effects.fertility": "Fertility (gonadal risk and advice for this patient's sex)",
    "late_effects.cardiac_surveillance": "Cardiomyopathy surveillance interval",
}

#: Cumulative exposure per agent: ``exposure.<agent code>``.
_AGENT_EXPOSURE_PREFIX = "exposure."

#: Units of numeric finding values (exposure per agent is in mg/m²).
FINDING_UNITS: dict[str, str] = {
    "exposure.anthracycline_doxorubicin_equivalent": "mg/m²",
    "exposure.ced": "mg/m²",
    "exposure.chest_radiation": "Gy",
}


def _agent_of(finding_id: str) -> ChemotherapyAgent | None:
    code = finding_id.removeprefix(_AGENT_EXPOSURE_PREFIX)
    if finding_id == code:
        return None
    try:
        return ChemotherapyAgent(code)
    except ValueError:
        return None


def has_finding_label(finding_id: str) -> bool:
    """Whether ``finding_id`` has a label kept here (and is not merely made readable)."""
    return finding_id in FINDING_LABELS or _agent_of(finding_id) is not None


def finding_label(finding_id: str) -> str:
    """'relapse.timing' -> 'Timing of relapse'; 'exposure.vincristine' -> 'Vincristine
    (cumulative)'.  An id without a label still reads as words, never as the code."""
    if finding_id in FINDING_LABELS:
        return FINDING_LABELS[finding_id]
    agent = _agent_of(finding_id)
    if agent is not None:
        return f"{_capital(agent.label)} (cumulative)"
    return _capital(_words(finding_id.split(".", 1)[-1]))


# --- finding values ---------------------------------------------------------------------------

_RISK_WORDS = {
    "very_low": "very low risk",
    "low": "low risk",
    "standard": "standard risk",
    "intermediate": "intermediate risk",
    "high": "high risk",
    "very_high": "very high risk",
    "not_classified": "not classifiable with the data given",
    "not_applicable": "not applicable",
}

_COG_RISK_WORDS = _RISK_WORDS | {
    "not_classified_mutated": "not classified (MYOD1 or TP53 mutated; no COG risk group)"
}

#: Finding id -> value code -> words.  Values that are numbers, booleans or sentences are
#: worded by ``value_label`` without a table.
VALUE_LABELS: dict[str, dict[str, str]] = {
    "late_effects.fertility": {
        "at_risk": "at risk (gonadotoxic treatment received)",
        "no_exposure_recorded": "no gonadotoxic treatment recorded",
        "ovarian_risk": "ovarian risk",
        "testicular_risk": "testicular risk",
    },
    "relapse.timing": {
        "on_first_line_therapy": "during first-line therapy",
        "within_18_months_of_treatment_start": (
            "off therapy, within 18 months of the start of treatment"
        ),
        "18_months_or_later": "off therapy, 18 months or more after the start of treatment",
    },
    "relapse.type": {
        "local": "local",
        "regional": "regional (nodes)",
        "locoregional": "local and regional",
        "metastatic": "metastatic (distant)",
        "combined": "local or regional with distant",
    },
    "relapse.extent": {
        "local": "local",
        "regional": "regional (nodes)",
        "local_regional": "local and regional",
        "localised_metastatic": "localised metastatic (one lesion or a few in one organ)",
        "disseminated": "disseminated",
    },
    "relapse.cog_risk_group": {
        "favourable": "favourable prognosis group",
        "unfavourable": "unfavourable prognosis group",
    },
    "risk.cog": _COG_RISK_WORDS,
    "risk.cog_histology": _COG_RISK_WORDS,
    "risk.epssg": _RISK_WORDS,
}

_UNIT_WORDS = {"mg_m2": "mg/m²", "g_m2": "g/m²", "gy": "Gy", "mg/m2": "mg/m²", "g/m2": "g/m²"}


def unit_label(unit: str) -> str:
    """'mg/m2' -> 'mg/m²'."""
    return _UNIT_WORDS.get(unit.lower(), unit)


def number_label(value: float) -> str:
    """A number as a clinician writes it: 9,600; 4,545; 22.5; 2.84."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if float(value).is_integer() or abs(value) >= 100:
        return f"{round(value):,}"
    if abs(value) >= 10:
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{value:.2f}".rstrip("0").rstrip(".")


def finding_unit(finding_id: str, details: dict[str, Any] | None = None) -> str | None:
    """The unit of a numeric finding: from its details, the table above, or mg/m² for an
    agent's cumulative dose."""
    if details and isinstance(details.get("unit"), str):
        return unit_label(details["unit"])
    if finding_id in FINDING_UNITS:
        return FINDING_UNITS[finding_id]
    return "mg/m²" if _agent_of(finding_id) is not None else None


def has_value_label(finding_id: str, value: Any) -> bool:
    """Whether a coded value has words here (numbers, booleans and sentences need none)."""
    if not isinstance(value, str) or not _is_code(value):
        return True
    if finding_id == "exposure.agents_given":
        return _agent_word(value) is not None
    return value in VALUE_LABELS.get(finding_id, {})


def value_label(finding_id: str, value: Any, details: dict[str, Any] | None = None) -> str:
    """A finding value in words, with its unit: '18_months_or_later' -> 'off therapy, 18
    months or more after the start of treatment'; 9600 -> '9,600 mg/m²'; 3 (stage) ->
    'stage 3'."""
    if value is None:
        return "not known"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if finding_id == "stage.pretreatment" and isinstance(value, int):
        return f"stage {value}"
    if finding_id == "group.clinical" and isinstance(value, str):
        return f"group {value}"
    if isinstance(value, int | float):
        unit = finding_unit(finding_id, details)
        return f"{number_label(value)} {unit}" if unit else number_label(value)
    if isinstance(value, dict):
        return _dict_label(finding_id, value)
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, dict) for v in value):
            n = len(value)
            noun = "course" if finding_id == "exposure.radiation" else "item"
            return f"{n} {noun}{'' if n == 1 else 's'}"
        if not value:
            return "none"
        return ", ".join(value_label(finding_id, v, details) for v in value)
    text = str(value)
    known = VALUE_LABELS.get(finding_id, {}).get(text)
    if known is not None:
        return known
    if finding_id == "exposure.agents_given":
        return _agent_word(text) or _words(text)
    return _words(text) if _is_code(text) else text


def _dict_label(finding_id: str, value: dict[str, Any]) -> str:
    parts = []
    for key, v in value.items():
        bound = key.removeprefix("at_least_")
        if bound != key and bound in _UNIT_WORDS:
            # a lower bound of nothing countable says nothing: never 'at least 0' (read as none)
            parts.append(
                f"at least {number_label(v)} {_UNIT_WORDS[bound]}"
                if v
                else "not known (no countable dose recorded)"
            )
        else:
            parts.append(f"{_words(key)}: {value_label(finding_id, v)}")
    return "; ".join(parts)


def _agent_word(code: str) -> str | None:
    try:
        return ChemotherapyAgent(code).label
    except ValueError:
        return None


# --- case field paths -------------------------------------------------------------------------

#: ``Model.field`` -> label.  Labels stand alone (they say "at diagnosis" where it matters);
#: the position in a list ("first-line treatment, chemotherapy agent 1") is added by
#: ``field_label``.
FIELD_LABELS: dict[str, str] = {
    "Case.schema_version": "Case format version",
    "Case.patient": "Patient",
    "Case.diagnosis": "Diagnosis",
    "Case.first_line": "First-line treatment",
    "Case.later_lines": "Later treatment lines",
    "Case.events": "Relapse or progression events",
    "Case.current": "Current state",
    "Patient.id": "Patient identifier (pseudonymous)",
    "Patient.sex": "Sex",
    "Patient.date_of_birth": "Date of birth",
    "Patient.age_at_diagnosis_days": "Age at diagnosis (days)",
    "Patient.family_history_of_cancer": "Family history of cancer",
    "Patient.known_predisposition": "Known cancer-predisposition syndrome",
    "Diagnosis.date": "Date of diagnosis",
    "Diagnosis.primary_site": "Primary tumour site",
    "Diagnosis.primary_site_detail": "Primary site in detail",
    "Diagnosis.histology": "Histology",
    "Diagnosis.anaplasia": "Anaplasia",
    "Diagnosis.foxo1_fusion": "FOXO1 fusion status",
    "Diagnosis.myod1": "MYOD1 mutation status",
    "Diagnosis.tp53": "TP53 status (tumour)",
    "Diagnosis.tp53_germline": "TP53 status (germline)",
    "Diagnosis.invasiveness": "Tumour invasiveness (T1/T2)",
    "Diagnosis.max_diameter_cm": "Tumour size at diagnosis (largest diameter, cm)",
    "Diagnosis.regional_nodes": "Regional lymph nodes at diagnosis",
    "Diagnosis.distant_metastases": "Distant metastases at diagnosis",
    "Diagnosis.distant_metastasis_site_count": "Number of metastatic sites at diagnosis",
    "Diagnosis.initial_surgery": "Initial surgery",
    "Diagnosis.irs_group_stated": "IRS clinical group as stated in the record",
    "Diagnosis.tumour_alterations": "Tumour molecular alterations",
    "InitialSurgery.result": "Result of the initial surgery",
    "InitialSurgery.confined_to_site_of_origin": (
        "Initial surgery: tumour confined to the site of origin"
    ),
    "InitialSurgery.regional_nodes_resected": "Initial surgery: regional nodes resected",
    "InitialSurgery.regional_nodes_involved_pathologically": (
        "Initial surgery: regional nodes involved on pathology"
    ),
    "InitialSurgery.most_distal_node_involved": "Initial surgery: most distal node involved",
    "TumourAlteration.gene": "Gene",
    "TumourAlteration.alteration": "Kind of alteration",
    "TumourAlteration.detected": "Detected",
    "TumourAlteration.detail": "Detail of the alteration",
    "TreatmentLine.protocol": "Protocol or regimen",
    "TreatmentLine.start_date": "Start date",
    "TreatmentLine.end_date": "End date",
    "TreatmentLine.weight_kg": "Weight (kg)",
    "TreatmentLine.body_surface_area_m2": "Body surface area (m²)",
    "TreatmentLine.chemotherapy": "Chemotherapy",
    "TreatmentLine.radiotherapy": "Radiotherapy",
    "TreatmentLine.surgeries": "Surgery",
    "TreatmentLine.ongoing": "Still ongoing",
    "TreatmentLine.radiotherapy_given": "Radiotherapy given",
    "TreatmentLine.best_response": "Best response to this line",
    "ChemotherapyExposure.agent": "Agent",
    "ChemotherapyExposure.agent_name": "Agent name",
    "ChemotherapyExposure.dose_per_administration": "Dose per administration",
    "ChemotherapyExposure.dose_unit": "Unit of the dose per administration",
    "ChemotherapyExposure.administrations": "Number of administrations",
    "ChemotherapyExposure.cumulative_dose": "Cumulative dose",
    "ChemotherapyExposure.cumulative_dose_unit": "Unit of the cumulative dose",
    "RadiotherapyCourse.target": "Target",
    "RadiotherapyCourse.target_site": "Target site",
    "RadiotherapyCourse.body_region": "Body region",
    "RadiotherapyCourse.total_dose_gy": "Total dose (Gy)",
    "RadiotherapyCourse.fractions": "Number of fractions",
    "RadiotherapyCourse.start_date": "Start date",
    "RadiotherapyCourse.end_date": "End date",
    "RadiotherapyCourse.brachytherapy": "Brachytherapy",
    "Surgery.date": "Date",
    "Surgery.site": "Site",
    "Surgery.margin": "Resection margin",
    "DiseaseEvent.kind": "Kind of event",
    "DiseaseEvent.date": "Date",
    "DiseaseEvent.sites": "Sites of disease",
    "DiseaseEvent.max_diameter_cm": "Largest diameter (cm)",
    "DiseaseEvent.suspected_second_malignancy": "Second malignancy suspected",
    "DiseaseEvent.atypical_imaging": "Atypical imaging",
    "DiseaseEvent.histologically_confirmed": "Confirmed on histology",
    "EventSite.extent": "Extent (local, regional or distant)",
    "EventSite.location": "Location",
    "EventSite.metastatic_site": "Metastatic organ",
    "EventSite.body_region": "Body region",
    "EventSite.in_irradiated_field": "In a previously irradiated field",
    "EventSite.lesions": "Number of lesions (one, a few, multiple/diffuse)",
    "EventSite.lesion_count": "Lesion count",
    "EventSite.symptoms": "Symptoms at this site",
    "CurrentState.assessed_on": "Date the current state was assessed",
    "CurrentState.weight_kg": "Current weight (kg)",
    "CurrentState.body_surface_area_m2": "Current body-surface area (m²)",
    "CurrentState.tanner_stage": "Pubertal (Tanner) stage now",
    "CurrentState.performance": "Performance status",
    "CurrentState.organ_function": "Organ function",
    "CurrentState.goals_of_care": "Goals of care",
    "CurrentState.measurable_disease": "Measurable disease",
    "PerformanceStatus.scale": "Performance scale (Lansky or Karnofsky)",
    "PerformanceStatus.score": "Performance score (Lansky/Karnofsky, %)",
    "OrganFunction.creatinine_clearance_ml_min_1_73m2": "Creatinine clearance (mL/min/1.73 m²)",
    "OrganFunction.lvef_percent": "LVEF (%)",
    "OrganFunction.shortening_fraction_percent": "Shortening fraction (%)",
    "OrganFunction.bilirubin_x_uln": "Bilirubin (× upper limit of normal)",
    "OrganFunction.alt_x_uln": "ALT (× upper limit of normal)",
    "OrganFunction.absolute_neutrophil_count_per_ul": "Absolute neutrophil count (/µL)",
    "OrganFunction.platelets_per_ul": "Platelets (/µL)",
}

#: List fields: what one item is called, for "chemotherapy agent 2".
ITEM_NOUNS: dict[str, str] = {
    "Case.later_lines": "later treatment line",
    "Case.events": "event",
    "Diagnosis.distant_metastases": "metastatic site",
    "Diagnosis.tumour_alterations": "alteration",
    "TreatmentLine.chemotherapy": "chemotherapy agent",
    "TreatmentLine.radiotherapy": "radiotherapy course",
    "TreatmentLine.surgeries": "surgery",
    "DiseaseEvent.sites": "site",
}

_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\[\d+\])*(?:\.[A-Za-z_][A-Za-z0-9_]*(?:\[\d+\])*)*$")


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model class inside an annotation and whether it is a list of them."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found, is_list = _model_of(arg)
            if found is not None:
                return found, is_list
        return None, False
    if origin is list:
        inner, _ = _model_of(typing.get_args(annotation)[0])
        return inner, True
    if origin is typing.Annotated:
        return _model_of(typing.get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def _case_model() -> type[BaseModel]:
    from rhabdo.case.model import Case

    return Case


def field_key(path: str) -> str | None:
    """'first_line.chemotherapy[0].cumulative_dose' -> 'ChemotherapyExposure.cumulative_dose'
    (the key of ``FIELD_LABELS``), or None when the path is not a case field."""
    steps = _steps(path)
    return steps[-1][0] if steps else None


@lru_cache(maxsize=4096)
def _steps(path: str) -> tuple[tuple[str, tuple[int, ...]], ...] | None:
    """Each segment of a case field path as (``Model.field``, list indices).  It depends only on
    the path and the case schema, so each path is parsed once (bounded: free text is scanned
    for paths too)."""
    if not _PATH.match(path):
        return None
    model: type[BaseModel] | None = _case_model()
    out: list[tuple[str, tuple[int, ...]]] = []
    for segment in path.split("."):
        m = _SEGMENT.fullmatch(segment)
        if m is None or model is None or m.group(1) not in model.model_fields:
            return None
        name = m.group(1)
        indices = tuple(int(i) for i in re.findall(r"\d+", m.group(2)))
        out.append((f"{model.__name__}.{name}", indices))
        model, _ = _model_of(model.model_fields[name].annotation)
    return tuple(out)


@cache
def _unique_field_names() -> dict[str, str]:
    """Field name -> label, for snake_case names that belong to one model only (so that
    'absolute_neutrophil_count_per_ul' in a trial criterion reads as words)."""
    owners: dict[str, list[str]] = {}
    for key in FIELD_LABELS:
        name = key.split(".", 1)[1]
        owners.setdefault(name, []).append(key)
    return {
        name: FIELD_LABELS[keys[0]]
        for name, keys in owners.items()
        if len(keys) == 1 and "_" in name
    }


def is_field_path(path: str) -> bool:
    return _steps(path) is not None


#: ``needs`` entries that name missing knowledge (an evidence gap), not a case field
#: (``rhabdo.engine.KNOWLEDGE_NEED`` prefix); never listed as missing case information.
KNOWLEDGE_NEED_LABELS: dict[str, str] = {
    "knowledge.dose_thresholds.ced.other_alkylators": (
        "a verified CED conversion factor for the other alkylators (evidence gap)"
    ),
    "knowledge.dose_thresholds.anthracycline.epirubicin": (
        "an IGHG-recommended epirubicin-to-doxorubicin equivalence ratio (evidence gap)"
    ),
    "knowledge.dose_thresholds.anthracycline.idarubicin": (
        "an IGHG-recommended idarubicin-to-doxorubicin equivalence ratio (evidence gap)"
    ),
}


def field_label(path: str, case: Any = None) -> str:
    """A case field path in words: 'first_line.chemotherapy[0].cumulative_dose' ->
    'Cumulative dose — first-line treatment, chemotherapy agent 1 (vincristine)'.  With a case,
    list items are named by what they hold (the agent).  Text that is not a field path (a
    phrase already in words) is returned unchanged."""
    if path in KNOWLEDGE_NEED_LABELS:
        return KNOWLEDGE_NEED_LABELS[path]
    steps = _steps(path)
    if not steps:
        return path
    key, indices = steps[-1]
    label = FIELD_LABELS.get(key) or _capital(_words(key.split(".", 1)[1]))
    if indices and key in ITEM_NOUNS:
        label = f"{_capital(ITEM_NOUNS[key])} {indices[0] + 1}"
    context: list[str] = []
    node: Any = case
    for i, (step_key, step_indices) in enumerate(steps):
        name = step_key.split(".", 1)[1]
        node = getattr(node, name, None) if node is not None else None
        if step_indices and isinstance(node, list):
            node = node[step_indices[0]] if step_indices[0] < len(node) else None
        if i == len(steps) - 1:
            break
        word = _context_word(step_key, step_indices, node)
        if word:
            context.append(word)
    return f"{label} — {', '.join(context)}" if context else label


def _context_word(key: str, indices: tuple[int, ...], node: Any) -> str | None:
    """Where a field sits, when its own label does not say: the treatment line and the
    position in a list.  Other containers (diagnosis, organ function) need no words."""
    if key == "Case.first_line":
        return "first-line treatment"
    if key in ITEM_NOUNS and indices:
        word = f"{ITEM_NOUNS[key]} {indices[0] + 1}"
        name = getattr(node, "display_name", None)
        return f"{word} ({name})" if isinstance(name, str) else word
    return None


# --- shared helpers ---------------------------------------------------------------------------

_CODE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+$")


def _is_code(text: str) -> bool:
    """Whether ``text`` looks like an internal code (snake_case) rather than words."""
    return bool(_CODE.match(text))


def _words(code: str) -> str:
    return code.replace("_", " ").replace(".", " ")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def sentence(text: str) -> str:
    """Ends ``text`` with exactly one full stop (no 'et al..', no '25%..')."""
    stripped = text.rstrip()
    if not stripped:
        return stripped
    if stripped.endswith("..") and not stripped.endswith("..."):
        stripped = stripped.rstrip(".") + "."
    return stripped if stripped[-1] in ".!?…" else stripped + "."


_DOUBLED = re.compile(r"(?<![.])([.,;])\s*\1(?![.])")


def tidy(text: str) -> str:
    """Collapses doubled punctuation made by joining sentences ('et al..' -> 'et al.',
    '25%..' -> '25%.', ';;' -> ';'); an ellipsis '...' is left alone."""
    return _DOUBLED.sub(r"\1", text)


_PATH_IN_TEXT = re.compile(
    r"(?<![\w./-])[a-z][a-z0-9_]*(?:\[\d+\])*(?:\.[a-z][a-z0-9_]*(?:\[\d+\])*)*(?![\w/-])"
)


def _in_sentence(label: str) -> str:
    """A label inside a sentence: first letter lower-cased unless it starts an acronym."""
    if len(label) > 1 and label[:2].isupper():
        return label
    return label[:1].lower() + label[1:]


def words(text: str, case: Any = None) -> str:
    """Free text with every case field path in it replaced by its label: 'Still unknown:
    diagnosis.anaplasia' -> 'Still unknown: anaplasia'.  Plain words are left alone (only
    tokens with '_', '.' or '[' can be paths)."""

    def swap(m: re.Match[str]) -> str:
        token = m.group(0)
        if not any(c in token for c in "_.["):
            return token
        if is_field_path(token):
            return _in_sentence(field_label(token, case))
        bare = _unique_field_names().get(token)
        return _in_sentence(bare) if bare else token

    return tidy(_PATH_IN_TEXT.sub(swap, text))
