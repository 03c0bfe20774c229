"""Work shared within one assessment.

One assessment asks the same question of the same case many times: each outcome figure's
population test asks for the COG relapse group, each systemic option for the relapse type.
The answers depend only on the (immutable) case and the (immutable) knowledge, so inside an
``assessment_scope`` each is worked out once.  Outside a scope nothing is remembered, so a
call made on its own (a test, a tool) always computes afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any, TypeVar, cast

from rhabdo.case.model import Case

F = TypeVar("F", bound=Callable[..., Any])

_memo: ContextVar[dict[Hashable, tuple[Case, Any]] | None] = ContextVar(
    "rhabdo_assessment_memo", default=None
)


@contextmanager
def assessment_scope() -> Iterator[None]:
    """Remember per-case answers until the block ends (one assessment)."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def once_per_assessment(fn: F) -> F:
    """Answer ``fn(case, *args)`` once per case and arguments inside an assessment scope.

    The case is kept with its answer and compared by identity, so a different case object
    never receives another's answer.
    """

    @wraps(fn)
    def remembered(case: Case, *args: Hashable, **kwargs: Any) -> Any:
        memo = _memo.get()
        if memo is None or kwargs:
            return fn(case, *args, **kwargs)
        key = (fn, id(case), args)
        hit = memo.get(key)
        if hit is not None and hit[0] is case:
            return hit[1]
        answer = fn(case, *args, **kwargs)
        memo[key] = (case, answer)
        return answer

    return cast(F, remembered)
