"""The local stack as the e2e tests drive it: its key, base URLs and HTTP helpers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.fake_upstreams import FakeUpstreams
from tests.e2e.stack_process import StackProcess

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "e2e-local-api-key"
TIMEOUT = 30


def needs_function(name: str) -> None:
    if not (ROOT / "functions" / name / "app.py").is_file():
        pytest.skip(f"functions/{name}/app.py does not exist yet")


@dataclass
class RunningStack:
    running: StackProcess
    upstreams: FakeUpstreams

    @property
    def base(self) -> str:
        return self.running.base

    @property
    def api(self) -> str:
        return self.running.api

    @property
    def output(self) -> list[str]:
        return self.running.output

    def get(
        self, path: str, key: str | None = API_KEY, params: dict[str, str] | None = None
    ) -> requests.Response:
        headers = {"x-api-key": key} if key else {}
        return requests.get(f"{self.api}{path}", headers=headers, params=params, timeout=TIMEOUT)

    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        headers = {"x-api-key": API_KEY}
        return requests.post(f"{self.api}{path}", headers=headers, json=body, timeout=TIMEOUT)
