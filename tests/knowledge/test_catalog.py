"""The whole knowledge base: every table loads, every citation key resolves, malformed files fail
with the file, entry and field named."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from rhabdo.errors import KnowledgeBaseError
from rhabdo.knowledge import resolve
from rhabdo.knowledge.base import data_dir
from rhabdo.knowledge.catalog import (
    CATALOG,
    TableSpec,
    check_knowledge,
    load_catalog_table,
    load_sources,
)

SPECS = list(CATALOG)
SPEC_IDS = [s.filename for s in SPECS]


def _copy_data(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(data_dir(), target)
    return target


def _rewrite(path: Path, change: Any) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(raw)
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")


def test_catalog_lists_each_file_once() -> None:
    assert len(SPEC_IDS) == len(set(SPEC_IDS))
    for name in ("regimens.yaml", "dose_thresholds.yaml", "biomarkers.yaml"):
        assert name in SPEC_IDS


def test_every_yaml_table_in_the_data_directory_is_catalogued() -> None:
    """A knowledge file that is not in the catalogue would escape ``kb check``."""
    shipped = {p.name for p in data_dir().glob("*.yaml")} - {"manifest.yaml"}
    assert shipped - set(SPEC_IDS) == set()


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_every_table_loads(spec: TableSpec) -> None:
    table = load_catalog_table(spec)
    assert len(table) > 0
    for entry in table:
        assert entry.citations
        assert entry.last_reviewed


def test_whole_base_checks_clean() -> None:
    report = check_knowledge()
    assert report.ok, [str(p) for p in report.problems]
    assert report.sources == len(load_sources())
    assert [t.filename for t in report.tables] == [*SPEC_IDS, "trials/trials.yaml"]
    assert report.entries == sum(t.entries for t in report.tables)


def test_kb_check_covers_the_trial_file(tmp_path: Path) -> None:
    """An unknown citation key or an unknown field in the trial file fails ``kb check``."""
    data = tmp_path / "data"
    shutil.copytree(data_dir(), data)
    path = data / "trials" / "trials.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["trials"][0]["citations"].append("no_such_source")
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    report = check_knowledge(data)
    assert not report.ok
    assert any("no_such_source" in str(p) and "NCT04625907" in str(p) for p in report.problems)
    raw["trials"][0]["criteria"]["min_platelets"] = 5
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="min_platelets"):
        check_knowledge(data)


def test_every_citation_key_resolves() -> None:
    """Every key anywhere in any table (entry citations and nested trial/result citations)."""
    from rhabdo.knowledge.catalog import _citation_keys

    for spec in SPECS:
        for entry in load_catalog_table(spec):
            for _path, key in _citation_keys(entry.model_dump(mode="json"), ""):
                assert resolve(key).key == key


def test_unverified_entries_are_listed_with_their_gap() -> None:
    report = check_knowledge()
    listed = {(u.filename, u.entry_id) for u in report.unverified}
    for spec in SPECS:
        for entry in load_catalog_table(spec):
            assert ((spec.filename, entry.id) in listed) == (not entry.verified)
    # the treatment tables' own evidence gaps (treatment-and-evidence.md, "Unverified" list)
    assert ("dose_thresholds.yaml", "ced.other_alkylators") in listed
    assert ("dose_thresholds.yaml", "anthracycline.idarubicin") in listed
    assert ("regimens.yaml", "gemcitabine_docetaxel") in listed


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_malformed_copy_names_file_entry_and_field(spec: TableSpec, tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    path = data / spec.filename
    first_id = yaml.safe_load(path.read_text(encoding="utf-8"))["entries"][0]["id"]
    _rewrite(path, lambda raw: raw["entries"][0].update({"bogus_field": 1}))
    with pytest.raises(KnowledgeBaseError) as err:
        check_knowledge(data)
    assert err.value.file.endswith(spec.filename)
    assert err.value.entry == first_id
    assert err.value.field == "bogus_field"


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_missing_review_date_is_named(spec: TableSpec, tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    path = data / spec.filename
    _rewrite(path, lambda raw: raw["entries"][-1].pop("last_reviewed"))
    with pytest.raises(KnowledgeBaseError) as err:
        check_knowledge(data)
    assert err.value.field == "last_reviewed"
    assert err.value.entry is not None and not err.value.entry.startswith("#")


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_unknown_citation_key_is_a_problem(spec: TableSpec, tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    path = data / spec.filename
    _rewrite(path, lambda raw: raw["entries"][0]["citations"].append("no_such_source_1999"))
    report = check_knowledge(data)
    assert not report.ok
    [problem] = report.problems
    assert problem.filename == spec.filename
    assert problem.key == "no_such_source_1999"
    assert problem.field.startswith("citations[")


def test_nested_trial_citation_is_checked(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    _rewrite(
        data / "regimens.yaml",
        lambda raw: raw["entries"][0]["trials"][0].update({"citation": "not_a_key"}),
    )
    report = check_knowledge(data)
    assert [p.field for p in report.problems] == ["trials[0].citation"]


def test_not_yaml_is_reported(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    (data / "regimens.yaml").write_text("entries: [unclosed", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"regimens\.yaml.*not valid YAML"):
        check_knowledge(data)


def test_duplicate_source_key_is_rejected(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    extra = {"sources": [dict(resolve("feijen_2019").model_dump(mode="json", exclude_none=True))]}
    (data / "sources" / "zz_duplicate.yaml").write_text(yaml.safe_dump(extra), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="already defined"):
        load_sources(data)


def test_missing_manifest_version(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    (data / "manifest.yaml").write_text("{}\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as err:
        check_knowledge(data)
    assert err.value.field == "version"


def test_unloadable_entry_model_is_a_knowledge_error() -> None:
    spec = TableSpec("regimens.yaml", "rhabdo.no_such_module:Nothing", "broken")
    with pytest.raises(KnowledgeBaseError, match="cannot be loaded"):
        spec.model()
    not_an_entry = TableSpec("regimens.yaml", "rhabdo.knowledge.treatment:AgentDose", "wrong kind")
    with pytest.raises(KnowledgeBaseError, match="not a KnowledgeEntry"):
        not_an_entry.model()


def test_unknown_population_of_a_trial_figure_is_a_problem(tmp_path: Path) -> None:
    """``kb check`` resolves every population_id a regimen figure declares."""
    data = _copy_data(tmp_path)
    _rewrite(
        data / "regimens.yaml",
        lambda raw: raw["entries"][0]["trials"][0].update({"population_id": "no_such_cohort"}),
    )
    report = check_knowledge(data)
    assert [str(p) for p in report.problems] == [
        "regimens.yaml, entry 'vit', field 'trials[0].population_id': "
        "unknown population 'no_such_cohort'"
    ]


def test_unknown_population_of_one_figure_is_a_problem(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    _rewrite(
        data / "regimens.yaml",
        lambda raw: raw["entries"][0]["trials"][0]["outcomes"][0].update(
            {"population_id": "nowhere"}
        ),
    )
    [problem] = check_knowledge(data).problems
    assert problem.field == "trials[0].outcomes[0].population_id" and problem.key == "nowhere"


def test_trial_figures_without_a_population_are_refused(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    _rewrite(
        data / "regimens.yaml", lambda raw: raw["entries"][0]["trials"][0].pop("population_id")
    )
    with pytest.raises(KnowledgeBaseError) as err:
        check_knowledge(data)
    assert err.value.field == "trials.0" and err.value.entry == "vit"
    assert "population_id: required for a trial that reports outcomes" in str(err.value)
