"""Checks of one AWS exchange against botocore's service models (the version installed):
the operation exists for the service and API version, its parameters rebuild into the
operation's input shape and pass botocore's ``ParamValidator``, and the answer parses with
botocore's parser for the service's protocol with no element the output shape lacks. Error
codes must be modelled for the operation or be one of the documented common errors below,
with the documented HTTP status.

IAM and STS speak the query protocol (form POST, XML answer); S3 speaks rest-xml.
"""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qs

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape
from botocore.parsers import ResponseParserError, create_parser
from botocore.validate import ParamValidator

from tests.conformance.recording import Recorded

QUERY_COMMON_DOC = (
    "docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html and "
    "docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html"
)
QUERY_COMMON_ERRORS: dict[str, tuple[int, str]] = {
    "AccessDeniedException": (403, QUERY_COMMON_DOC),
    "ExpiredTokenException": (403, QUERY_COMMON_DOC),
    "IncompleteSignature": (400, QUERY_COMMON_DOC),
    "InternalFailure": (500, QUERY_COMMON_DOC),
    "InvalidAction": (400, QUERY_COMMON_DOC),
    "InvalidClientTokenId": (403, QUERY_COMMON_DOC),
    "InvalidParameterCombination": (400, QUERY_COMMON_DOC),
    "InvalidParameterValue": (400, QUERY_COMMON_DOC),
    "InvalidQueryParameter": (400, QUERY_COMMON_DOC),
    "MissingAction": (400, QUERY_COMMON_DOC),
    "MissingAuthenticationToken": (403, QUERY_COMMON_DOC),
    "MissingParameter": (400, QUERY_COMMON_DOC),
    "NotAuthorized": (400, QUERY_COMMON_DOC),
    "OptInRequired": (403, QUERY_COMMON_DOC),
    "RequestExpired": (400, QUERY_COMMON_DOC),
    "ServiceUnavailable": (503, QUERY_COMMON_DOC),
    "ThrottlingException": (400, QUERY_COMMON_DOC),
    "ValidationError": (400, QUERY_COMMON_DOC),
    # What IAM and STS send on the wire where the common list names a generic type:
    "AccessDenied": (
        403,
        "IAM User Guide, troubleshoot_access-denied.html ('User: … is not authorized to "
        "perform: … on resource: … because …')",
    ),
    "ExpiredToken": (
        403,
        "IAM User Guide, troubleshoot.html ('The security token included in the request is "
        "expired'); botocore retries/refreshes on it (botocore/data/_retry.json)",
    ),
    "SignatureDoesNotMatch": (
        403,
        "IAM User Guide, reference_sigv-troubleshooting.html",
    ),
    "Throttling": (
        400,
        "botocore/data/_retry.json 'throttling' (code Throttling), IAM's 'Rate exceeded'",
    ),
}
"""Errors any IAM or STS operation may answer: code → (HTTP status, where documented)."""

S3_DOC = "docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList"
S3_COMMON_ERRORS: dict[str, tuple[int, str]] = {
    "AccessDenied": (403, S3_DOC),
    "ExpiredToken": (400, S3_DOC),
    "InternalError": (500, S3_DOC),
    "InvalidAccessKeyId": (403, S3_DOC),
    "InvalidToken": (400, S3_DOC),
    "NoSuchBucket": (404, S3_DOC),
    "ServiceUnavailable": (503, S3_DOC),
    "SignatureDoesNotMatch": (403, S3_DOC),
    "SlowDown": (503, S3_DOC),
}
"""Errors any S3 operation may answer: code → (HTTP status, where documented)."""
S3_ERROR_FIELDS = {"Code", "Message", "RequestId", "HostId", "Resource", "BucketName", "Key"}
"""The elements of S3's ``<Error>`` body (the same page; some codes add their subject)."""

JSON_DOC = "docs.aws.amazon.com/awscloudtrail/latest/APIReference/CommonErrors.html"
JSON_COMMON_ERRORS: dict[str, tuple[int, str]] = {
    "AccessDeniedException": (400, JSON_DOC),
    "ThrottlingException": (400, JSON_DOC),
    "ServiceUnavailable": (503, JSON_DOC),
    "InternalFailure": (500, JSON_DOC),
    "ValidationError": (400, JSON_DOC),
    "UnrecognizedClientException": (403, JSON_DOC),
    "SerializationException": (400, "botocore's JSON protocol: a body that is not JSON"),
    "UnknownOperationException": (400, "botocore's JSON protocol: an unknown X-Amz-Target"),
}
"""Errors any JSON-protocol operation (CloudTrail) may answer: code → (status, where)."""

