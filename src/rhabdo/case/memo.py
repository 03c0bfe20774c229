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

#: Inside a scope: for each case (by identity, kept with its answers) the answers so far,
#: keyed by the function alone when it takes only the case, else by function and arguments.
#: (No key or value tuple per answer: fewer objects made per assessment.)
_memo: ContextVar[dict[int, tuple[Case, dict[Hashable, Any]]] | None] = ContextVar(
    "rhabdo_assessment_memo", default=None
)
_NOT_YET = object()


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

    The case is kept with its answers and compared by identity, so a different case object
    never receives another's answer.
    """

    @wraps(fn)
    def remembered(case: Case, *args: Hashable, **kwargs: Any) -> Any:
        memo = _memo.get()
        if memo is None or kwargs:
            return fn(case, *args, **kwargs)
        held = memo.get(id(case))
        if held is None or held[0] is not case:
            held = memo[id(case)] = (case, {})
        answers = held[1]
        key = (fn, args) if args else fn
        answer = answers.get(key, _NOT_YET)
        if answer is _NOT_YET:
            answer = answers[key] = fn(case, *args)
        return answer

    return cast(F, remembered)
