"""The AWS emulator: moto's IAM and STS, called in-process behind the lab's HTTPS server.

moto's WSGI application (the one ``moto.server`` serves) answers every request, so boto3 and
the aws cli work against it unmodified. In front of it the lab adds what moto lacks:

* authentication and authorisation as AWS does them (:mod:`agent_ir.lab.aws_auth`):
  ``aws:TokenIssueTime`` per session, trust policies on every ``AssumeRole``, resources,
  permissions boundaries; requests signed with an **Inactive** access key are refused as IAM
  refuses them (403 ``InvalidClientTokenId``); moto's own checks stay off;
* unsigned requests get ``MissingAuthenticationToken`` (unsigned STS federation calls are
  refused as not emulated), and requests signed for services other than IAM, STS and S3
  (authorised only, never stored) are refused;
* moto's ``/moto-api`` back door is not exposed (AWS has none);
* fault answers in AWS's shape: throttling is HTTP 400 ``Throttling`` / ``Rate exceeded``
  (botocore retries it in every retry mode); errors are IAM's 500 ``ServiceFailure``, or
  503 ``ServiceUnavailable`` for STS; S3 answers 503 ``SlowDown`` and 500 ``InternalError``
  in its own ``<Error>`` body.

Starting seeds the world (see :mod:`agent_ir.lab.aws_seed`) with moto's authentication off.
moto keeps its state in process-wide globals, hence one AWS emulator per process.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from agent_ir.errors import LabError
from agent_ir.lab import aws_fast, aws_index
from agent_ir.lab.activity_world import ActivitySpec
from agent_ir.lab.aws_auth import AwsGate, Caller, form_params, s3_action, s3_error
from agent_ir.lab.aws_seed import REGION, ResponderCredentials, responder_role_arn, seed_world
from agent_ir.lab.aws_trail import (
    LOOKUP_TARGET,
    Recorder,
    Signer,
    Trail,
    cloudtrail_error,
    seed_history,
)
from agent_ir.lab.faults import FaultSpec
from agent_ir.lab.files import write_private
from agent_ir.lab.server import EmulatorServer, FaultShapes, LabRequest, LabResponse
from agent_ir.lab.tls import LabTLS
from agent_ir.lab.world import AwsWorld
from agent_ir.lab.wsgi import WsgiBridge

LAB_PROFILE = "agent-ir-lab"
CREDENTIALS_FILE = "aws-credentials"

_RANDOM_SEED = 20_250_101
_NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}
SERVICES = ("iam", "sts", "s3", "cloudtrail")
"""The AWS services the emulator answers for (S3 authorised only, see aws_auth; CloudTrail
``LookupEvents`` only, see aws_trail)."""

_UNSIGNED_ACTIONS = {"AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"}
_SIGNATURE_CREDENTIAL = re.compile(r"Credential=([A-Za-z0-9]+)/[^/,]*/[^/,]*/([a-z0-9-]+)/")

_active_lock = threading.Lock()
_active: AwsEmulator | None = None


class AwsEmulator:
    """IAM and STS for one world, served over the lab's TLS; see the module docstring."""

    provider = "aws"

    def __init__(
        self,
        world: AwsWorld,
        tls: LabTLS,
        *,
        now: datetime,
        faults: FaultSpec | None = None,
        activity: list[ActivitySpec] | None = None,
        world_name: str = "world",
    ) -> None:
        if not world.accounts:
            raise LabError("the AWS emulator needs at least one account in the world")
        self.world = world
        self.now = now
        self._initial_faults = faults or FaultSpec()
        self._gate = _Gate()
        self.auth = AwsGate(self.account_ids, lambda: datetime.now(UTC))
        self._moto: WsgiBridge | None = None
        self._responder: ResponderCredentials | None = None
        self._tls = tls
        self.activity = [(i, a) for i, a in enumerate(activity or []) if a.provider == "aws"]
        self.world_name = world_name
        self.trail = Trail(self.account_ids)
        self.recorder = Recorder(self.trail)
        self.server = EmulatorServer(
            "aws",
            self.handle,
            tls,
            shapes=AWS_SHAPES,
            faults=self._initial_faults,
            on_reset=self.reset,
        )

    @property
    def responder(self) -> ResponderCredentials:
        """The responder's credentials (only once started)."""
        if self._responder is None:
            raise LabError("the AWS emulator is not running")
        return self._responder

    @property
    def account_ids(self) -> list[str]:
        """The world's account ids; the first holds the responder."""
        return [account.id for account in self.world.accounts]

    def start(self) -> None:
        """Load moto, seed the world, switch authentication on and start serving."""
        global _active
        with _active_lock:
            if _active is not None:
                raise LabError(
                    "an AWS emulator is already running in this process (moto is global)"
                )
            _active = self
        try:
            self._moto = _load_moto()
            self._seed()
            _warm_models()
            self.server.start()
        except BaseException:
            self._release()
            raise

    def stop(self) -> None:
        """Stop serving, switch authentication off and wipe moto's state."""
        self.server.stop()
        self._release()

    def reset(self) -> None:
        """Restore the seeded world (same key ids and secrets) and the world's fault settings."""
        with self._gate.exclusive():
            self._seed()
        self.server.faults.update(self._initial_faults)

    def export_state(self) -> object:
        """moto's IAM and STS backends of the world's accounts, and the responder."""
        from moto.iam.models import iam_backends
        from moto.sts.models import sts_backends

        return {
            "iam": {a: iam_backends[a]["global"] for a in self.account_ids},
            "sts": {a: sts_backends[a]["global"] for a in self.account_ids},
            "responder": self.responder,
            "trail": self.trail.export(),
            "sources": self.recorder.export(),
        }

    def import_state(self, state: Any) -> None:
        """Serve the state of :meth:`export_state` instead of the seeded world."""
        from moto.iam.models import iam_backends
        from moto.sts.models import sts_backends

        with self._gate.exclusive():
            for backends, saved in ((iam_backends, state["iam"]), (sts_backends, state["sts"])):
                for account_id, backend in saved.items():
                    backends[account_id][backend.region_name] = backend
            self._responder = state["responder"]
            if "trail" in state:
                self.trail.restore(state["trail"])
                self.recorder.restore(state["sources"])
            # moto draws new ids (access keys, sessions) from one stream, seeded alike in
            # every process: going on from the seeded sequence would draw ids the saved
            # state already holds.
            _moto_api(self._moto, "/moto-api/seed", query=f"a={secrets.randbits(63)}")

    def handle(self, request: LabRequest) -> LabResponse:
        """The emulator app: refuse what AWS would refuse, hand the rest to moto."""
        moto = self._moto
        if moto is None or request.path.startswith("/moto-api"):
            return LabResponse.from_json(404, {"message": "Not Found"})
        signer = _signing_key(request)
        if signer is None:
            if _action(request) in _UNSIGNED_ACTIONS:
                # moto's authentication fails on these once it is on; say so plainly.
                return aws_error(400, "InvalidAction", "the lab does not emulate STS federation")
            return aws_error(
                403, "MissingAuthenticationToken", "Request is missing Authentication Token"
            )
        if signer is not None and signer[1] not in SERVICES:
            return aws_error(
                400, "InvalidAction", f"this endpoint serves {' and '.join(SERVICES)} only"
            )
        with self._gate.shared():
            answer, caller = self.auth.check(request, *signer)
            if caller is None:
                return answer or aws_error(403, "AccessDenied", "Access Denied")
            if signer[1] == "cloudtrail":
                return answer or self._cloudtrail(request, caller)
            fast = None
            if answer is None and signer[1] == "iam":
                fast = aws_fast.answer(_iam_backend(caller.account), form_params(request))
            response = answer or fast or _plain_error(moto(request, self.server.port), signer[1])
            if not self._is_responder(caller):
                self._record(request, signer[1], caller, response)
            return response

    def _cloudtrail(self, request: LabRequest, caller: Caller) -> LabResponse:
        """CloudTrail's JSON protocol: only ``LookupEvents`` (event history)."""
        if request.header("X-Amz-Target") != LOOKUP_TARGET:
            return cloudtrail_error(400, "UnknownOperationException", "not emulated")
        try:
            body = request.json() if request.body else {}
        except ValueError:
            return cloudtrail_error(400, "SerializationException", "body is not JSON")
        if not isinstance(body, dict):
            return cloudtrail_error(400, "SerializationException", "body is not an object")
        return self.trail.lookup(caller.account, body)

    def _is_responder(self, caller: Caller) -> bool:
        """The console's own calls are not the story the trail tells."""
        responder = self._responder
        if responder is None:
            return False
        if caller.arn == responder.user_arn:
            return True
        return caller.role is not None and caller.role.arn == responder_role_arn(caller.account)

    def _record(
        self, request: LabRequest, service: str, caller: Caller, response: LabResponse
    ) -> None:
        if service == "s3":
            action, resource = s3_action(request)
            parameters: dict[str, str] = {}
            action = "ListBuckets" if action == "ListAllMyBuckets" else action
        else:
            parameters = form_params(request)
            action = parameters.pop("Action", "")
            parameters.pop("Version", None)
            resource = parameters.get("RoleArn", "") if action == "AssumeRole" else ""
        self.recorder.call(
            caller, service, action, resource, parameters, response, datetime.now(UTC)
        )

    def provider_settings(self, directory: Path) -> dict[str, Any]:
        """Write the responder's credentials file and return the ``providers.aws`` settings."""
        responder = self.responder
        write_private(
            directory / CREDENTIALS_FILE,
            f"[{LAB_PROFILE}]\n"
            f"aws_access_key_id = {responder.access_key_id}\n"
            f"aws_secret_access_key = {responder.secret_access_key}\n",
        )
        return {
            "profile": LAB_PROFILE,
            "shared_credentials_file": CREDENTIALS_FILE,
            "endpoint_url": self.server.base_url,
            "ca_bundle": self._tls.ca_path.name,
            "region": REGION,
            "accounts": [
                {"id": account_id, "role_arn": responder_role_arn(account_id)}
                for account_id in self.account_ids[1:]
            ],
        }

    def _seed(self) -> None:
        _moto_api(self._moto, "/moto-api/reset-auth", b"inf")
        _moto_api(self._moto, "/moto-api/reset")
        _moto_api(self._moto, "/moto-api/seed", query=f"a={_RANDOM_SEED}")
        self._responder = seed_world(self.world, self.now, self._responder)
        self.trail.clear()
        self.recorder.clear()
        seed_history(self.trail, self.activity, self._signers(), self.now, self.world_name)
        # moto's own authentication stays off: the lab's gate (aws_auth) authenticates and
        # authorises every request before moto sees it.

    def _signers(self) -> dict[str, Signer]:
        """Every seeded user (with its first active key) and role, by ARN."""
        from moto.iam.models import iam_backends

        signers: dict[str, Signer] = {}
        for account in self.account_ids:
            backend = iam_backends[account]["global"]
            for user in backend.users.values():
                keys = [k for k in user.access_keys if k.status == "Active"]
                key_id = keys[0].access_key_id if keys else ""
                signers[user.arn] = Signer(account, user.arn, user.id, key_id)
            for role in backend.roles.values():
                signers[role.arn] = Signer(account, role.arn, role.id)
        return signers

    def _release(self) -> None:
        global _active
        moto, self._moto = self._moto, None
        if moto is not None:
            _moto_api(moto, "/moto-api/reset-auth", b"inf")
            _moto_api(moto, "/moto-api/reset")
        with _active_lock:
            if _active is self:
                _active = None


