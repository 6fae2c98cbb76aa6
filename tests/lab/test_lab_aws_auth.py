"""Authentication and authorisation in the AWS emulator, and reset between tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError

from agent_ir.lab.runner import Lab
from agent_ir.lab.tls import client_context

AwsClientFactory = Callable[..., Any]


def _error(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call()
    return dict(caught.value.response)


def _key_for(aws_client: AwsClientFactory, user: str) -> dict[str, str]:
    key = aws_client("iam").create_access_key(UserName=user)["AccessKey"]
    return {
        "aws_access_key_id": key["AccessKeyId"],
        "aws_secret_access_key": key["SecretAccessKey"],
    }


def test_an_unknown_key_is_refused(aws_client: AwsClientFactory) -> None:
    stranger = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "x" * 40}
    response = _error(aws_client("iam", credentials=stranger).list_users)
    assert response["Error"]["Code"] == "InvalidClientTokenId"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_a_wrong_secret_is_refused(lab: Lab, aws_client: AwsClientFactory) -> None:
    aws = lab.settings.providers.aws
    assert aws is not None and aws.shared_credentials_file is not None
    key_id = next(
        line.split("=", 1)[1].strip()
        for line in aws.shared_credentials_file.read_text().splitlines()
        if line.startswith("aws_access_key_id")
    )
    forged = {"aws_access_key_id": key_id, "aws_secret_access_key": "y" * 40}
    response = _error(aws_client("iam", credentials=forged).list_users)
    assert response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_an_inactive_key_is_refused_and_works_again_once_active(
    fresh_lab: Lab, aws_client: AwsClientFactory
) -> None:
    iam = aws_client("iam")
    iam.create_user(UserName="key-rotation-probe")
    iam.put_user_policy(
        UserName="key-rotation-probe",
        PolicyName="list",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "iam:List*", "Resource": "*"}],
            }
        ),
    )
    credentials = _key_for(aws_client, "key-rotation-probe")
    probe = aws_client("iam", credentials=credentials)
    assert probe.list_users()["Users"]

    key_id = credentials["aws_access_key_id"]
    iam.update_access_key(UserName="key-rotation-probe", AccessKeyId=key_id, Status="Inactive")
    response = _error(probe.list_users)
    assert response["Error"]["Code"] == "InvalidClientTokenId"
    assert response["Error"]["Message"] == "The security token included in the request is invalid."
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    sts_response = _error(aws_client("sts", credentials=credentials).get_caller_identity)
    assert sts_response["Error"]["Code"] == "InvalidClientTokenId"

    iam.update_access_key(UserName="key-rotation-probe", AccessKeyId=key_id, Status="Active")
    assert probe.list_users()["Users"]


def test_a_deny_all_user_is_denied(fresh_lab: Lab, aws_client: AwsClientFactory) -> None:
    credentials = _key_for(aws_client, "locked-out")
    response = _error(aws_client("iam", credentials=credentials).list_users)
    assert response["Error"]["Code"] == "AccessDenied"
    assert "locked-out" in response["Error"]["Message"]


def test_reset_restores_the_seeded_world(lab: Lab, aws_client: AwsClientFactory) -> None:
    iam = aws_client("iam")
    before_users = {u["UserName"] for u in iam.list_users()["Users"]}
    before_keys = iam.list_access_keys(UserName="invoice-agent")["AccessKeyMetadata"]
    try:
        iam.create_user(UserName="intruder")
        iam.detach_user_policy(
            UserName="invoice-agent", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess"
        )
        iam.update_access_key(
            UserName="invoice-agent", AccessKeyId=before_keys[0]["AccessKeyId"], Status="Inactive"
        )
    finally:
        lab.reset()
    # The same client (the responder's key survives a reset) sees the world as seeded.
    assert {u["UserName"] for u in iam.list_users()["Users"]} == before_users
    assert iam.list_access_keys(UserName="invoice-agent")["AccessKeyMetadata"] == before_keys
    attached = iam.list_attached_user_policies(UserName="invoice-agent")["AttachedPolicies"]
    assert "arn:aws:iam::aws:policy/ReadOnlyAccess" in {p["PolicyArn"] for p in attached}


def test_an_unsigned_request_is_refused(lab: Lab) -> None:
    with httpx.Client(verify=client_context(lab.ca_path), trust_env=False) as http:
        response = http.post(
            lab.endpoints["aws"],
            data={"Action": "ListUsers", "Version": "2010-05-08"},
        )
    assert response.status_code == 403
    assert "<Code>MissingAuthenticationToken</Code>" in response.text


def test_unsigned_federation_is_refused_as_not_emulated(aws_client: AwsClientFactory) -> None:
    sts = aws_client("sts", signature_version=UNSIGNED)
    response = _error(
        lambda: sts.assume_role_with_web_identity(
            RoleArn="arn:aws:iam::111111111111:role/service/invoice-processor",
            RoleSessionName="federated",
            WebIdentityToken="token-from-an-idp",
        )
    )
    assert response["Error"]["Code"] == "InvalidAction"
