"""Every request the AWS adapter (and the tabletop probe) sends to the lab, and every answer
the lab gives, checked against botocore's service models for IAM, STS and S3: the
operation exists for the service and API version, the parameters rebuild into its input
shape and pass botocore's validator, and the answer parses with botocore's parser for the
protocol with no element the output shape lacks; error codes are modelled for the
operation or documented common errors, with their documented HTTP status
(:mod:`tests.conformance.aws_model` keeps the list and where each is documented).

moto's answers are shaped by the same models; what this guards is the lab's own part in
front of moto (:mod:`agent_ir.lab.aws_auth`: SigV4, the inactive-key refusal, expired
sessions, policy denials and trust, ``GetCallerIdentity``, S3 authorisation) and the fault
answers of :mod:`agent_ir.lab.aws`. Besides the adapter's story (discovery, show,
contain-agent with the probe before and after, scope-down, each restored), the run sends
what makes the lab refuse: an inactive key, a wrong secret, an unknown key, an expired
session, an action the lab does not evaluate, an unsigned call, denied and allowed S3
calls, and injected throttling and errors for each service. The report is printed and
written to ``$AGENT_IR_CONFORMANCE_DIR/aws.md`` when set.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore import xform_name
from botocore.exceptions import ClientError

from agent_ir.activity.model import ActivityWindow
from agent_ir.activity.timeline import build_timeline
from agent_ir.engine.incident import execute, plan_for, restore
from agent_ir.engine.inventory import Engine
from agent_ir.lab.aws_seed import responder_role_arn
from agent_ir.lab.faults import FaultSpec
from agent_ir.lab.runner import Lab
from agent_ir.lab.server import LabRequest, LabResponse
from agent_ir.providers import aws as aws_provider
from agent_ir.providers.aws.adapter import AwsProvider
from agent_ir.providers.base import ProviderContext, utcnow
from agent_ir.tabletop.probe_aws import AwsProbe, secret_of
from tests.conformance import aws_model
from tests.conformance.recording import (
    FAST,
    WHO,
    Recorded,
    Recorder,
    Report,
    contain_and_restore,
    playbook,
)

AwsClientFactory = Callable[..., Any]
HOME, OTHER = "111111111111", "222222222222"
AGENT = "invoice-agent"
ADAPTER_SOURCE = "".join(p.read_text() for p in Path(aws_provider.__file__).parent.rglob("*.py"))
"""The AWS adapter's source: every IAM/STS client method it names must have been sent."""


def _refused(call: Callable[[], Any]) -> str:
    """The error code of a call the lab must refuse."""
    with pytest.raises(ClientError) as caught:
        call()
    return str(caught.value.response["Error"]["Code"])


