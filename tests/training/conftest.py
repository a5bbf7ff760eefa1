"""Playing practice runs through the REST API with the hub's clock frozen:
`player(user)` gives a Player whose `start`, `reply`, `transfer`, ...
answer the API's JSON, and whose `settle` moves the clock until every
scheduled patient message is visible."""

from __future__ import annotations

import pytest
from django.test import Client


class Player:
    def __init__(self, user, clock):
        self.client = Client()
        self.client.force_login(user)
        self.clock = clock
        self.run: dict | None = None

    def post(self, path: str, body: dict):
        return self.client.post(f"/api/v1/training{path}", body, content_type="application/json")

    def get(self, path: str):
        return self.client.get(f"/api/v1/training{path}")

    def start(self, slug: str) -> dict:
        response = self.post("/runs", {"scenario": slug})
        assert response.status_code == 201, response.content
        self.run = response.json()
        return self.settle()

    def state(self) -> dict:
        response = self.get(f"/runs/{self.run['id']}")
        assert response.status_code == 200, response.content
        self.run = response.json()
        return self.run

    def settle(self) -> dict:
        """Let the patient finish typing: the clock moves to each pending message."""
        state = self.state()
        while state["next_message_in"] is not None:
            self.clock.advance(seconds=state["next_message_in"])
            state = self.state()
        return state

    def act(self, think: float = 5, **action) -> dict:
        """Wait `think` seconds after the last message, act, and settle."""
        self.clock.advance(seconds=think)
        response = self.post(f"/runs/{self.run['id']}/actions", action)
        assert response.status_code == 200, response.content
        self.run = response.json()
        return self.settle()

    def reply(self, text: str, think: float = 5) -> dict:
        return self.act(think, kind="reply", text=text)

    def transfer(self, department: str, think: float = 5) -> dict:
        return self.act(think, kind="transfer", department=department)

    def escalate(self, to: str, think: float = 5) -> dict:
        return self.act(think, kind="escalate", to=to)

    def resolve(self, think: float = 5) -> dict:
        return self.act(think, kind="resolve")

    def patient_said(self) -> list[str]:
        return [e["text"] for e in self.run["entries"] if e["kind"] == "patient"]

    def last_patient(self) -> str:
        return self.patient_said()[-1]


@pytest.fixture
def player(frozen_clock):
    return lambda user: Player(user, frozen_clock)
