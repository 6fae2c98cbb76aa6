"""The few Common Expression Language forms the emulator evaluates in workload identity
providers' attribute mappings and conditions.

Mappings: ``assertion.NAME`` and Google's default ``attribute.aws_role`` mapping for AWS
(the assumed-role ARN without its session name; any other ARN as it is). Conditions: one or
more comparisons joined by ``&&`` or ``||`` (not both, no parentheses), each
``SUBJECT == 'text'``, ``SUBJECT != 'text'`` or ``SUBJECT.startsWith|endsWith|contains('text')``
where SUBJECT is ``attribute.NAME``, ``google.subject`` or ``assertion.NAME``. Anything else
raises :class:`Unsupported`: the lab will not guess what an expression means.
"""

from __future__ import annotations

import re

AWS_ROLE_MAPPING = (
    "assertion.arn.contains('assumed-role') ? assertion.arn.extract('{account_arn}assumed-role/')"
    " + 'assumed-role/' + assertion.arn.extract('assumed-role/{role_name}/') : assertion.arn"
)
"""Google's default mapping of ``attribute.aws_role`` for AWS providers."""

_SUBJECT = r"(attribute\.[A-Za-z_][A-Za-z0-9_]*|google\.subject|assertion\.[A-Za-z_]+)"
_TEXT = r"(?:'([^']*)'|\"([^\"]*)\")"
_COMPARE = re.compile(rf"^{_SUBJECT}\s*(==|!=)\s*{_TEXT}$")
_CALL = re.compile(rf"^{_SUBJECT}\.(startsWith|endsWith|contains)\(\s*{_TEXT}\s*\)$")
_ASSERTION = re.compile(r"^assertion\.([A-Za-z_]+)$")


class Unsupported(Exception):
    """An expression outside the forms the lab evaluates."""


def aws_role(arn: str) -> str:
    """What the default mapping makes of a caller ARN."""
    match = re.match(r"^(arn:[a-z-]+:sts::\d{12}:)assumed-role/([^/]+)/", arn)
    return f"{match.group(1)}assumed-role/{match.group(2)}" if match else arn


def map_attribute(expression: str, assertion: dict[str, str]) -> str:
    """The value of one attribute mapping expression for ``assertion``."""
    text = expression.strip()
    if text == AWS_ROLE_MAPPING:
        return aws_role(assertion.get("arn", ""))
    match = _ASSERTION.match(text)
    if match and match.group(1) in assertion:
        return assertion[match.group(1)]
    raise Unsupported(f"the lab does not evaluate the attribute mapping {expression!r}")


def condition_holds(expression: str, values: dict[str, str]) -> bool:
    """Whether an attribute condition holds; ``values`` maps ``attribute.NAME``,
    ``google.subject`` and ``assertion.NAME`` to their values."""
    text = expression.strip()
    if "&&" in text and "||" in text:
        raise Unsupported(f"the lab does not evaluate the attribute condition {expression!r}")
    joiner = "&&" if "&&" in text else "||"
    results = [_atom(part.strip(), values, expression) for part in text.split(joiner)]
    return all(results) if joiner == "&&" else any(results)


def _atom(text: str, values: dict[str, str], whole: str) -> bool:
    compare = _COMPARE.match(text)
    if compare is not None:
        subject, operator = compare.group(1), compare.group(2)
        literal = compare.group(3) if compare.group(3) is not None else compare.group(4)
        value = values.get(subject)
        if value is None:
            return False  # CEL fails on a missing attribute; Google rejects the credential
        return (value == literal) if operator == "==" else (value != literal)
    call = _CALL.match(text)
    if call is not None:
        subject, method = call.group(1), call.group(2)
        literal = call.group(3) if call.group(3) is not None else call.group(4)
        value = values.get(subject)
        if value is None:
            return False
        if method == "startsWith":
            return value.startswith(literal)
        if method == "endsWith":
            return value.endswith(literal)
        return literal in value
    raise Unsupported(f"the lab does not evaluate the attribute condition {whole!r}")
