"""Messages that cross screens; the app routes them (widgets keep their own nested ones)."""

from __future__ import annotations

from textual.message import Message


class OpenAgent(Message):
    """Show one agent's detail screen."""

    def __init__(self, agent: str) -> None:
        super().__init__()
        self.agent = agent


class Revoke(Message):
    """Plan the kill switch (the contain-agent playbook) for an agent."""

    def __init__(self, agent: str) -> None:
        super().__init__()
        self.agent = agent


class PickPlaybook(Message):
    """Choose a playbook and its parameters for an agent, then plan it."""

    def __init__(self, agent: str) -> None:
        super().__init__()
        self.agent = agent


class Restore(Message):
    """Plan the undo of an incident."""

    def __init__(self, incident: str, agent: str) -> None:
        super().__init__()
        self.incident = incident
        self.agent = agent


class OpenIncident(Message):
    """Show one incident whole: steps, timings, verdict, residual, restore chain."""

    def __init__(self, incident: str, agent: str) -> None:
        super().__init__()
        self.incident = incident
        self.agent = agent


class CutLink(Message):
    """Plan the cut-delegation playbook for one link of an agent's delegation tree."""

    def __init__(self, agent: str, source: str, target: str) -> None:
        super().__init__()
        self.agent = agent
        self.source = source
        self.target = target
