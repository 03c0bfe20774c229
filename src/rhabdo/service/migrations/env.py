"""Alembic environment: the URL comes from the Config built by ``rhabdo.service.migrate``."""

from __future__ import annotations

from alembic import context

from rhabdo.service.db import Base, make_engine

config = context.config
url = config.get_main_option("sqlalchemy.url") or "sqlite:///rhabdo.sqlite3"
engine = make_engine(url)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
