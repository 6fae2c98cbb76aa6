"""The emulator server base, with a trivial app: TLS, keep-alive, control plane, faults."""

from __future__ import annotations

import errno
import os
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from agent_ir.errors import LabError
from agent_ir.lab.faults import FaultSpec
from agent_ir.lab.server import EmulatorServer, LabRequest, LabResponse
from agent_ir.lab.tls import LabTLS, create_lab_tls


def echo(request: LabRequest) -> LabResponse:
    """Answer with what the request looked like."""
    return LabResponse.from_json(
        200,
        {
            "method": request.method,
            "path": request.path,
            "query": request.query_params,
            "body": request.body.decode(),
            "header": request.header("X-Probe"),
        },
    )


@pytest.fixture
def tls(tmp_path: Path) -> LabTLS:
    return create_lab_tls(tmp_path)


@pytest.fixture
def server(tls: LabTLS) -> Iterator[EmulatorServer]:
    resets: list[int] = []
    emulator = EmulatorServer("echo", echo, tls, on_reset=lambda: resets.append(1))
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def client(server: EmulatorServer, tls: LabTLS) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.base_url, verify=tls.client_context(), trust_env=False, timeout=10
    ) as http:
        yield http


def test_ca_is_written_and_the_certificate_covers_loopback_names(
    server: EmulatorServer, tls: LabTLS
) -> None:
    assert tls.ca_path.read_text().startswith("-----BEGIN CERTIFICATE-----")
    for name in ("127.0.0.1", "localhost"):
        with (
            socket.create_connection(("127.0.0.1", server.port)) as raw,
            tls.client_context().wrap_socket(raw, server_hostname=name) as wrapped,
        ):
            assert wrapped.version() in ("TLSv1.2", "TLSv1.3")


def test_a_client_trusting_only_the_system_bundle_is_refused(server: EmulatorServer) -> None:
    with pytest.raises(httpx.ConnectError), httpx.Client(trust_env=False) as http:
        http.get(server.base_url + "/_lab/health")


def test_requests_reach_the_app_over_one_kept_alive_connection(client: httpx.Client) -> None:
    seen_ports = set()
    for index in range(3):
        response = client.post(
            f"/things/a%2Fb?x={index}", content=b"payload", headers={"X-Probe": "yes"}
        )
        assert response.status_code == 200
        assert response.json() == {
            "method": "POST",
            "path": "/things/a%2Fb",
            "query": {"x": [str(index)]},
            "body": "payload",
            "header": "yes",
        }
        stream = response.extensions["network_stream"]
        seen_ports.add(stream.get_extra_info("client_addr")[1])
    assert len(seen_ports) == 1


def test_health_and_fault_report(client: httpx.Client) -> None:
    assert client.get("/_lab/health").json() == {"status": "ok", "provider": "echo"}
    report = client.get("/_lab/faults").json()
    assert report["spec"] == FaultSpec().model_dump(mode="json")
    assert set(report["counts"]) == {"none", "error", "throttle", "reset", "timeout", "malformed"}


def test_control_requests_are_not_counted_or_faulted(
    client: httpx.Client, server: EmulatorServer
) -> None:
    server.faults.update(FaultSpec(reset_rate=1))
    for _ in range(3):
        assert client.get("/_lab/health").status_code == 200
    assert server.faults.requests == 0


def test_put_faults_replaces_the_spec_live(client: httpx.Client) -> None:
    assert client.get("/anything").status_code == 200
    report = client.put("/_lab/faults", json={"throttle_rate": 1, "retry_after_s": 7}).json()
    assert report["spec"]["throttle_rate"] == 1
    throttled = client.get("/anything")
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "7"
    report = client.put("/_lab/faults", json={}).json()
    assert client.get("/anything").status_code == 200
    assert report["counts"]["throttle"] == 1
    assert client.get("/_lab/faults").json()["requests"] == 3


