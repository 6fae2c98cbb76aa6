"""The AWS emulator: moto's IAM and STS, called in-process behind the lab's HTTPS server.

moto's WSGI application (the one ``moto.server`` serves) answers every request, so boto3 and
the aws cli work against it unmodified. In front of it the lab adds what moto lacks:

* requests signed with an **Inactive** access key are refused like IAM does
  (403 ``InvalidClientTokenId``); moto itself never looks at a key's status;
* moto's ``/moto-api`` back door is not exposed (real AWS has none);
* fault answers in AWS's shape: throttling is HTTP 400 ``Throttling`` / ``Rate exceeded``
  (botocore retries it in every retry mode), errors are IAM's 500 ``ServiceFailure``
  (503 ``ServiceUnavailable`` for STS).

The world is seeded straight into moto's backends, the only way to date access keys and
their last use. Then the responder identity is added: user ``agent-ir-responder`` (allowed
everything) in the first account, and in every other account a role ``AgentIRResponder``
whose trust policy names that user's exact ARN (moto matches trust principals literally).
Finally moto's request authentication is switched on, so unknown keys, wrong secrets and
denied actions fail as they would on AWS.

moto keeps its state in process-wide globals, hence one AWS emulator per process.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import re
import secrets
import string
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

from agent_ir.errors import LabError, Problem, WorldError
from agent_ir.lab.faults import FaultSpec
from agent_ir.lab.server import EmulatorServer, FaultShapes, LabRequest, LabResponse
from agent_ir.lab.tls import LabTLS
from agent_ir.lab.world import AccessKeySpec, AccountSpec, AwsWorld, RoleSpec, UserSpec

RESPONDER_USER = "agent-ir-responder"
RESPONDER_ROLE = "AgentIRResponder"
RESPONDER_POLICY = "AgentIRResponderAdmin"
LAB_PROFILE = "agent-ir-lab"
CREDENTIALS_FILE = "aws-credentials"
REGION = "us-east-1"

_ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
_RANDOM_SEED = 20_250_101
_NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}
_SIGNATURE_CREDENTIAL = re.compile(r"Credential=([A-Za-z0-9]+)/[^/,]*/[^/,]*/([a-z0-9-]+)/")
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"

log = logging.getLogger(__name__)

_active_lock = threading.Lock()
_active: AwsEmulator | None = None


@dataclass(frozen=True, slots=True)
class ResponderCredentials:
    """The console's own identity in the lab: an IAM user's access key in the first account."""

    account_id: str
    user_arn: str
    access_key_id: str
    secret_access_key: str = field(repr=False)


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
    ) -> None:
        if not world.accounts:
            raise LabError("the AWS emulator needs at least one account in the world")
        self.world = world
        self.now = now
        self._initial_faults = faults or FaultSpec()
        self._gate = _Gate()
        self._moto: _MotoApp | None = None
        self._responder: ResponderCredentials | None = None
        self._tls = tls
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
            self._moto = _MotoApp.load()
            self._seed()
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

    def handle(self, request: LabRequest) -> LabResponse:
        """The emulator app: refuse what AWS would refuse, hand the rest to moto."""
        moto = self._moto
        if moto is None or request.path.startswith("/moto-api"):
            return LabResponse.from_json(404, {"message": "Not Found"})
        signer = _signing_key(request)
        with self._gate.shared():
            if signer is not None and self._key_is_inactive(signer[0]):
                return aws_error(
                    403,
                    "InvalidClientTokenId",
                    "The security token included in the request is invalid.",
                    signer[1],
                )
            return moto.call(request, self.server.port)

    def provider_settings(self, directory: Path) -> dict[str, Any]:
        """Write the responder's credentials file and return the ``providers.aws`` settings."""
        responder = self.responder
        _write_private(
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
                {"id": account_id, "role_arn": f"arn:aws:iam::{account_id}:role/{RESPONDER_ROLE}"}
                for account_id in self.account_ids[1:]
            ],
        }

    def _seed(self) -> None:
        moto = self._moto
        if moto is None:
            raise LabError("the AWS emulator is not running")
        moto.control("POST", "/moto-api/reset-auth", b"inf")
        moto.control("POST", "/moto-api/reset")
        moto.control("POST", "/moto-api/seed", query=f"a={_RANDOM_SEED}")
        self._responder = _Seeder(self.world, self.now, self._responder).seed()
        moto.control("POST", "/moto-api/reset-auth", b"0")

    def _key_is_inactive(self, access_key_id: str) -> bool:
        from moto.iam.models import iam_backends

        for account_id in self.account_ids:
            key = iam_backends[account_id]["global"].access_keys.get(access_key_id)
            if key is not None:
                return bool(key.status == "Inactive")
        return False

    def _release(self) -> None:
        global _active
        moto, self._moto = self._moto, None
        if moto is not None:
            moto.control("POST", "/moto-api/reset-auth", b"inf")
            moto.control("POST", "/moto-api/reset")
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