def _risky(client: AwsClientFactory) -> None:
    """Give the agent's user an admin policy and its role a wildcard inline one, so that
    scope-down detaches and deletes both kinds (the session's lab is reset afterwards)."""
    iam = client("iam")
    iam.attach_user_policy(UserName=AGENT, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    wildcard = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
    iam.put_role_policy(
        RoleName="invoice-processor", PolicyName="everything", PolicyDocument=wildcard
    )


async def _doctor(lab: Lab) -> None:
    """The adapter's self-check, as the responder's user and through a role session."""
    settings = lab.settings.providers.aws
    assert settings is not None
    for update in ({}, {"role_arn": responder_role_arn(OTHER), "accounts": []}):
        adapter = AwsProvider(settings.model_copy(update=update), ProviderContext())
        try:
            await adapter.check([])
        finally:
            await adapter.aclose()


async def _story(lab: Lab, work: Path) -> None:
    """The adapter's traffic: discovery, show, contain-agent with locked trust (probed
    before and after, so held sessions are refused), scope-down, cut-delegation, each
    restored, and the adapter's self-check."""
    await _doctor(lab)
    engine = Engine(lab.settings.model_copy(update={"journal_dir": work / "journal"}), clock=utcnow)
    try:
        inventory = await engine.inventory()
        await engine.show(AGENT)
        probe = AwsProbe(lab)
        probe.arm(inventory, AGENT)
        await asyncio.to_thread(probe.check, set())
        plan = await plan_for(engine, AGENT, playbook("contain-agent"), {"lock_trust": True})
        outcome = await execute(engine, plan, WHO, tuning=FAST)
        await asyncio.to_thread(probe.check, set())
        await restore(engine, outcome.incident, WHO, tuning=FAST)
        await contain_and_restore(engine, AGENT, playbook("scope-down"))
        book = playbook("cut-delegation")
        plan = await plan_for(engine, AGENT, book, {"from": AGENT, "to": "invoice-processor"})
        outcome = await execute(engine, plan, WHO, tuning=FAST)
        await restore(engine, outcome.incident, WHO, tuning=FAST)
        # the activity reader: CloudTrail LookupEvents (JSON protocol)
        now = datetime.now(UTC)
        window = ActivityWindow(now - timedelta(days=3), now, 200)
        timeline = await build_timeline(engine, AGENT, window, ["aws"])
        assert timeline.statuses[0].state == "answered", timeline.statuses
    finally:
        await engine.aclose()


def _refusals(lab: Lab, client: AwsClientFactory) -> None:
    """The lab's own answers in front of moto: every refusal it makes, and its faults."""
    keys = client("iam").list_access_keys(UserName=AGENT)["AccessKeyMetadata"]
    by_status = {k["Status"]: k["AccessKeyId"] for k in keys}

    def creds(key_id: str, secret: str, token: str | None = None) -> dict[str, str]:
        out = {"aws_access_key_id": key_id, "aws_secret_access_key": secret}
        return out | ({"aws_session_token": token} if token else {})

    inactive = by_status["Inactive"]
    active = by_status["Active"]
    secret = secret_of(HOME, active) or ""
    refusals = {
        "inactive key": (
            lambda: client(
                "sts", creds(inactive, secret_of(HOME, inactive) or "")
            ).get_caller_identity(),
            "InvalidClientTokenId",
        ),
        "unknown key": (
            lambda: client("iam", creds("AKIAAAAAAAAAAAAAAAAA", "x" * 40)).list_users(),
            "InvalidClientTokenId",
        ),
        "wrong secret": (
            lambda: client("iam", creds(active, "y" * 40)).get_user(),
            "SignatureDoesNotMatch",
        ),
        "not evaluated": (
            lambda: client("iam").list_open_id_connect_providers(),
            "AccessDenied",
        ),
        "denied by policy": (
            lambda: client("iam", creds(active, secret)).delete_user(UserName="alice"),
            "AccessDenied",
        ),
        "S3 denied": (
            lambda: client("s3", creds(*_loader_key(client))).list_buckets(),
            "AccessDenied",
        ),
        "S3 no bucket": (
            lambda: client("s3", creds(active, secret)).get_object(Bucket="b", Key="k"),
            "NoSuchBucket",
        ),
        "S3 unknown key": (
            lambda: client("s3", creds("AKIAAAAAAAAAAAAAAAAA", "x" * 40)).list_buckets(),
            "InvalidAccessKeyId",
        ),
        "S3 wrong secret": (
            lambda: client("s3", creds(active, "y" * 40)).list_buckets(),
            "SignatureDoesNotMatch",
        ),
    }
    failed = {}
    for what, (call, code) in refusals.items():
        got = _refused(call)
        if got != code:
            failed[what] = got
    client("s3", creds(active, secret)).list_buckets()
    sts = client("sts", creds(active, secret))
    role = f"arn:aws:iam::{HOME}:role/service/invoice-processor"
    session = sts.assume_role(RoleArn=role, RoleSessionName="conformance")["Credentials"]
    held = creds(session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"])
    gate = lab.emulators["aws"].auth  # type: ignore[attr-defined]
    clock = gate.clock
    gate.clock = lambda: clock() + timedelta(hours=13)
    try:
        for service, call in (
            ("sts", lambda: client("sts", held).get_caller_identity()),
            ("s3", lambda: client("s3", held).list_buckets()),
        ):
            got = _refused(call)
            if got != "ExpiredToken":
                failed[f"{service} expired session"] = got
    finally:
        gate.clock = clock
    failed |= _unsigned(lab)
    failed |= _faults(lab, client, creds(active, secret))
    assert not failed, f"the lab answered other codes than expected: {failed}"


def _loader_key(client: AwsClientFactory) -> tuple[str, str]:
    """The access key of the other account's ``data-loader`` (no policy: S3 is denied)."""
    from moto.iam.models import iam_backends

    user = iam_backends[OTHER]["global"].users["data-loader"]
    key = user.access_keys[0]
    return key.access_key_id, key.secret_access_key


def _unsigned(lab: Lab) -> dict[str, str]:
    """Unsigned calls: refused as missing a token, federation as not emulated."""
    aws = lab.settings.providers.aws
    assert aws is not None and aws.endpoint_url and aws.ca_bundle
    context = ssl.create_default_context(cafile=str(aws.ca_bundle))
    failed = {}
    for action, code in (
        ("GetCallerIdentity", "MissingAuthenticationToken"),
        ("AssumeRoleWithWebIdentity", "InvalidAction"),
    ):
        extra = "&RoleArn=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Fr&RoleSessionName=conformance"
        extra += "&WebIdentityToken=not-a-token" if action == "AssumeRoleWithWebIdentity" else ""
        data = f"Action={action}&Version=2011-06-15{extra if 'Web' in action else ''}".encode()
        request = urllib.request.Request(aws.endpoint_url, data=data, method="POST")
        request.add_header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
        try:
            urllib.request.urlopen(request, context=context, timeout=30)
            failed[f"unsigned {action}"] = "answered"
        except urllib.error.HTTPError as exc:
            body = exc.read().decode()
            if f"<Code>{code}</Code>" not in body:
                failed[f"unsigned {action}"] = body[:200]
    return failed


def _faults(lab: Lab, client: AwsClientFactory, creds: dict[str, str]) -> dict[str, str]:
    """One injected throttle and one injected error per service, without retries."""
    state = lab.faults["aws"]
    failed = {}
    calls = {
        "iam": lambda: client("iam").list_access_keys(UserName=AGENT),
        "sts": lambda: client("sts").get_caller_identity(),
        "s3": lambda: client("s3", creds).list_buckets(),
    }
    try:
        for spec, expected in (
            (
                FaultSpec(throttle_rate=1),
                {"iam": "Throttling", "sts": "Throttling", "s3": "SlowDown"},
            ),
            (
                FaultSpec(error_rate=1),
                {"iam": "ServiceFailure", "sts": "ServiceUnavailable", "s3": "InternalError"},
            ),
        ):
            for service, call in calls.items():
                state.update(spec)
                try:
                    got = _refused(call)
                finally:
                    state.update(FaultSpec())
                if got != expected[service]:
                    failed[f"{service} fault"] = got
    finally:
        state.update(FaultSpec())
    return failed


@pytest.fixture(scope="module")
def traffic(
    lab: Lab, aws_client: AwsClientFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Recorded]]:
    server = lab.emulators["aws"].server
    recorder = Recorder(server.app)
    shapes = server.shapes

    def error(request: LabRequest) -> LabResponse:
        response = shapes.error(request)
        recorder.record(request, response)
        return response

    def throttle(request: LabRequest, spec: FaultSpec) -> LabResponse:
        response = shapes.throttle(request, spec)
        recorder.record(request, response)
        return response

    server.app, server.shapes = recorder, replace(shapes, error=error, throttle=throttle)
    try:
        _risky(aws_client)
        asyncio.run(_story(lab, tmp_path_factory.mktemp("aws-conformance")))
        _refusals(lab, aws_client)
        yield recorder.exchanges
    finally:
        server.app, server.shapes = recorder.app, shapes
        lab.reset()


def _key(matched: aws_model.Matched) -> str:
    service = matched.service
    http = matched.operation.http
    where = (
        f"{http.get('method')} {http.get('requestUri')}"
        if service.protocol == "rest-xml"
        else "POST /"
    )
    return f"{service.service_name} {service.api_version} {matched.operation.name} ({where})"


def check(exchange: Recorded, report: Report) -> str | None:
    """Add one exchange to the report; returns its operation's client method name."""
    matched = aws_model.match(exchange)
    if matched is None:
        action = aws_model.form(exchange).get("Action", [""])[0]
        report.add(f"{exchange.verb} {exchange.path} {action}", ["no botocore operation matches"])
        return None
    problems = matched.problems + aws_model.response_problems(matched, exchange)
    outcome = "ok" if exchange.status < 300 else _code(exchange)
    report.add(f"{_key(matched)} → {outcome}", problems)
    return xform_name(matched.operation.name)


def _code(exchange: Recorded) -> str:
    found = re.search(rb"<Code>([^<]+)</Code>", exchange.raw_body)
    return f"{exchange.status} {found.group(1).decode() if found else '?'}"


UNSENT_GROUP_READS = {"list_group_policies", "list_attached_group_policies", "get_group_policy"}


def test_every_aws_route_conforms_to_the_botocore_models(
    traffic: list[Recorded], tmp_path_factory: pytest.TempPathFactory
) -> None:
    report = Report("AWS")
    sent = {name for exchange in traffic if (name := check(exchange, report))}
    text = report.write(tmp_path_factory)
    assert len(report.routes) >= 30, text
    assert not report.failing(), text
    names = {
        xform_name(op)
        for service in ("iam", "sts", "cloudtrail")
        for op in aws_model.model(service).operation_names
    }
    used = {n for n in names if re.search(rf"[.\"']{n}\b", ADAPTER_SOURCE)}
    assert len(used) >= 20, used
    # The scoped read asks for a user's group policies only when the user is in a group,
    # and the lab's worlds declare no IAM groups: those three reads go unsent (moto
    # answers them, in botocore's shapes, and the lab adds nothing to them).
    used -= UNSENT_GROUP_READS
    assert used <= sent, f"client methods the adapter calls but the run never sent: {used - sent}"
    codes = {k.rpartition("→ ")[2] for k in report.routes}
    for code in (
        "403 InvalidClientTokenId",
        "403 SignatureDoesNotMatch",
        "403 ExpiredToken",
        "403 AccessDenied",
        "400 Throttling",
        "500 ServiceFailure",
        "503 ServiceUnavailable",
        "503 SlowDown",
        "403 MissingAuthenticationToken",
    ):
        assert code in codes, f"{code} never answered: {sorted(codes)}"


def test_the_checks_catch_what_the_models_do_not_allow() -> None:
    def exchange(body: bytes, status: int = 200, request: bytes = b"") -> Recorded:
        form = request or b"Action=GetCallerIdentity&Version=2011-06-15"
        return Recorded(
            "POST",
            "/",
            {},
            None,
            status,
            None,
            "",
            body,
            [],
            [
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/sts/aws4_request",
                )
            ],
            form,
        )

    good = (
        b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        b"<GetCallerIdentityResult><Arn>a</Arn><UserId>u</UserId><Account>1</Account>"
        b"</GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId>"
        b"</ResponseMetadata></GetCallerIdentityResponse>"
    )
    matched = aws_model.match(exchange(good))
    assert matched is not None and not matched.problems
    assert aws_model.response_problems(matched, exchange(good)) == []
    extra = good.replace(b"<Account>1</Account>", b"<Account>1</Account><Colour>red</Colour>")
    assert aws_model.response_problems(matched, exchange(extra)) == [
        "GetCallerIdentityResult.Colour: not a member of GetCallerIdentityResponse"
    ]
    error = (
        b"<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchThing</Code><Message>m</Message>"
        b"</Error><RequestId>r</RequestId></ErrorResponse>"
    )
    assert "neither modelled" in aws_model.response_problems(matched, exchange(error, 403))[0]
    wrong_status = error.replace(b"NoSuchThing", b"InvalidClientTokenId")
    assert aws_model.response_problems(matched, exchange(wrong_status, 400)) == [
        "error InvalidClientTokenId: HTTP 400, documented 403"
    ]
    unknown = aws_model.match(
        exchange(good, request=b"Action=GetCallerIdentity&Version=2011-06-15&Colour=red")
    )
    assert unknown is not None and unknown.problems == [
        "request parameter Colour is not in the input shape"
    ]