SERVICES = ("iam", "sts", "s3", "cloudtrail")
_CREDENTIAL = re.compile(r"Credential=[A-Za-z0-9]+/[^/,]*/[^/,]*/([a-z0-9-]+)/")


@dataclass(frozen=True, slots=True)
class Matched:
    """The service and operation one exchange is, and what did not conform on the request."""

    service: ServiceModel
    operation: OperationModel
    problems: list[str]


@cache
def model(service: str) -> ServiceModel:
    """botocore's service model (cached; loading one takes a while)."""
    return botocore.session.get_session().get_service_model(service)


def signed_for(exchange: Recorded) -> str | None:
    """The service a SigV4 request was signed for, if it was signed."""
    for name, value in exchange.request_headers:
        if name.lower() == "authorization":
            match = _CREDENTIAL.search(value)
            return match.group(1) if match else None
    return None


def form(exchange: Recorded) -> dict[str, list[str]]:
    """A query-protocol request's parameters: its form body, else its query string."""
    body = exchange.raw_request.decode("utf-8", "replace")
    return parse_qs(body or exchange.raw_query, keep_blank_values=True)


def match(exchange: Recorded) -> Matched | None:
    """The operation an exchange is (None: no model describes it)."""
    service = signed_for(exchange)
    if service == "s3":
        return _match_rest(model("s3"), exchange)
    if service == "cloudtrail":
        return _match_json(model("cloudtrail"), exchange)
    params = form(exchange)
    action = (params.get("Action") or [""])[0]
    for name in (service,) if service else ("sts", "iam"):
        if name not in ("iam", "sts"):
            return None
        service_model = model(name)
        if action in service_model.operation_names:
            operation = service_model.operation_model(action)
            return Matched(service_model, operation, _query_problems(operation, params))
    return None


def _query_problems(operation: OperationModel, params: dict[str, list[str]]) -> list[str]:
    problems: list[str] = []
    version = (params.get("Version") or [""])[0]
    if version != operation.service_model.api_version:
        problems.append(f"request Version {version!r} is not {operation.service_model.api_version}")
    flat = {k: v[-1] for k, v in params.items() if k not in ("Action", "Version")}
    repeated = sorted(k for k, v in params.items() if len(v) > 1)
    problems += [f"request parameter {k} sent more than once" for k in repeated]
    used: set[str] = set()
    shape = operation.input_shape
    value = _read_query(shape, "", flat, used, problems) if shape is not None else {}
    problems += [
        f"request parameter {k} is not in the input shape" for k in sorted(set(flat) - used)
    ]
    if shape is not None:
        report = ParamValidator().validate(value or {}, shape)
        if report.has_errors():
            problems.append(f"request: {report.generate_report()}")
    return problems


_MISSING = object()


def _read_query(
    shape: Shape, prefix: str, flat: dict[str, str], used: set[str], problems: list[str]
) -> Any:
    """Rebuild a value of ``shape`` from query-serialized parameters (botocore's
    QuerySerializer, backwards)."""
    if shape.type_name == "structure":
        out: dict[str, Any] = {}
        for name, member in shape.members.items():  # type: ignore[attr-defined]
            key = member.serialization.get("name", name)
            value = _read_query(member, f"{prefix}.{key}" if prefix else key, flat, used, problems)
            if value is not _MISSING:
                out[name] = value
        return out if out or not prefix else _MISSING
    if shape.type_name == "list":
        if flat.get(prefix) == "":
            used.add(prefix)
            return []
        member = shape.member  # type: ignore[attr-defined]
        if shape.serialization.get("flattened"):
            base = prefix
        else:
            base = f"{prefix}.{member.serialization.get('name', 'member')}"
        items = []
        while (
            item := _read_query(member, f"{base}.{len(items) + 1}", flat, used, problems)
        ) is not _MISSING:
            items.append(item)
        return items if items else _MISSING
    if shape.type_name == "map":
        entries: dict[str, Any] = {}
        key_name = shape.key.serialization.get("name", "key")  # type: ignore[attr-defined]
        value_name = shape.value.serialization.get("name", "value")  # type: ignore[attr-defined]
        index = 1
        while f"{prefix}.entry.{index}.{key_name}" in flat:
            key = f"{prefix}.entry.{index}.{key_name}"
            used.add(key)
            entries[flat[key]] = _read_query(
                shape.value,  # type: ignore[attr-defined]
                f"{prefix}.entry.{index}.{value_name}",
                flat,
                used,
                problems,
            )
            index += 1
        return entries if entries else _MISSING
    if prefix not in flat:
        return _MISSING
    used.add(prefix)
    return _scalar(shape, flat[prefix], f"request parameter {prefix}", problems)


