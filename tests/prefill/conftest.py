from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from prefill.app import create_app
from prefill.auth.runtime import catalogue_departments
from prefill.auth.service import dev_credentials
from prefill.catalog.loader import packaged_catalogue_dir
from prefill.catalog.service import CatalogueStore
from prefill.settings import Settings


@pytest.fixture
def catalogue_copy(tmp_path: Path) -> Path:
    """A writable copy of the packaged catalogues, for tests that change the data."""
    target = tmp_path / "catalog"
    shutil.copytree(packaged_catalogue_dir(), target)
    return target


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # Port 0: the in-process simulator takes any free loopback port, so runs never collide.
    return Settings(
        database_url=database_url, data_dir=tmp_path / "var", simulator_port=0, prefill_deadline_s=1.0
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def dev_keys(settings: Settings) -> dict[str, object]:
    """The demo clients' keys of simulated mode, as `prefill dev credentials --json` prints them."""
    departments = catalogue_departments(CatalogueStore.load(settings.catalog_dir))
    return dev_credentials(settings.dev_seed.encode(), departments)


@pytest.fixture
def auth_headers(dev_keys: dict[str, object]) -> Callable[..., dict[str, str]]:
    """``auth_headers("frontend")`` or ``auth_headers("department", "psb")``: a demo client's header."""

    def headers(role: str, department: str | None = None) -> dict[str, str]:
        key = dev_keys[role]
        if isinstance(key, dict):
            key = key[department or "psb"]
        return {"Authorization": f"Bearer {key}"}

    return headers
