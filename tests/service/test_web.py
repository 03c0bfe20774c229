"""Web pages: the case form offers every field and every code, validation messages sit beside
the field, edits make new versions, stale edits conflict, import, history, assessment page."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
import yaml
from service_helpers import EXAMPLES, example_case, require_modules, synthetic_case

from rhabdo.case import vocab
from rhabdo.case.io import case_to_dict, parse_case
from rhabdo.errors import CaseValidationError
from rhabdo.service import forms, presets

VOCABULARIES = [
    obj
    for obj in vars(vocab).values()
    if isinstance(obj, type) and issubclass(obj, vocab.Vocabulary) and obj is not vocab.Vocabulary
]
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


class _Inputs(HTMLParser):
    """What a browser would submit for a rendered form (selected options, ticked boxes)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, Any] = {}
        self.names: set[str] = set()
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name") or ""
        if tag == "input" and name:
            self.names.add(name)
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.values.setdefault(name, []).append(a.get("value"))
            else:
                self.values[name] = a.get("value") or ""
        elif tag == "select":
            self._select = name
            self.names.add(name)
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value") or ""
        elif tag == "textarea":
            self._textarea = name
            self.names.add(name)
            self.values[name] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        if tag == "textarea":
            self._textarea = None


class _Multi(dict[str, Any]):
    def getlist(self, key: str) -> list[str]:
        v = self.get(key)
        return v if isinstance(v, list) else ([v] if v else [])


def _submit(html: str) -> _Inputs:
    parser = _Inputs()
    parser.feed(html)
    return parser


def test_the_empty_form_offers_every_field_of_the_case_model() -> None:
    names = _submit(str(forms.render_fields(None, {}))).names
    for path in forms.all_paths():
        assert path in names or path + forms.KNOWN_SUFFIX in names, path
    assert "patient.id" in names and "diagnosis.max_diameter_cm" in names
    assert "later_lines[0].chemotherapy[0].agent" in names
    assert "events[0].sites[0].extent" in names


@pytest.mark.parametrize("vocabulary", VOCABULARIES, ids=lambda v: v.__name__)
def test_every_code_of_every_vocabulary_is_a_choice(vocabulary: type[vocab.Vocabulary]) -> None:
    html = str(forms.render_fields(None, {}))
    if vocabulary.__name__ not in {t.__name__ for t in _used_vocabularies()}:
        pytest.skip(f"{vocabulary.__name__} is not used by the case model")
    for member in vocabulary:
        assert f'value="{member.value}"' in html, member


def _used_vocabularies() -> set[type]:
    from rhabdo.case.model import Case

    used: set[type] = set()

    def walk(model: Any) -> None:
        for info in model.model_fields.values():
            kind, inner = forms._kind(info.annotation)
            if kind in ("model", "model_list"):
                walk(inner)
            elif kind in ("enum", "enum_list"):
                used.add(inner)

    walk(Case)
    return used


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_every_example_case_survives_the_form_round_trip(path: Any) -> None:
    case = parse_case(yaml.safe_load(path.read_text("utf-8")))
    values = _submit(str(forms.render_fields(case_to_dict(case), {}))).values
    assert parse_case(forms.form_to_document(forms.FormValues(_Multi(values)))) == case


@pytest.mark.parametrize(
    ("known", "ticked", "expected"),
    [
        ("unknown", [], None),
        ("known", [], []),
        ("known", ["lung", "bone"], ["lung", "bone"]),
    ],
)
def test_unknown_metastases_differ_from_none(known: str, ticked: list[str], expected: Any) -> None:
    values = _Multi(
        {
            "patient.id": "X",
            "diagnosis.distant_metastases.__known": known,
            "diagnosis.distant_metastases": ticked,
        }
    )
    doc = forms.form_to_document(forms.FormValues(values))
    assert doc.get("diagnosis", {}).get("distant_metastases") == expected


