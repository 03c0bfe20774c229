"""``rhabdo kb check | list | sources`` through click's CliRunner: output and exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from rhabdo.cli import cli
from rhabdo.knowledge.base import data_dir
from rhabdo.knowledge.catalog import CATALOG, check_knowledge


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["kb", *args])
    return result.exit_code, result.stdout, result.stderr


def test_check_passes_and_prints_counts_and_unverified() -> None:
    code, out, _ = _run("check")
    assert code == 0
    report = check_knowledge()
    assert f"sources: {report.sources}" in out
    assert "regimens.yaml: " in out
    assert f"unverified entries: {len(report.unverified)}" in out
    for u in report.unverified:
        assert u.entry_id in out
    assert out.rstrip().endswith("OK")


def test_check_json() -> None:
    code, out, _ = _run("check", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["ok"] is True
    assert {t["file"] for t in doc["tables"]} == {s.filename for s in CATALOG} | {
        "trials/trials.yaml"
    }


def test_malformed_copy_fails_with_file_entry_field(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(data_dir(), data)
    path = data / "dose_thresholds.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["entries"][1]["factor"] = -0.6
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    code, out, err = _run("check", "--data-dir", str(data))
    assert code == 1
    assert "dose_thresholds.yaml" in err
    assert "entry 'anthracycline.daunorubicin'" in err
    assert "field 'factor'" in err
    assert "Traceback" not in err + out


def test_unknown_citation_fails_with_exit_1(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(data_dir(), data)
    path = data / "biomarkers.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["entries"][0]["citations"] = ["nobody_2099"]
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    code, out, _ = _run("check", "--data-dir", str(data))
    assert code == 1
    assert "unknown citation key 'nobody_2099'" in out
    assert out.rstrip().endswith("FAILED")


def test_missing_data_dir_is_a_usage_error(tmp_path: Path) -> None:
    code, _, _ = _run("check", "--data-dir", str(tmp_path / "nowhere"))
    assert code == 2


def test_list_tables_and_entries() -> None:
    code, out, _ = _run("list")
    assert code == 0
    assert "regimens.yaml" in out
    code, out, _ = _run("list", "regimens")
    assert code == 0
    assert out.splitlines()[0].startswith("vit\t")
    assert "gemcitabine_docetaxel" in out and "[unverified]" in out


def test_list_unknown_table() -> None:
    code, _, err = _run("list", "nonsense")
    assert code == 2
    assert "unknown table" in err


def test_sources_list_and_one_key() -> None:
    code, out, _ = _run("sources")
    assert code == 0
    assert "feijen_2019: " in out
    code, out, _ = _run("sources", "skinner_2000")
    assert code == 0
    assert "doi:10.1054/bjoc.2000.1214" in out
    code, _, err = _run("sources", "nope_0000")
    assert code == 2
    assert "unknown citation key" in err
