from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from showfloor.client import Client
from tests.client.live import Account, LiveServer, start_server


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp: Path = tmp_path_factory.mktemp("live-server")
    for server in start_server(tmp):
        server.prepare_accounts([10_000] * 5 + [1_000] * 3 + [20])
        yield server


@pytest.fixture(scope="session")
def reader(live_server: LiveServer) -> Account:
    """One account with 10,000 gift credits for tests that never spend, made with the admin CLI."""
    return live_server.create_account(credits=10_000)


@pytest.fixture
def funded(live_server: LiveServer) -> Account:
    """A fresh account with 10,000 gift credits."""
    return live_server.new_account(credits=10_000)


@pytest.fixture
def sdk(live_server: LiveServer, reader: Account) -> Iterator[Client]:
    with Client(reader.key, live_server.base_url, timeout=10) as client:
        yield client