def test_blank_means_unknown_and_blank_slots_are_ignored() -> None:
    values = _Multi(
        {
            "patient.id": "X",
            "patient.family_history_of_cancer": "",
            "events[0].kind": "",
            "events[0].date": "",
            "events[1].kind": "relapse",
        }
    )
    assert forms.form_to_document(forms.FormValues(values)) == {
        "patient": {"id": "X"},
        "events": [{"kind": "relapse"}],
    }


@pytest.fixture
def clinic(service: Any) -> Any:
    service.add_user("onc", "clinician")
    service.sign_in("onc")
    return service


def _form_values(client: Any, path: str) -> dict[str, Any]:
    return dict(_submit(client.http.get(path).text).values)


def test_create_a_case_through_the_form(clinic: Any) -> None:
    values = _form_values(clinic, "/cases/new")
    values.update(
        {
            "patient.id": "WEB-1",
            "diagnosis.primary_site": "orbit",
            "diagnosis.histology": "embryonal",
            "diagnosis.date": "2021-02-03",
            "patient.date_of_birth": "2015-01-01",
        }
    )
    response = clinic.http.post("/cases/new", data=values)
    assert response.status_code == 303
    case_id = response.headers["location"].rsplit("/", 1)[1]
    listing = clinic.http.get("/cases", params={"q": "WEB"})
    assert "WEB-1" in listing.text and case_id in listing.text


def test_validation_messages_sit_beside_their_field(clinic: Any) -> None:
    values = _form_values(clinic, "/cases/new")
    values.update(
        {
            "patient.id": "WEB-2",
            "patient.date_of_birth": "2020-01-01",
            "diagnosis.date": "2019-01-01",
            "diagnosis.max_diameter_cm": "-3",
        }
    )
    response = clinic.http.post("/cases/new", data=values)
    assert response.status_code == 422
    html = response.text
    field = re.search(r'id="f-diagnosis-max-diameter-cm".*?</div>', html, re.S)
    assert field and "field-errors" in field.group(0)
    assert "diagnosis.max_diameter_cm" in html
    # what the clinician typed is kept
    assert 'value="-3"' in html and 'value="WEB-2"' in html


def test_inconsistent_dates_are_shown_beside_the_date(clinic: Any) -> None:
    values = _form_values(clinic, "/cases/new")
    values.update(
        {
            "patient.id": "WEB-4",
            "patient.date_of_birth": "2020-01-01",
            "diagnosis.date": "2019-01-01",
        }
    )
    response = clinic.http.post("/cases/new", data=values)
    assert response.status_code == 422
    field = re.search(r'id="f-diagnosis-date".*?</div>', response.text, re.S)
    assert field and "before the date of birth" in field.group(0)


def test_edit_saves_a_new_version_and_a_stale_edit_conflicts(clinic: Any) -> None:
    values = _form_values(clinic, "/cases/new")
    values.update({"patient.id": "WEB-3"})
    case_id = clinic.http.post("/cases/new", data=values).headers["location"].rsplit("/", 1)[1]
    first = _form_values(clinic, f"/cases/{case_id}/edit")
    second = dict(first)
    assert first["base_version"] == "1"
    first["diagnosis.max_diameter_cm"] = "3.2"
    assert clinic.http.post(f"/cases/{case_id}/edit", data=first).status_code == 303
    second["diagnosis.max_diameter_cm"] = "9.9"
    stale = clinic.http.post(f"/cases/{case_id}/edit", data=second)
    assert stale.status_code == 409 and "conflict" in stale.text.lower()
    assert 'value="9.9"' in stale.text  # the second editor's work is not thrown away
    history = clinic.http.get(f"/cases/{case_id}/history").text
    assert history.count("<tr>") == 3  # header + two versions
    assert "onc" in history


def test_import_a_case_file(clinic: Any) -> None:
    text = (EXAMPLES / "local-relapse-paratesticular.yaml").read_text("utf-8")
    token = clinic.csrf("/cases/import")
    response = clinic.http.post(
        "/cases/import",
        data={"kind": "case", "csrf_token": token},
        files={"file": ("case.yaml", text.encode(), "application/yaml")},
    )
    assert response.status_code == 303
    bad = clinic.http.post(
        "/cases/import",
        data={"kind": "case", "csrf_token": token},
        files={"file": ("case.yaml", b"patient: {id: 'x', colour: 1}", "application/yaml")},
    )
    assert bad.status_code == 422 and "patient.colour" in bad.text