def _scalar(shape: Shape, text: str, where: str, problems: list[str]) -> Any:
    """A scalar as its shape's Python type; a value that does not convert is a problem."""
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
        if kind == "boolean":
            if text not in ("true", "false"):
                raise ValueError(text)
            return text == "true"
        if kind == "timestamp":
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        if kind == "blob":
            return base64.b64decode(text, validate=True)
    except ValueError:
        problems.append(f"{where}: {text[:40]!r} is not a {kind}")
        return text
    return text


def _match_rest(service: ServiceModel, exchange: Recorded) -> Matched | None:
    """The rest-xml operation whose verb, URI template and literal query keys fit best."""
    query = parse_qs(exchange.raw_query, keep_blank_values=True)
    best: tuple[int, OperationModel, dict[str, str]] | None = None
    for name in service.operation_names:
        operation = service.operation_model(name)
        http = operation.http
        if http.get("method") != exchange.verb:
            continue
        template, _, literal = http["requestUri"].partition("?")
        pattern = re.sub(
            r"\\\{(\w+)(\\\+)?\\\}",
            lambda m: f"(?P<{m.group(1)}>.+)" if m.group(2) else f"(?P<{m.group(1)}>[^/]+)",
            re.escape(template),
        )
        found = re.fullmatch(pattern, exchange.path)
        keys = [k.partition("=")[0] for k in literal.split("&") if k]
        if found is None or any(k not in query for k in keys):
            continue
        score = len(keys) * 10 - len(found.groupdict())
        if best is None or score > best[0]:
            best = (score, operation, found.groupdict())
    if best is None:
        return None
    _, operation, labels = best
    problems: list[str] = []
    shape = operation.input_shape
    known = {"x-id"}
    params: dict[str, Any] = {}
    if shape is not None:
        for member_name, member in shape.members.items():  # type: ignore[attr-defined]
            location = member.serialization.get("location")
            wire = member.serialization.get("name", member_name)
            if location == "uri" and wire in labels:
                params[member_name] = labels[wire]
            elif location == "querystring":
                known.add(wire)
                if wire in query:
                    params[member_name] = _scalar(member, query[wire][0], wire, problems)
        report = ParamValidator().validate(params, shape)
        if report.has_errors():
            problems.append(f"request: {report.generate_report()}")
    literal_keys = {
        k.partition("=")[0] for k in operation.http["requestUri"].partition("?")[2].split("&")
    }
    extra = sorted(set(query) - known - literal_keys)
    problems += [f"query parameter {k} is not in the input shape" for k in extra]
    return Matched(service, operation, problems)


def _match_json(service: ServiceModel, exchange: Recorded) -> Matched | None:
    """A JSON-protocol request: ``X-Amz-Target: <prefix>.<Operation>`` and a JSON body
    that ParamValidator accepts for the operation's input shape."""
    target = next((v for k, v in exchange.request_headers if k.lower() == "x-amz-target"), "")
    prefix, _, name = target.rpartition(".")
    if prefix != service.metadata.get("targetPrefix") or name not in service.operation_names:
        return None
    operation = service.operation_model(name)
    try:
        body = json.loads(exchange.raw_request or b"{}")
    except ValueError as exc:
        return Matched(service, operation, [f"request body is not JSON ({exc})"])
    problems: list[str] = []
    if operation.input_shape is not None:
        report = ParamValidator().validate(body, operation.input_shape)
        if report.has_errors():
            problems.append(f"request: {report.generate_report()}")
    return Matched(service, operation, problems)


