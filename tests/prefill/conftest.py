from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from prefill.app import create_app
from prefill.catalog.loader import packaged_catalogue_dir
from prefill.settings import Settings


@pytest.fixture
def catalogue_copy(tmp_path: Path) -> Path:
    """A writable copy of the packaged catalogues, for tests that change the data."""
    target = tmp_path / "catalog"
    shutil.copytree(packaged_catalogue_dir(), target)
    return target


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path / "var")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client
