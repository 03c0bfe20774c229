"""The rhabdo service: web app, JSON API and CDS Hooks 2.0 (``create_app(settings)``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from rhabdo.service.settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings) -> FastAPI:
    from rhabdo.service.app import create_app as _create

    return _create(settings)