def _json_response(matched: Matched, exchange: Recorded) -> list[str]:
    """A JSON-protocol answer: botocore's parser takes it; a success has no member outside
    the output shape; an error's ``__type`` is modelled or a documented common error."""
    headers = {k.lower(): v for k, v in exchange.headers}
    try:
        body = json.loads(exchange.raw_body) if exchange.raw_body else {}
        parsed = create_parser("json").parse(
            {"status_code": exchange.status, "headers": headers, "body": exchange.raw_body},
            matched.operation.output_shape,
        )
    except (ResponseParserError, ValueError, TypeError) as exc:
        return [f"response {exchange.status}: botocore's json parser fails: {exc}"]
    if exchange.status >= 300:
        code = str(parsed.get("Error", {}).get("Code", ""))
        modeled = {shape.name for shape in matched.operation.error_shapes}
        if code in modeled:
            return []
        if code in JSON_COMMON_ERRORS:
            wanted = JSON_COMMON_ERRORS[code][0]
            return [] if wanted == exchange.status else [f"error {code}: HTTP {exchange.status}"]
        return [f"error {exchange.status} {code}: neither modelled nor a common error"]
    shape = matched.operation.output_shape
    return _json_walk(shape, body, "response") if shape is not None else []


def _json_walk(shape: Shape, value: Any, where: str) -> list[str]:
    """Members of ``value`` that ``shape`` does not have, at any depth."""
    if shape.type_name == "structure" and isinstance(value, dict):
        members = shape.members  # type: ignore[attr-defined]
        found = [f"{where}.{k}: not in {shape.name}" for k in value if k not in members]
        for key, item in value.items():
            if key in members:
                found += _json_walk(members[key], item, f"{where}.{key}")
        return found
    if shape.type_name == "list" and isinstance(value, list):
        member = shape.member  # type: ignore[attr-defined]
        return [
            p for i, item in enumerate(value) for p in _json_walk(member, item, f"{where}[{i}]")
        ]
    return []


def response_problems(matched: Matched, exchange: Recorded) -> list[str]:
    """What does not conform in the answer to one exchange."""
    operation = matched.operation
    protocol = matched.service.protocol
    if protocol == "json":
        return _json_response(matched, exchange)
    headers = {k.lower(): v for k, v in exchange.headers}
    try:
        root = ET.fromstring(exchange.raw_body) if exchange.raw_body else None
    except ET.ParseError as exc:
        return [f"response {exchange.status}: not XML ({exc})"]
    try:
        parsed = create_parser(protocol).parse(
            {"status_code": exchange.status, "headers": headers, "body": exchange.raw_body},
            operation.output_shape,
        )
    except (ResponseParserError, ValueError, TypeError) as exc:
        return [f"response {exchange.status}: botocore's {protocol} parser fails: {exc}"]
    if exchange.status >= 300:
        return _error_problems(matched, exchange.status, root, parsed)
    if root is None:
        return [] if operation.output_shape is None else ["response 200: empty body"]
    problems: list[str] = []
    if protocol == "query":
        problems += _query_envelope(operation, root)
    elif operation.output_shape is not None:
        problems += _walk(operation.output_shape, root, "response", body_only=True)
    return problems


def _query_envelope(operation: OperationModel, root: ET.Element) -> list[str]:
    problems: list[str] = []
    if _tag(root) != f"{operation.name}Response":
        problems.append(f"response root <{_tag(root)}> is not <{operation.name}Response>")
    shape = operation.output_shape
    wrapper = shape.serialization.get("resultWrapper") if shape is not None else None
    for child in root:
        name = _tag(child)
        if name == "ResponseMetadata":
            problems += [
                f"response ResponseMetadata.{_tag(c)} is not RequestId"
                for c in child
                if _tag(c) != "RequestId"
            ]
        elif wrapper and name == wrapper and shape is not None:
            problems += _walk(shape, child, wrapper)
        else:
            problems.append(f"response <{name}> is neither {wrapper} nor ResponseMetadata")
    return problems