def test_import_a_fhir_bundle(clinic: Any) -> None:
    require_modules("rhabdo.interop.fhir_import", "rhabdo.interop.fhir_export")
    import json

    from rhabdo.interop.fhir_export import case_to_bundle

    bundle = case_to_bundle(parse_case(synthetic_case("FHIR-WEB")))
    token = clinic.csrf("/cases/import")
    response = clinic.http.post(
        "/cases/import",
        data={"kind": "fhir", "csrf_token": token},
        files={"file": ("b.json", json.dumps(bundle).encode(), "application/json")},
    )
    assert response.status_code == 303
    assert "FHIR-WEB" in clinic.http.get("/cases").text


def test_the_assessment_page_shows_the_report_and_offers_the_pdf(clinic: Any) -> None:
    require_modules("rhabdo.engine", "rhabdo.report.html", "rhabdo.report.pdf")
    token = {"X-CSRF-Token": clinic.csrf("/cases")}
    made = clinic.http.post("/api/v1/cases", json={"case": example_case()}, headers=token).json()
    page = clinic.http.get(f"/cases/{made['id']}")
    assert page.status_code == 200
    assert 'id="report"' in page.text and "<script" not in page.text
    assert f"engine {made['engine_version']}" in page.text
    pdf = clinic.http.get(f"/cases/{made['id']}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_tokens_page_creates_a_token_shown_once(clinic: Any) -> None:
    page = clinic.http.post(
        "/tokens", data={"name": "laptop", "csrf_token": clinic.csrf("/tokens")}
    )
    secret = re.search(r'id="new-token">([^<]+)<', page.text)
    assert secret and secret.group(1).startswith("rhabdo_")
    assert secret.group(1) not in clinic.http.get("/tokens").text
    api = clinic.http.get("/api/v1/cases", headers={"Authorization": f"Bearer {secret.group(1)}"})
    assert api.status_code == 200


def test_unmapped_fhir_codes_are_reported_after_import(clinic: Any) -> None:
    require_modules("rhabdo.interop.fhir_import", "rhabdo.interop.fhir_export")
    import json

    from rhabdo.interop.fhir_export import case_to_bundle

    bundle = case_to_bundle(parse_case(synthetic_case("FHIR-ODD")))
    patient_ref = bundle["entry"][0]["fullUrl"]
    odd = {
        "resourceType": "Observation",
        "id": "odd",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "99999-9"}]},
        "subject": {"reference": patient_ref},
    }
    bundle["entry"].append(
        {"fullUrl": "urn:uuid:11111111-1111-1111-1111-111111111111", "resource": odd}
    )
    token = clinic.csrf("/cases/import")
    response = clinic.http.post(
        "/cases/import",
        data={"kind": "fhir", "csrf_token": token},
        files={"file": ("b.json", json.dumps(bundle).encode(), "application/json")},
    )
    assert response.status_code == 200
    assert 'id="unmapped"' in response.text and "99999-9" in response.text
    assert "FHIR-ODD" in clinic.http.get("/cases").text


# ---------------------------------------------------------------- add/remove, presets, one round


@pytest.mark.parametrize("list_path", sorted(forms._LIST_MODELS))
def test_every_list_has_add_and_remove_buttons(list_path: str) -> None:
    html = str(forms.render_fields(None, {}))
    # later_lines.chemotherapy -> later_lines[0].chemotherapy; first_line.surgeries unchanged
    parts = list_path.split(".")
    indexed = "".join(
        p if i == len(parts) - 1 else (p + "." if parts[i] in _SINGLE else p + "[0].")
        for i, p in enumerate(parts)
    )
    assert f'value="add:{indexed}"' in html
    assert f'value="remove:{indexed}[0]"' in html


