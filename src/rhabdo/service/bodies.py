"""JSON request bodies decoded in a worker thread, never on the event loop.

FastAPI decodes a JSON body with ``await request.json()`` on the event loop before a route
runs; a body near the size limit (10 MB by default) then holds the loop, and every other
request with it, for the whole decode.  ``OffLoopJsonRoute`` (the route class of every router
of the service) hands routes a request whose ``json()`` decodes in the thread pool instead.
The size limit is enforced before the body is read (``app.BodyLimit``); the decode here also
refuses a document nested more than ``MAX_BODY_NESTING`` levels deep with a 400 naming the
limit, never a ``RecursionError``.  Case documents inside a body are held to the stricter case
format limit when they are parsed (``rhabdo.case.io.MAX_NESTING``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

import anyio.to_thread
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from rhabdo.case.io import nesting_depth

#: Mappings and lists inside one another a request body may hold (a wrapped case document or
#: a FHIR Bundle stays far below this).
MAX_BODY_NESTING = 64


class BodyTooDeep(HTTPException):
    def __init__(self) -> None:
        super().__init__(
            400, f"request body is nested more than {MAX_BODY_NESTING} levels deep; refused"
        )


def decode_json_body(body: bytes) -> Any:
    """The JSON document in ``body`` (blocking; call it in a worker thread).

    Raises ``json.JSONDecodeError`` for text that is not JSON (FastAPI turns it into a 422
    naming the position) and ``BodyTooDeep`` for nesting beyond ``MAX_BODY_NESTING``."""
    try:
        document = json.loads(body)
    except RecursionError:
        raise BodyTooDeep() from None
    if nesting_depth(document, MAX_BODY_NESTING) > MAX_BODY_NESTING:
        raise BodyTooDeep()
    return document


class OffLoopJsonRequest(Request):
    """A request whose JSON body is decoded in the thread pool (once, then kept)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            self._json = await anyio.to_thread.run_sync(decode_json_body, body)
        return self._json


class OffLoopJsonRoute(APIRoute):
    """A FastAPI route that gives its handler an ``OffLoopJsonRequest``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def off_loop_json(request: Request) -> Response:
            return await handler(OffLoopJsonRequest(request.scope, request.receive))

        return off_loop_json