def test_an_invalid_fault_spec_is_refused_with_every_problem(client: httpx.Client) -> None:
    response = client.put("/_lab/faults", json={"error_rate": 2, "bogus": 1})
    assert response.status_code == 400
    wheres = {problem["where"] for problem in response.json()["problems"]}
    assert wheres == {"error_rate", "bogus"}
    broken = client.put("/_lab/faults", content=b"{not json")
    assert broken.status_code == 400


def test_unknown_control_paths_and_methods(client: httpx.Client) -> None:
    assert client.get("/_lab/nothing").status_code == 404
    assert client.post("/_lab/faults").status_code == 405
    assert client.post("/_lab/reset").json()["status"] == "reset"


def test_error_fault_answers_a_5xx(client: httpx.Client, server: EmulatorServer) -> None:
    server.faults.update(FaultSpec(error_rate=1))
    assert client.get("/anything").status_code == 503


def _eventually(predicate: Callable[[], bool]) -> None:
    """Wait (bounded) for the server's threads to reach a state."""
    for _ in range(500):
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError("the server never reached the expected state")


def _send_raw(server: EmulatorServer, tls: LabTLS) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", server.port))
    wrapped = tls.client_context().wrap_socket(raw, server_hostname="127.0.0.1")
    wrapped.sendall(b"GET /anything HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    return wrapped


def test_reset_fault_aborts_the_connection_with_an_rst(server: EmulatorServer, tls: LabTLS) -> None:
    server.faults.update(FaultSpec(reset_rate=1))
    # Read beneath TLS: a FIN would end in b"", only an RST raises ECONNRESET.
    with (
        _send_raw(server, tls) as wrapped,
        socket.socket(fileno=os.dup(wrapped.fileno())) as beneath,
        pytest.raises(ConnectionResetError) as caught,
    ):
        while beneath.recv(65536):
            pass  # TLS session tickets may come first
    assert caught.value.errno == errno.ECONNRESET


def test_timeout_fault_hangs_then_drops_without_an_answer(
    server: EmulatorServer, tls: LabTLS, client: httpx.Client
) -> None:
    server.faults.update(FaultSpec(timeout_rate=1, timeout_s=0.2))
    with _send_raw(server, tls) as wrapped:
        assert wrapped.recv(1024) == b""  # an orderly close, and nothing before it
    server.faults.update(FaultSpec(timeout_rate=1, timeout_s=30))
    with pytest.raises(httpx.ReadTimeout):
        client.get("/anything", timeout=0.2)


def test_latency_delays_the_answer(client: httpx.Client, server: EmulatorServer) -> None:
    server.faults.update(FaultSpec(latency_ms=5_000))
    with pytest.raises(httpx.ReadTimeout):
        client.get("/anything", timeout=0.2)
    server.faults.update(FaultSpec())
    assert client.get("/anything").status_code == 200


def test_stop_ends_hanging_and_idle_connections(tls: LabTLS) -> None:
    emulator = EmulatorServer("echo", echo, tls, faults=FaultSpec(timeout_rate=1, timeout_s=600))
    emulator.start()
    idle = tls.client_context().wrap_socket(
        socket.create_connection(("127.0.0.1", emulator.port)), server_hostname="localhost"
    )
    hanging = _send_raw(emulator, tls)
    _eventually(lambda: emulator.faults.requests == 1)
    emulator.stop()
    assert hanging.recv(1024) == b""
    assert idle.recv(1024) == b""
    idle.close()
    hanging.close()
    assert not emulator.running


def test_start_twice_is_refused(server: EmulatorServer) -> None:
    with pytest.raises(LabError):
        server.start()


def test_a_malformed_fault_answers_an_unreadable_success(
    server: EmulatorServer, client: httpx.Client
) -> None:
    """``malformed_rate`` answers 200 with a body no JSON (or XML) parser can read."""
    server.faults.update(FaultSpec(malformed_rate=1))
    response = client.get(server.base_url + "/anything")
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
