"""The two reads an AWS inventory makes once per user and per key, answered by the lab.

An inventory of 10,000 agents sends about one ``ListAccessKeys`` per user and one
``GetAccessKeyLastUsed`` per key; through moto's Flask app, its dispatcher and its
serializer, each cost the emulator far more than the lookup itself (four fifths of its
time in a profile). Here both are answered straight from moto's state (one dictionary
lookup, counted in :data:`~agent_ir.lab.aws_index.WORK`), in the XML moto (and IAM) sends. Anything unusual (no such user or key, a missing parameter) goes on to
moto, so errors keep moto's shapes.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from agent_ir.lab.aws_index import WORK
from agent_ir.lab.server import LabResponse

IAM_NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/"
ACTIONS = frozenset({"ListAccessKeys", "GetAccessKeyLastUsed"})


def answer(backend: Any, params: Mapping[str, str]) -> LabResponse | None:
    """IAM's reply to ``params`` (a form body) from ``backend``, or None for moto to give."""
    action = params.get("Action")
    if action == "ListAccessKeys":
        return _list_access_keys(backend, params.get("UserName", ""))
    if action == "GetAccessKeyLastUsed":
        return _last_used(backend, params.get("AccessKeyId", ""))
    return None


def _list_access_keys(backend: Any, user_name: str) -> LabResponse | None:
    user = backend.users.get(user_name) if user_name else None
    WORK.add(1)
    if user is None:
        return None
    members = "".join(
        f"<member><UserName>{escape(user_name)}</UserName>"
        f"<AccessKeyId>{key.access_key_id}</AccessKeyId><Status>{key.status}</Status>"
        f"<CreateDate>{_timestamp(key.create_date)}</CreateDate></member>"
        for key in user.access_keys
    )
    return _reply("ListAccessKeys", f"<AccessKeyMetadata>{members}</AccessKeyMetadata>")


def _last_used(backend: Any, key_id: str) -> LabResponse | None:
    key = backend.access_keys.get(key_id) if key_id else None
    WORK.add(1)
    if key is None or key.user_name not in backend.users:
        return None  # moto looks in the other accounts too, and words the error
    used = key.last_used
    if used is None:
        detail = "<ServiceName>N/A</ServiceName><Region>N/A</Region>"
    else:
        detail = (
            f"<LastUsedDate>{_timestamp(used.timestamp)}</LastUsedDate>"
            f"<ServiceName>{escape(used.service)}</ServiceName>"
            f"<Region>{escape(used.region)}</Region>"
        )
    return _reply(
        "GetAccessKeyLastUsed",
        f"<UserName>{escape(key.user_name)}</UserName>"
        f"<AccessKeyLastUsed>{detail}</AccessKeyLastUsed>",
    )


def _reply(action: str, result: str) -> LabResponse:
    request_id = str(uuid.uuid4())
    body = (
        f'<{action}Response xmlns="{IAM_NAMESPACE}"><{action}Result>{result}</{action}Result>'
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    )
    return LabResponse.from_text(200, body, "text/xml", [("x-amzn-RequestId", request_id)])


def _timestamp(value: datetime) -> str:
    """As moto writes one: UTC, ``Z``, microseconds when there are any."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    pattern = "%Y-%m-%dT%H:%M:%S.%fZ" if value.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return value.strftime(pattern)
