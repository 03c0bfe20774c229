"""A recommendation with some fields changed, for the passes over all recommendations.

The dosing, histology-hold and wording passes each change a few fields of recommendations that
were validated when their rule made them, to values of the fields' own types.  That is what
``model_copy(update=...)`` does (it does not validate either); ``revised`` does the same without
pydantic's generic copy machinery, which costs about twice as much and ran for every option.
"""

from __future__ import annotations

from typing import Any

from rhabdo.results import Recommendation

_set = object.__setattr__


def revised(rec: Recommendation, changes: dict[str, Any]) -> Recommendation:
    """``rec.model_copy(update=changes)``: a new recommendation, ``rec`` left as it was."""
    new = Recommendation.__new__(Recommendation)
    _set(new, "__dict__", {**rec.__dict__, **changes})
    _set(new, "__pydantic_fields_set__", rec.__pydantic_fields_set__ | changes.keys())
    _set(new, "__pydantic_extra__", None)
    _set(new, "__pydantic_private__", None)
    return new
