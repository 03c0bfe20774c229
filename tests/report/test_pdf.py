"""The PDF, turned into page images and text with poppler: pages, text and figures present."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from rhabdo.case.model import Case
from rhabdo.results import Assessment

from .conftest import EXAMPLES

NAMES = [p.stem for p in EXAMPLES]
pytestmark = pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="poppler-utils not installed"
)


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


@pytest.mark.parametrize("name", NAMES)
def test_pdf_pages_text_and_figures(
    name: str, pdf_dir: Path, assessed: dict[str, tuple[Case, Assessment]], tmp_path: Path
) -> None:
    from PIL import Image

    pdf = pdf_dir / f"{name}.pdf"
    info = run("pdfinfo", str(pdf))
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    # page one decides; the detail after it runs longer for rich records (doses, history)
    assert 1 <= pages <= 14
    text = run("pdftotext", "-layout", str(pdf), "-")
    _, a = assessed[name]
    assert a.patient_id in text
    for heading in ("Findings", "Recommendations", "References", "Cumulative exposure"):
        assert heading in text
    assert "does not replace" in text
    case, _ = assessed[name]
    if case.diagnosis.date is not None:
        assert "months from first diagnosis" in text  # the timeline figure's axis, as vector text
    run("pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page"))
    images = sorted(tmp_path.glob("page*.png"))
    assert len(images) == pages
    for img_path in images:
        with Image.open(img_path) as img:
            grey = img.convert("L")
            lo, hi = grey.getextrema()
            assert hi - lo > 100, f"{img_path.name} looks blank"
