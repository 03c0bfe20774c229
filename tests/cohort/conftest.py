from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

DATA = HERE.parent / "data" / "cohort"


def engine_available() -> bool:
    try:
        import rhabdo.engine  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture
def data_dir() -> Path:
    return DATA
