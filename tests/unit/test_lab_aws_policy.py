"""The lab's IAM policy evaluation, on its own (no moto)."""

from __future__ import annotations

import pytest

from agent_ir.lab.aws_policy import (
    Decision,
    NotEvaluated,
    RequestContext,
    identity_decision,
    trust_decision,
)

ROLE = "arn:aws:iam::111111111111:role/r"


def ctx(action: str = "iam:GetRole", resource: str = ROLE, **keys: str) -> RequestContext:
    names = {k.replace("__", "/").replace("_", ":", 1): [v] for k, v in keys.items()}
    return RequestContext(
        "arn:aws:iam::111111111111:user/u", "111111111111", action, resource, names
    )


def doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_explicit_deny_wins_and_silence_is_an_implicit_deny() -> None:
    allow = doc({"Effect": "Allow", "Action": "iam:*", "Resource": "*"})
    deny = doc({"Effect": "Deny", "Action": "iam:Get*", "Resource": ROLE})
    assert identity_decision([allow], None, ctx()) is Decision.ALLOW
    assert identity_decision([allow, deny], None, ctx()) is Decision.EXPLICIT_DENY
    assert identity_decision([], None, ctx()) is Decision.IMPLICIT_DENY
    other = doc({"Effect": "Allow", "Action": "iam:GetRole", "Resource": ROLE + "2"})
    assert identity_decision([other], None, ctx()) is Decision.IMPLICIT_DENY


def test_a_boundary_caps_what_policies_allow() -> None:
    allow = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    boundary = doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    assert identity_decision([allow], boundary, ctx()) is Decision.IMPLICIT_DENY
    assert identity_decision([allow], boundary, ctx("s3:GetObject", "*")) is Decision.ALLOW


def test_token_issue_time_dates_compare_as_instants() -> None:
    revoke = doc(
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2026-01-01T12:00:00Z"}},
        }
    )
    older = ctx(aws_TokenIssueTime="2026-01-01T11:59:59.999999Z")
    newer = ctx(aws_TokenIssueTime="2026-01-01T12:00:00.000001Z")
    assert identity_decision([revoke], None, older) is Decision.EXPLICIT_DENY
    assert identity_decision([revoke], None, newer) is Decision.IMPLICIT_DENY
    # a long-term key has no issue time: the condition does not match
    assert identity_decision([revoke], None, ctx()) is Decision.IMPLICIT_DENY


def test_negated_and_if_exists_operators_hold_for_an_absent_key() -> None:
    not_equals = doc(
        {
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": "ops"}},
        }
    )
    if_exists = doc(
        {
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringEqualsIfExists": {"aws:PrincipalTag/team": "ops"}},
        }
    )
    assert identity_decision([not_equals], None, ctx()) is Decision.ALLOW
    assert identity_decision([if_exists], None, ctx()) is Decision.ALLOW
    assert (
        identity_decision([if_exists], None, ctx(aws_PrincipalTag__team="fin"))
        is Decision.IMPLICIT_DENY
    )


def test_an_unknown_operator_is_not_evaluated() -> None:
    odd = doc(
        {
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*",
            "Condition": {"IpAddressLike": {"aws:SourceIp": "10.0.0.0/8"}},
        }
    )
    with pytest.raises(NotEvaluated):
        identity_decision([odd], None, ctx())


def test_trust_names_accounts_and_principals() -> None:
    callers = ["arn:aws:sts::111111111111:assumed-role/a/s", "arn:aws:iam::111111111111:role/a"]
    assume = ctx("sts:AssumeRole")

    def trust(principal: object) -> dict:
        return doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})

    assert (
        trust_decision(trust({"AWS": "arn:aws:iam::111111111111:role/a"}), callers, assume)
        == "named"
    )
    assert trust_decision(trust({"AWS": "111111111111"}), callers, assume) == "account"
    assert (
        trust_decision(trust({"AWS": "arn:aws:iam::222222222222:root"}), callers, assume) == "none"
    )
    assert trust_decision(trust({"Service": "glue.amazonaws.com"}), callers, assume) == "none"
