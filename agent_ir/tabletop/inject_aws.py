"""AWS changes an attacker makes during an exercise: a new access key for an IAM user, or a
new IAM user with its own key (a spawned sub-agent), made through boto3 as the lab's
responder."""

from __future__ import annotations

from typing import Any, cast

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from agent_ir.engine.inventory import Inventory
from agent_ir.errors import LabError
from agent_ir.lab.aws_seed import responder_role_arn
from agent_ir.lab.runner import Lab
from agent_ir.tabletop.model import Change, NewAccessKey, SpawnSubAgent
from agent_ir.tabletop.probe_aws import AccessKey, AwsProbe

KEYS_PER_USER = 2
"""IAM's quota of access keys per user."""


def apply(lab: Lab, inventory: Inventory, part: AwsProbe, change: Change) -> str:
    """Make one AWS change; the probe holds the key it creates."""
    if isinstance(change, NewAccessKey):
        key = new_access_key(lab, change.user, change.account)
        part.add_key(key)
        part.learn_chains(inventory, key.user_arn)
        text = change.text or f"the attacker creates a new access key for {change.user}"
        return f"{text} ({key.label})"
    if isinstance(change, SpawnSubAgent):
        key = spawn_user(lab, change.name, change.parent)
        part.add_key(key)
        text = change.text or f"the attacker creates the IAM user {change.name} for itself"
        return f"{text} ({key.label})"
    raise LabError(f"the change {change.change} cannot be made in AWS")


def _iam(lab: Lab, account: str | None) -> Any:
    emulator = cast(Any, lab.emulators.get("aws"))
    settings = lab.settings.providers.aws
    if emulator is None or settings is None:
        raise LabError("the lab runs no AWS emulator")
    responder = emulator.responder
    endpoint = settings.endpoint_url
    verify = str(settings.ca_bundle) if settings.ca_bundle else None

    def client(service: str, key: str, secret: str, token: str | None = None) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name="us-east-1",
            endpoint_url=endpoint,
            verify=verify,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
        )

    iam = client("iam", responder.access_key_id, responder.secret_access_key)
    if account is not None and account != responder.account_id:
        sts = client("sts", responder.access_key_id, responder.secret_access_key)
        role = responder_role_arn(account)
        got = sts.assume_role(RoleArn=role, RoleSessionName="tabletop")["Credentials"]
        iam = client("iam", got["AccessKeyId"], got["SecretAccessKey"], got["SessionToken"])
    return iam


def new_access_key(lab: Lab, user: str, account: str | None) -> AccessKey:
    """Create an access key for an IAM user. When the user already holds IAM's quota of
    two keys, the oldest is deleted first, as an attacker would make room."""
    try:
        iam = _iam(lab, account)
        held = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        if len(held) >= KEYS_PER_USER:
            oldest = min(held, key=lambda k: k["CreateDate"])
            iam.delete_access_key(UserName=user, AccessKeyId=oldest["AccessKeyId"])
        made = iam.create_access_key(UserName=user)["AccessKey"]
        arn = iam.get_user(UserName=user)["User"]["Arn"]
    except (ClientError, BotoCoreError) as exc:
        raise LabError(f"cannot create an access key for {user}: {exc}") from exc
    return AccessKey(str(arn), str(made["AccessKeyId"]), str(made["SecretAccessKey"]))


def spawn_user(lab: Lab, name: str, account: str | None) -> AccessKey:
    """Create the IAM user ``name`` with an inline allow-all policy and an access key, as
    an agent would make itself a helper; an existing user of that name is refused."""
    policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
    try:
        iam = _iam(lab, account)
        arn = iam.create_user(UserName=name)["User"]["Arn"]
        iam.put_user_policy(UserName=name, PolicyName="worker", PolicyDocument=policy)
        made = iam.create_access_key(UserName=name)["AccessKey"]
    except (ClientError, BotoCoreError) as exc:
        raise LabError(f"cannot create the IAM user {name}: {exc}") from exc
    return AccessKey(str(arn), str(made["AccessKeyId"]), str(made["SecretAccessKey"]))