_SINGLE = {"diagnosis", "first_line", "current"}


def test_add_then_remove_keeps_what_was_typed() -> None:
    doc = {"patient": {"id": "X"}, "events": [{"kind": "relapse", "date": "2021-01-01"}]}
    added = forms.apply_action(doc, "add:events", forms.FormValues({}))
    assert added.document["events"] == [{"kind": "relapse", "date": "2021-01-01"}, {}]
    assert added.focus == "events[1].kind"
    removed = forms.apply_action(added.document, "remove:events[0]", forms.FormValues({}))
    assert removed.document["events"] == [{}]
    assert removed.document["patient"] == {"id": "X"}


@pytest.mark.parametrize(
    "action",
    ["add:patient", "add:events[99].sites", "remove:events", "bogus", "add:../x", "preset:events"],
)
def test_a_malformed_or_foreign_action_changes_nothing(action: str) -> None:
    doc = {"patient": {"id": "X"}}
    assert forms.apply_action(doc, action, forms.FormValues({})).document == {
        "patient": {"id": "X"}
    }


@pytest.mark.parametrize("preset", list(presets.Preset))
def test_every_preset_fills_its_agents_with_knowledge_base_doses_only(preset: Any) -> None:
    from rhabdo.knowledge.treatment import regimens

    spec = presets.SPECS[preset]
    values = forms.FormValues({"_preset.later_lines[0]": preset.value})
    doc = forms.apply_action({}, "preset:later_lines[0]", values).document
    items = doc["later_lines"][0]["chemotherapy"]
    assert [i["agent"] for i in items] == [a.value for a in spec.agents]
    source = (
        {a.agent.value: a for a in regimens()[spec.regimen_id].agents} if spec.regimen_id else {}
    )
    for item in items:
        kb = source.get(item["agent"])
        if kb is None or kb.dose is None:
            assert "dose_per_administration" not in item  # never a number the KB does not give
        else:
            assert float(item["dose_per_administration"]) == kb.dose
            assert item["dose_unit"] == kb.dose_unit
    parse_case({"patient": {"id": "X"}, **doc})  # what the preset fills is a valid case


def test_field_and_cross_field_problems_come_in_one_round() -> None:
    doc = {
        "patient": {"id": "X", "date_of_birth": "2015-01-01"},
        "diagnosis": {"date": "2020-01-01", "max_diameter_cm": "-1"},
        "events": [{"kind": "relapse", "date": "2019-06-01"}],
    }
    with pytest.raises(CaseValidationError) as err:
        forms.validate_document(doc)
    fields = {p.field for p in err.value.problems}
    assert fields == {"diagnosis.max_diameter_cm", "events[0].date"}


def test_a_valid_document_validates_in_one_call() -> None:
    assert forms.validate_document({"patient": {"id": "X"}}).patient.id == "X"


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("diagnosis.foxo1_fusion", "FOXO1 fusion"),
        ("diagnosis.myod1", "MYOD1"),
        ("diagnosis.tp53", "TP53"),
        ("current.organ_function.lvef_percent", "LVEF (%)"),
        (
            "current.organ_function.creatinine_clearance_ml_min_1_73m2",
            "Creatinine clearance (mL/min/1.73 m²)",
        ),
        ("later_lines[2].chemotherapy[0].agent_name", "Agent name"),
    ],
)
def test_clinician_labels(path: str, words: str) -> None:
    html = str(forms.render_fields(None, {}))
    assert words in forms.field_label(path)
    assert f">{forms.field_label(path.replace('[2]', '[0]'))}" in html


def test_no_label_is_a_raw_field_name() -> None:
    for path in forms.all_paths():
        label = forms.field_label(path)
        assert "_" not in label and label[:1].isupper(), (path, label)


def test_sign_in_page_explains_the_first_account_only_when_there_is_none(service: Any) -> None:
    assert "rhabdo admin create-user" in service.http.get("/signin").text
    service.add_user("first", "admin")
    assert "rhabdo admin create-user" not in service.http.get("/signin").text
