"""Every table of the service, gathered so that Alembic and tests see one complete metadata."""

from __future__ import annotations

import contextlib

# Tables are declared by the packages that own them; importing them registers them on SQLModel.metadata.
with contextlib.suppress(ModuleNotFoundError):  # audit lands in its own issue
    import audit.models  # noqa: F401

import prefill.applications.models
import prefill.auth.models
import prefill.registry.models  # noqa: F401
