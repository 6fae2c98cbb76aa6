"""IAM policy helpers: matching, allow/deny, risk, trust principals."""

from __future__ import annotations

from agent_ir.providers.aws import policy


def doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_wildcards_match_case_insensitively() -> None:
    assert policy.matches("s3:Get*", "s3:GetObject")
    assert policy.matches("S3:get*", "s3:GetObject")
    assert policy.matches("iam:?etUser", "iam:GetUser")
    assert not policy.matches("s3:Get*", "s3:PutObject")
    assert policy.matches("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b")


def test_allowing_respects_actions_and_resources() -> None:
    d = doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::1:role/r"})
    assert policy.allowing(d, "sts:AssumeRole", "arn:aws:iam::1:role/r") is not None
    assert policy.allowing(d, "sts:AssumeRole", "arn:aws:iam::1:role/other") is None
    assert policy.allowing(d, "iam:GetUser", "arn:aws:iam::1:role/r") is None


def test_not_action_allows_everything_else() -> None:
    d = doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert policy.allowing(d, "s3:GetObject", "*") is not None
    assert policy.allowing(d, "iam:CreateUser", "*") is None


def test_conditional_deny_is_not_counted_as_a_hard_deny() -> None:
    d = doc(
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2026-01-01T00:00:00Z"}},
        }
    )
    assert policy.denying(d, "s3:GetObject", "*") is None
    hard = doc({"Effect": "Deny", "Action": "*", "Resource": "*"})
    assert policy.denying(hard, "s3:GetObject", "*") is not None


def test_risk_levels() -> None:
    assert policy.risk(doc({"Effect": "Allow", "Action": "*", "Resource": "*"})) == "admin"
    assert policy.risk(doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})) == "wildcard"
    assert policy.risk(doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})) == "admin"
    assert (
        policy.risk(doc({"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}))
        is None
    )
    assert policy.risk(doc({"Effect": "Deny", "Action": "*", "Resource": "*"})) is None


def test_url_encoded_documents_are_decoded() -> None:
    encoded = "%7B%22Statement%22%3A%20%5B%5D%7D"
    assert policy.parse_document(encoded) == {"Statement": []}


def test_trusted_principals_lists_each_kind() -> None:
    trust = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::1:user/a", "2"]},
            "Action": "sts:AssumeRole",
        },
        {
            "Effect": "Allow",
            "Principal": {"Federated": "token.example"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {"x": "y"}},
        },
    )
    found = list(policy.trusted_principals(trust))
    assert ("AWS", "arn:aws:iam::1:user/a", "sts:AssumeRole", False) in found
    assert ("AWS", "2", "sts:AssumeRole", False) in found
    assert ("Federated", "token.example", "sts:AssumeRoleWithWebIdentity", True) in found


def test_summary_clips_long_action_lists() -> None:
    actions = [f"svc:Action{i}" for i in range(40)]
    text = policy.summary(doc({"Effect": "Allow", "Action": actions, "Resource": "*"}))
    assert "(+36 more)" in text
    assert len(text) < 200