def _walk(shape: Shape, element: ET.Element, where: str, *, body_only: bool = False) -> list[str]:
    """Every child element of ``element`` must be a member of ``shape`` (recursively)."""
    kind = shape.type_name
    children = list(element)
    if kind == "structure":
        members: dict[str, Shape] = {}
        for name, member in shape.members.items():  # type: ignore[attr-defined]
            if body_only and member.serialization.get("location"):
                continue
            wire = member.serialization.get("name", name)
            if member.type_name == "list" and member.serialization.get("flattened"):
                wire = member.member.serialization.get("name", wire)  # type: ignore[attr-defined]
            members[wire] = member
        problems: list[str] = []
        for child in children:
            member = members.get(_tag(child))
            if member is None:
                problems.append(f"{where}.{_tag(child)}: not a member of {shape.name}")
            elif member.type_name == "list" and member.serialization.get("flattened"):
                problems += _walk(member.member, child, f"{where}.{_tag(child)}")  # type: ignore[attr-defined]
            else:
                problems += _walk(member, child, f"{where}.{_tag(child)}")
        return problems
    if kind == "list":
        item = shape.member  # type: ignore[attr-defined]
        wire = item.serialization.get("name", "member")
        problems = []
        for child in children:
            if _tag(child) != wire:
                problems.append(f"{where}.{_tag(child)}: a list of {shape.name} holds <{wire}>")
            else:
                problems += _walk(item, child, f"{where}[]")
        return problems
    if kind == "map":
        problems = []
        key_name = shape.key.serialization.get("name", "key")  # type: ignore[attr-defined]
        value_name = shape.value.serialization.get("name", "value")  # type: ignore[attr-defined]
        for entry in children:
            for part in entry:
                if _tag(part) == value_name:
                    problems += _walk(shape.value, part, f"{where}{{}}")  # type: ignore[attr-defined]
                elif _tag(part) != key_name:
                    problems.append(f"{where}.{_tag(part)}: not a map entry part")
        return problems
    if children:
        return [f"{where}: a {kind} holds elements"]
    problems = []
    _scalar(shape, element.text or "", where, problems)
    return problems


def _error_problems(
    matched: Matched, status: int, root: ET.Element | None, parsed: dict[str, Any]
) -> list[str]:
    code = str(parsed.get("Error", {}).get("Code", ""))
    problems: list[str] = []
    if not code:
        return [f"error {status}: botocore finds no error code"]
    modeled = {
        shape.metadata.get("error", {}).get("code", shape.name): shape.metadata.get(
            "error", {}
        ).get("httpStatusCode")
        for shape in matched.operation.error_shapes
    }
    common = S3_COMMON_ERRORS if matched.service.protocol == "rest-xml" else QUERY_COMMON_ERRORS
    if code in modeled:
        wanted = modeled[code]
    elif code in common:
        wanted = common[code][0]
    else:
        return [f"error {status} {code}: neither modelled for the operation nor a common error"]
    if wanted is not None and wanted != status:
        problems.append(f"error {code}: HTTP {status}, documented {wanted}")
    if root is None:
        return [*problems, f"error {status} {code}: no body"]
    if matched.service.protocol == "query":
        problems += _query_error_body(root, status, code)
    else:
        problems += _s3_error_body(root, code)
    return problems


def _query_error_body(root: ET.Element, status: int, code: str) -> list[str]:
    problems: list[str] = []
    if _tag(root) != "ErrorResponse":
        problems.append(f"error {code}: root <{_tag(root)}> is not <ErrorResponse>")
    parts = {_tag(c) for c in root}
    if parts != {"Error", "RequestId"}:
        problems.append(f"error {code}: <ErrorResponse> holds {sorted(parts)}")
    error = next((c for c in root if _tag(c) == "Error"), None)
    if error is not None:
        fields = {_tag(c): (c.text or "") for c in error}
        if set(fields) - {"Type", "Code", "Message"}:
            problems.append(f"error {code}: <Error> holds {sorted(fields)}")
        kind = "Receiver" if status >= 500 else "Sender"
        if fields.get("Type") != kind:
            problems.append(f"error {code}: Type {fields.get('Type')!r}, HTTP {status} is {kind}")
    return problems


def _s3_error_body(root: ET.Element, code: str) -> list[str]:
    problems: list[str] = []
    if _tag(root) != "Error":
        problems.append(f"error {code}: root <{_tag(root)}> is not S3's <Error>")
    extra = sorted({_tag(c) for c in root} - S3_ERROR_FIELDS)
    if extra:
        problems.append(f"error {code}: <Error> holds {extra}")
    return problems


def _tag(element: ET.Element) -> str:
    return element.tag.rpartition("}")[2]