def _aws_fault_error(request: LabRequest) -> LabResponse:
    service = _service_of(request)
    if service == "sts":
        return aws_error(503, "ServiceUnavailable", "Service is unable to handle request.", service)
    return aws_error(
        500,
        "ServiceFailure",
        "The request processing has failed because of an unknown error, exception or failure.",
        service,
    )


def _aws_fault_throttle(request: LabRequest, spec: FaultSpec) -> LabResponse:
    return aws_error(400, "Throttling", "Rate exceeded", _service_of(request))


AWS_SHAPES = FaultShapes(error=_aws_fault_error, throttle=_aws_fault_throttle)
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


def _service_of(request: LabRequest) -> str:
    signer = _signing_key(request)
    return signer[1] if signer else "iam"


def _write_private(path: Path, text: str) -> None:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(path, 0o600)
    except OSError as exc:
        raise LabError(f"cannot write {path}: {exc}") from exc


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


class _MotoApp:
    """moto's WSGI application, called in-process with a :class:`LabRequest`."""

    def __init__(self, wsgi_app: Any) -> None:
        self._wsgi_app = wsgi_app

    @classmethod
    def load(cls) -> _MotoApp:
        """Import moto (the slow part) and build its dispatcher."""
        try:
            from moto.moto_server.werkzeug_app import (
                DomainDispatcherApplication,
                create_backend_app,
            )
        except ImportError as exc:
            raise LabError("the lab needs the 'lab' extra: pip install 'agent-ir[lab]'") from exc
        for name in ("werkzeug", "moto", "flask"):
            logging.getLogger(name).setLevel(logging.ERROR)
        return cls(DomainDispatcherApplication(create_backend_app))

    def control(self, method: str, path: str, body: bytes = b"", query: str = "") -> None:
        """Call one of moto's own ``/moto-api`` endpoints in-process."""
        request = LabRequest(method, path, query, (), body)
        response = self.call(request, 0)
        if response.status != 200:
            raise LabError(f"moto refused {path}: {response.status} {response.body[:200]!r}")

    def call(self, request: LabRequest, port: int) -> LabResponse:
        """Run one request through moto's WSGI app."""
        started: list[tuple[str, list[tuple[str, str]]]] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            started[:] = [(status, headers)]
            return lambda data: None

        chunks = self._wsgi_app(_environ(request, port), start_response)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        status, headers = started[0]
        return LabResponse(int(status.split(" ", 1)[0]), list(headers), body)


