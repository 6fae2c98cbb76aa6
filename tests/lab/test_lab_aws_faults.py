"""Fault injection as official AWS clients see it, and the live control endpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from agent_ir.errors import LabError
from agent_ir.lab.faults import Fault, FaultSpec, FaultState
from agent_ir.lab.runner import Lab
from agent_ir.lab.serve import get_faults, set_faults
from agent_ir.lab.tls import client_context

AwsClientFactory = Callable[..., Any]


def _retrying(aws_client: AwsClientFactory, attempts: int = 3, **config: Any) -> Any:
    return aws_client("iam", retries={"mode": "standard", "total_max_attempts": attempts}, **config)


def test_throttling_is_awsquery_throttling_and_botocore_retries_it(
    aws_faults: FaultState, aws_client: AwsClientFactory
) -> None:
    aws_faults.update(FaultSpec(throttle_rate=1))
    before = aws_faults.counts[Fault.THROTTLE]
    with pytest.raises(ClientError) as caught:
        _retrying(aws_client).list_users()
    response = caught.value.response
    assert response["Error"] == {"Type": "Sender", "Code": "Throttling", "Message": "Rate exceeded"}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert aws_faults.counts[Fault.THROTTLE] - before == 3


def test_errors_are_iam_service_failures_and_retried(
    aws_faults: FaultState, aws_client: AwsClientFactory
) -> None:
    aws_faults.update(FaultSpec(error_rate=1))
    with pytest.raises(ClientError) as caught:
        _retrying(aws_client).list_users()
    response = caught.value.response
    assert response["Error"]["Code"] == "ServiceFailure"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert response["ResponseMetadata"]["RetryAttempts"] == 2


def test_sts_errors_are_service_unavailable(
    aws_faults: FaultState, aws_client: AwsClientFactory
) -> None:
    aws_faults.update(FaultSpec(error_rate=1))
    with pytest.raises(ClientError) as caught:
        aws_client("sts").get_caller_identity()
    assert caught.value.response["Error"]["Code"] == "ServiceUnavailable"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503


def test_a_reset_is_a_connection_error(
    aws_faults: FaultState, aws_client: AwsClientFactory
) -> None:
    aws_faults.update(FaultSpec(reset_rate=1))
    with pytest.raises(ConnectionClosedError):
        aws_client("iam").list_users()


def test_a_timeout_hangs_then_drops(aws_faults: FaultState, aws_client: AwsClientFactory) -> None:
    aws_faults.update(FaultSpec(timeout_rate=1, timeout_s=0.2))
    with pytest.raises(ConnectionClosedError):
        aws_client("iam", read_timeout=30).list_users()
    aws_faults.update(FaultSpec(timeout_rate=1, timeout_s=60))
    with pytest.raises(ReadTimeoutError):
        aws_client("iam", read_timeout=0.2).list_users()


def test_latency_delays_every_answer(aws_faults: FaultState, aws_client: AwsClientFactory) -> None:
    aws_faults.update(FaultSpec(latency_ms=5_000))
    with pytest.raises(ReadTimeoutError):
        aws_client("iam", read_timeout=0.2).list_users()
    aws_faults.update(FaultSpec())
    assert aws_client("iam").list_users()["Users"]


def test_put_faults_changes_them_live(
    lab: Lab, aws_faults: FaultState, aws_client: AwsClientFactory
) -> None:
    iam = aws_client("iam")
    assert iam.list_users()["Users"]
    report = set_faults(lab.settings, "aws", FaultSpec(throttle_rate=1))
    assert report["spec"]["throttle_rate"] == 1
    with pytest.raises(ClientError) as caught:
        iam.list_users()
    assert caught.value.response["Error"]["Code"] == "Throttling"
    # The control plane itself is never faulted.
    assert get_faults(lab.settings, "aws")["counts"]["throttle"] >= 1
    set_faults(lab.settings, "aws", FaultSpec())
    assert iam.list_users()["Users"]


def test_an_invalid_spec_is_refused_over_http(lab: Lab) -> None:
    with httpx.Client(verify=client_context(lab.ca_path), trust_env=False) as http:
        response = http.put(lab.control_urls["aws"] + "/faults", json={"reset_rate": -1})
    assert response.status_code == 400
    assert response.json()["problems"][0]["where"] == "reset_rate"


def test_set_faults_needs_a_lab_configuration(lab: Lab) -> None:
    with pytest.raises(LabError):
        set_faults(lab.settings, "okta", FaultSpec())
