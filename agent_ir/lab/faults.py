"""Fault injection settings for one emulated provider, and the live state that applies them."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MalformedKind = Literal["truncated", "html", "garbage", "deep", "huge"]


class FaultSpec(BaseModel):
    """Faults one provider's emulator injects; every rate is a probability per request.

    Example (in a world file, or sent to a running lab with ``agent-ir lab faults``)::

        faults:
          aws: {latency_ms: 50, throttle_rate: 0.1, reset_rate: 0.05}
    """

    model_config = ConfigDict(extra="forbid")

    latency_ms: float = Field(0, ge=0, le=60_000, description="added to every request")
    jitter_ms: float = Field(0, ge=0, le=60_000, description="uniform random extra latency")
    error_rate: float = Field(0, ge=0, le=1, description="answer a 5xx in the provider's shape")
    throttle_rate: float = Field(0, ge=0, le=1, description="answer a 429 with provider headers")
    reset_rate: float = Field(0, ge=0, le=1, description="reset the connection, no answer")
    timeout_rate: float = Field(0, ge=0, le=1, description="hang, then drop the connection")
    timeout_s: float = Field(30, gt=0, le=600, description="how long a 'timeout' hangs")
    retry_after_s: float = Field(1, ge=0, le=600, description="wait a 429 asks for")
    malformed_rate: float = Field(
        0, ge=0, le=1, description="answer 200 with a body the client cannot read"
    )
    malformed: MalformedKind = Field(
        "truncated",
        description=(
            "truncated: the real body cut short; html: an HTML page as text/html; "
            "garbage: bytes that are neither JSON nor XML; deep: 100,000 open brackets; "
            "huge: 8 MB that never becomes valid"
        ),
    )
    path_prefix: str = Field(
        "", max_length=200, description="faults only hit request paths starting with this"
    )
    seed: int | None = Field(None, description="makes the random choices repeatable")
    max_faults: int | None = Field(
        None, ge=0, description="stop injecting after this many faults (a 429, then success)"
    )


class Fault(StrEnum):
    """What the emulator does to one request."""

    NONE = "none"
    ERROR = "error"
    THROTTLE = "throttle"
    RESET = "reset"
    TIMEOUT = "timeout"
    MALFORMED = "malformed"


@dataclass(slots=True)
class Decision:
    """The fate of one request: a fault (or none) and a delay before it."""

    fault: Fault
    delay_s: float


class FaultState:
    """The live, thread-safe fault settings of one emulator; replaceable while it runs."""

    def __init__(self, spec: FaultSpec | None = None) -> None:
        self._lock = threading.Lock()
        self._spec = spec or FaultSpec()
        self._random = random.Random(self._spec.seed)
        self.counts: dict[Fault, int] = dict.fromkeys(Fault, 0)
        self.requests = 0
        self._injected = 0
        """Faults injected under the spec now in force (for ``max_faults``)."""
        self._gate = threading.Event()
        self._gate.set()

    @property
    def spec(self) -> FaultSpec:
        """The settings now in force."""
        with self._lock:
            return self._spec

    def update(self, spec: FaultSpec) -> None:
        """Replace the settings (and reseed when the new spec has a seed)."""
        with self._lock:
            self._spec = spec
            self._injected = 0
            if spec.seed is not None:
                self._random = random.Random(spec.seed)

    def hold(self) -> None:
        """Hold every request from now on until :meth:`release`: lets a test say exactly
        when a provider answers (one provider slower than the others, with no timing)."""
        self._gate.clear()

    def release(self) -> None:
        """Let held requests (and every later one) through."""
        self._gate.set()

    @property
    def held(self) -> bool:
        """True while requests are held."""
        return not self._gate.is_set()

    def decide(self, path: str = "") -> Decision:
        """Draw the fate of the next request (to ``path``), after waiting while held."""
        self._gate.wait()
        with self._lock:
            spec = self._spec
            self.requests += 1
            spent = spec.max_faults is not None and self._injected >= spec.max_faults
            if spent or not path.startswith(spec.path_prefix):
                self.counts[Fault.NONE] += 1
                return Decision(Fault.NONE, 0.0)
            delay = spec.latency_ms / 1000
            if spec.jitter_ms:
                delay += self._random.uniform(0, spec.jitter_ms / 1000)
            roll = self._random.random()
            fault = Fault.NONE
            for kind, rate in (
                (Fault.RESET, spec.reset_rate),
                (Fault.TIMEOUT, spec.timeout_rate),
                (Fault.THROTTLE, spec.throttle_rate),
                (Fault.ERROR, spec.error_rate),
                (Fault.MALFORMED, spec.malformed_rate),
            ):
                if roll < rate:
                    fault = kind
                    break
                roll -= rate
            self.counts[fault] += 1
            if fault is not Fault.NONE:
                self._injected += 1
            return Decision(fault, delay)