def _environ(request: LabRequest, port: int) -> dict[str, Any]:
    raw_uri = request.path + ("?" + request.query if request.query else "")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(request.path).decode("latin-1"),
        "QUERY_STRING": request.query,
        "REQUEST_URI": raw_uri,
        "RAW_URI": raw_uri,
        "CONTENT_TYPE": request.header("Content-Type", "") or "",
        "CONTENT_LENGTH": str(len(request.body)),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(request.body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in request.headers:
        if "_" in name:
            continue  # as werkzeug does: X_Foo must not pass for X-Foo
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            continue
        key = "HTTP_" + key
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    environ.setdefault("HTTP_HOST", f"127.0.0.1:{port}")
    return environ


@functools.cache
def _aws_managed_policy_data() -> tuple[
    tuple[str, str | None, str | None, str, datetime, datetime], ...
]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    parsed = json.loads(aws_managed_policies_data)
    return tuple(
        (
            name,
            data.get("DefaultVersionId"),
            data.get("Path"),
            json.dumps(data.get("Document")),
            datetime.fromisoformat(data["CreateDate"]),
            datetime.fromisoformat(data["UpdateDate"]),
        )
        for name, data in parsed.items()
    )


class _Seeder:
    """Writes one world into moto's IAM backends."""

    def __init__(
        self, world: AwsWorld, now: datetime, responder: ResponderCredentials | None
    ) -> None:
        self.world = world
        self.now = now
        self.previous = responder

    def seed(self) -> ResponderCredentials:
        """Seed every account, then the responder; return the responder's credentials."""
        _refuse_reserved_names(self.world)
        for index, account in enumerate(self.world.accounts):
            self._account(index, account)
        return self._responder()

    def _backend(self, account_id: str) -> Any:
        from moto.iam.models import iam_backends

        return iam_backends[account_id]["global"]

    def _account(self, index: int, account: AccountSpec) -> None:
        backend = self._backend(account.id)
        self._load_aws_managed_policies(backend)
        where = f"aws.accounts[{index}]"
        with _located(where):
            if account.alias:
                backend.create_account_alias(account.alias)
            for p_index, policy in enumerate(account.managed_policies):
                with _located(f"{where}.managed_policies[{p_index}]"):
                    backend.create_policy(
                        description=policy.description,
                        path="/",
                        policy_document=json.dumps(policy.document),
                        policy_name=policy.name,
                        tags=[],
                    )
        for u_index, user in enumerate(account.users):
            with _located(f"{where}.users[{u_index}]"):
                self._user(backend, account.id, user)
        for r_index, role in enumerate(account.roles):
            with _located(f"{where}.roles[{r_index}]"):
                self._role(backend, account.id, role)

    def _load_aws_managed_policies(self, backend: Any) -> None:
        # moto only loads AWS managed policies when configured to, and then into every
        # backend it ever creates (every partition of every account, ~0.1 s each); loading
        # them from one parsed copy into the seeded accounts only costs a few milliseconds.
        from moto.iam.models import AWSManagedPolicy

        if backend.aws_managed_policies:
            return
        policies = [
            AWSManagedPolicy(  # type: ignore[abstract]  # abstract only in moto's annotations
                name,
                account_id=backend.account_id,
                region=backend.region_name,
                default_version_id=version,
                path=path,
                document=document,
                create_date=created,
                update_date=updated,
            )
            for name, version, path, document, created, updated in _aws_managed_policy_data()
        ]
        backend.aws_managed_policies = policies
        backend.managed_policies.update({policy.arn: policy for policy in policies})

    def _user(self, backend: Any, account_id: str, spec: UserSpec) -> None:
        user = backend.create_user(
            region_name=REGION, user_name=spec.name, path=spec.path, tags=_tags(spec.tags)
        )
        oldest = max((key.age_days for key in spec.access_keys), default=0.0)
        user.create_date = self.now - timedelta(days=oldest)
        for policy in spec.inline_policies:
            backend.put_user_policy(spec.name, policy.name, json.dumps(policy.document))
        for ref in spec.managed_policies:
            backend.attach_user_policy(_policy_arn(account_id, ref), spec.name)
        if spec.permissions_boundary:
            # moto has no user boundaries; its serializer reads this attribute for GetUser
            # and GetAccountAuthorizationDetails.
            user.permissions_boundary = {
                "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                "PermissionsBoundaryArn": _policy_arn(account_id, spec.permissions_boundary),
            }
        for key_spec in spec.access_keys:
            self._access_key(backend, spec.name, key_spec)

    def _access_key(self, backend: Any, user_name: str, spec: AccessKeySpec) -> None:
        from moto.iam.models import AccessKeyLastUsed

        key = backend.create_access_key(user_name, status=spec.status)
        key.create_date = self.now - timedelta(days=spec.age_days)
        if spec.last_used_days_ago is not None:
            key.last_used = AccessKeyLastUsed(
                timestamp=self.now - timedelta(days=spec.last_used_days_ago),
                service=spec.last_used_service,
                region=REGION,
            )

    def _role(self, backend: Any, account_id: str, spec: RoleSpec) -> None:
        boundary = spec.permissions_boundary
        role = backend.create_role(
            role_name=spec.name,
            assume_role_policy_document=json.dumps(spec.trust_policy),
            path=spec.path,
            permissions_boundary=_policy_arn(account_id, boundary) if boundary else None,
            description="",
            tags=_tags(spec.tags),
            max_session_duration=str(spec.max_session_hours * 3600),
        )
        if spec.last_used_days_ago is not None:
            role.last_used = self.now - timedelta(days=spec.last_used_days_ago)
            role.last_used_region = REGION
        for policy in spec.inline_policies:
            backend.put_role_policy(spec.name, policy.name, json.dumps(policy.document))
        for ref in spec.managed_policies:
            backend.attach_role_policy(_policy_arn(account_id, ref), spec.name)

    def _responder(self) -> ResponderCredentials:
        home = self.world.accounts[0].id
        backend = self._backend(home)
        user = backend.create_user(
            region_name=REGION,
            user_name=RESPONDER_USER,
            path="/",
            tags=_tags({"agent-ir:lab": "responder"}),
        )
        backend.put_user_policy(RESPONDER_USER, RESPONDER_POLICY, json.dumps(_ALLOW_ALL))
        key = backend.create_access_key(RESPONDER_USER)
        if self.previous is None:
            secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
            credentials = ResponderCredentials(home, user.arn, key.access_key_id, secret)
        else:
            credentials = self.previous
        # Same key id and secret on every reseed, so clients keep working across resets.
        del backend.access_keys[key.access_key_id]
        key.access_key_id = credentials.access_key_id
        key.secret_access_key = credentials.secret_access_key
        backend.access_keys[key.access_key_id] = key
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": user.arn}, "Action": "sts:AssumeRole"}
            ],
        }
        for account in self.world.accounts[1:]:
            other = self._backend(account.id)
            other.create_role(
                role_name=RESPONDER_ROLE,
                assume_role_policy_document=json.dumps(trust),
                path="/",
                permissions_boundary=None,
                description="agent-ir lab responder",
                tags=_tags({"agent-ir:lab": "responder"}),
                max_session_duration="3600",
            )
            other.put_role_policy(RESPONDER_ROLE, RESPONDER_POLICY, json.dumps(_ALLOW_ALL))
        return credentials


def _refuse_reserved_names(world: AwsWorld) -> None:
    problems = [
        Problem(
            "<world>",
            None,
            f"aws.accounts[{a}].{kind}[{p}].name",
            f"{name!r} is reserved for the lab's responder",
        )
        for a, account in enumerate(world.accounts)
        for kind, principals, name in (
            ("users", account.users, RESPONDER_USER),
            ("roles", account.roles, RESPONDER_ROLE),
        )
        for p, principal in enumerate(principals)
        if principal.name == name
    ]
    if problems:
        raise WorldError(problems)


def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def _policy_arn(account_id: str, ref: str) -> str:
    return ref if ref.startswith("arn:") else f"arn:aws:iam::{account_id}:policy/{ref}"


@contextmanager
def _located(where: str) -> Iterator[None]:
    """Turn moto's refusal of a world object into a WorldError naming the object."""
    from moto.core.exceptions import ServiceException

    try:
        yield
    except ServiceException as exc:
        raise WorldError(
            [Problem(file="<world>", line=None, where=where, message=f"{exc.code}: {exc.message}")]
        ) from exc
