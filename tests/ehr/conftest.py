"""Fixtures for the demo EHR: a seeded FHIR R4 server on a thread, reached
over real HTTP.

`demo_ehr` is a fresh one per test; `demo_ehr_factory(clients=...,
eligibility=...)` starts others with DemoEhr's options. Each has its own
sqlite file in tmp_path, copied from one seeded per session (seeding takes
longer than copying).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub.ehr.demo import DemoEhr, RunningServer, Store, seed, start_in_thread


@dataclass
class DemoEhrServer:
    running: RunningServer
    store: Store

    @property
    def app(self) -> DemoEhr:
        return self.running.app

    @property
    def base_url(self) -> str:
        return self.running.base_url

    @property
    def token_url(self) -> str:
        return self.running.token_url

    def stop(self) -> None:
        self.running.stop()


@pytest.fixture(scope="session")
def _seeded_demo_ehr_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo-ehr") / "seeded.sqlite3"
    seed(Store(path))
    return path


@pytest.fixture
def demo_ehr_factory(tmp_path: Path, _seeded_demo_ehr_db: Path) -> Iterator[Callable[..., DemoEhrServer]]:
    started: list[DemoEhrServer] = []

    def start(**options) -> DemoEhrServer:
        path = tmp_path / f"demo-ehr-{len(started)}.sqlite3"
        with closing(sqlite3.connect(_seeded_demo_ehr_db)) as source, closing(sqlite3.connect(path)) as copy:
            source.backup(copy)
        store = Store(path)
        server = DemoEhrServer(start_in_thread(DemoEhr(store, **options)), store)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def demo_ehr(demo_ehr_factory: Callable[..., DemoEhrServer]) -> DemoEhrServer:
    return demo_ehr_factory()