def aws_error(status: int, code: str, message: str, service: str = "iam") -> LabResponse:
    """An AWS query-protocol (IAM/STS) XML error response."""
    request_id = str(uuid.uuid4())
    kind = "Receiver" if status >= 500 else "Sender"
    namespace = _NAMESPACES.get(service, _NAMESPACES["iam"])
    body = (
        f'<ErrorResponse xmlns="{namespace}">'
        f"<Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return LabResponse.from_text(status, body, "text/xml", [("x-amzn-RequestId", request_id)])


def _plain_error(response: LabResponse, service: str) -> LabResponse:
    """moto's query-protocol error, as IAM and STS send it: moto's error bodies carry a
    lower-case ``<message>`` beside ``<Message>``, an element the service models do not
    have (tests/conformance/test_aws_conformance.py)."""
    if response.status < 300 or b"<message>" not in response.body:
        return response
    try:
        root = ET.fromstring(response.body)
    except ET.ParseError:
        return response
    fields = {el.tag.rpartition("}")[2]: el.text or "" for el in root.iter()}
    if "Code" not in fields:
        return response
    message = fields.get("Message") or fields.get("message", "")
    return aws_error(response.status, fields["Code"], escape(message), service)


def _fault_error(request: LabRequest) -> LabResponse:
    service = _service_of(request)
    if service == "s3":
        return s3_error(500, "InternalError", "We encountered an internal error. Please try again.")
    if service == "sts":
        return aws_error(503, "ServiceUnavailable", "Service is unable to handle request.", service)
    return aws_error(
        500,
        "ServiceFailure",
        "The request processing has failed because of an unknown error, exception or failure.",
        service,
    )


def _fault_throttle(request: LabRequest, spec: FaultSpec) -> LabResponse:
    if _service_of(request) == "s3":
        return s3_error(503, "SlowDown", "Please reduce your request rate.")
    return aws_error(400, "Throttling", "Rate exceeded", _service_of(request))


AWS_SHAPES = FaultShapes(error=_fault_error, throttle=_fault_throttle)
"""How AWS answers injected faults."""


def _signing_key(request: LabRequest) -> tuple[str, str] | None:
    """The access key id and service a SigV4 request was signed with (header or presigned)."""
    authorization = request.header("Authorization")
    if authorization:
        match = _SIGNATURE_CREDENTIAL.search(authorization)
        return (match.group(1), match.group(2)) if match else None
    credential = request.query_params.get("X-Amz-Credential")
    if credential:
        parts = credential[0].split("/")
        if len(parts) >= 4:
            return parts[0], parts[3]
    return None


def _action(request: LabRequest) -> str | None:
    """The query-protocol ``Action`` of a request, from its form body or its query string."""
    params = request.query_params
    if (request.header("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
        params = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
    actions = params.get("Action")
    return actions[0] if actions else None


def _service_of(request: LabRequest) -> str:
    signer = _signing_key(request)
    return signer[1] if signer else "iam"


def _load_moto() -> WsgiBridge:
    """Import moto (the slow part of starting) and bridge to its WSGI dispatcher."""
    try:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    except ImportError as exc:
        raise LabError("the lab needs the 'lab' extra: pip install 'agent-ir[lab]'") from exc
    for name in ("werkzeug", "moto", "flask"):
        logging.getLogger(name).setLevel(logging.ERROR)
    aws_index.install()
    direct = {service: create_backend_app(service) for service in ("iam", "sts")}
    return WsgiBridge(_ByService(DomainDispatcherApplication(create_backend_app), direct))


def _iam_backend(account: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account]["aws"]


class _ByService:
    """moto's dispatcher, skipped for IAM and STS: the signature names the service, so
    the request goes straight to that service's app. moto's dispatcher guesses the
    service from the host and body under one process-wide lock, which serialised every
    request (the largest share of the emulator's time in a 10,000-agent inventory)."""

    def __init__(self, fallback: Any, direct: dict[str, Any]) -> None:
        self.fallback = fallback
        self.direct = direct

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        match = _SIGNATURE_CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        app = self.direct.get(match.group(2)) if match else None
        return (app or self.fallback)(environ, start_response)


def _moto_api(moto: WsgiBridge | None, path: str, body: bytes = b"", query: str = "") -> None:
    """POST to one of moto's own ``/moto-api`` endpoints, in-process."""
    if moto is None:
        raise LabError("the AWS emulator is not running")
    response = moto(LabRequest("POST", path, query, (), body))
    if response.status != 200:
        raise LabError(f"moto refused {path}: {response.status} {response.body[:200]!r}")


class _Gate:
    """Many requests at once, or one reset alone."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._active = 0
        self._exclusive = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._condition:
            self._condition.wait_for(lambda: not self._exclusive)
            self._active += 1
        try:
            yield
        finally:
            with self._condition:
                self._active -= 1
                self._condition.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._condition:
            self._condition.wait_for(lambda: not self._exclusive)
            self._exclusive = True
            self._condition.wait_for(lambda: self._active == 0)
        try:
            yield
        finally:
            with self._condition:
                self._exclusive = False
                self._condition.notify_all()


def _warm_models() -> None:
    """Load what moto loads on the first request of each IAM and STS action (the service
    models and every operation's shapes), before serving: real IAM has no cold start, and
    here the first round of eight concurrent reads took 0.5 s (each thread loading the
    same models at once) against 0.03 s for the next round."""
    from moto.core.utils import get_pagination_model, get_service_model

    for service in ("iam", "sts"):
        model = get_service_model(service)
        for name in model.operation_names:
            operation = model.operation_model(name)
            for shape in (operation.input_shape, operation.output_shape):
                if shape is not None:
                    _ = shape.members if shape.type_name == "structure" else None
    get_pagination_model("iam")
