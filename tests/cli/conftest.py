from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client.live import LiveServer, start_server


@pytest.fixture(scope="session")
def cli_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp: Path = tmp_path_factory.mktemp("cli-server")
    for server in start_server(tmp):
        server.prepare_accounts([10_000] * 5 + [20])
        yield server
