"""Google Cloud implementations of the catalog actions that edit allow policies.

These actions own *members*, not policies: each step names one policy
(``projects/P`` or ``serviceAccounts/EMAIL``), one member and the bindings (role and
condition) it removes that member from. Its state is only which of those bindings still
hold the member, so ``done()`` and ``restored()`` never look at anyone else's bindings,
and a restore puts back exactly the members it removed into whatever the policy is by
then (a binding added meanwhile by someone else survives the revoke and the restore).
"""

from __future__ import annotations

from typing import Any, cast

from agent_ir.actions.base import Draft, PlanContext, PlannedStep, Reversibility
from agent_ir.actions.catalog import RemoveDelegationParams, RemoveGrantsParams
from agent_ir.model import EdgeKind, Identity
from agent_ir.providers.gcp import policies, translate
from agent_ir.providers.gcp.account_actions import Gcp, accounts_of
from agent_ir.providers.gcp.adapter import GcpFacts, GcpProvider


def _cached(ctx: PlanContext) -> dict[str, dict[str, Any]]:
    facts = ctx.facts
    return facts.policies if isinstance(facts, GcpFacts) else {}


class _MemberBindings(Gcp):
    """Remove one member from named bindings of one policy; restore puts it back."""

    reversible = Reversibility.YES

    async def read(self, adapter: GcpProvider, step: PlannedStep) -> dict[str, Any]:
        """Which of the step's bindings still hold its member (all bindings when it names none)."""
        op = step.operation
        policy = await adapter.get_policy(op["resource"])
        return {"held": policies.held(policy, op["member"], op["bindings"])}

    def done(self, state: dict[str, Any], step: PlannedStep, prepared: dict[str, Any]) -> bool:
        """Done when no binding of the step holds the member any more."""
        return not state.get("held")

    async def apply(
        self, adapter: GcpProvider, step: PlannedStep, prepared: dict[str, Any]
    ) -> None:
        """Read-modify-write with the etag, retried on 409 conflicts; conditions kept."""
        op = step.operation
        await policies.edit_policy(
            adapter,
            op["resource"],
            lambda bindings: policies.without_member(bindings, op["member"], op["bindings"]),
        )

    async def restore(
        self, adapter: GcpProvider, step: PlannedStep, snapshot: dict[str, Any]
    ) -> list[str]:
        """Put the member back into exactly the bindings it was removed from."""
        op = step.operation
        held = snapshot.get("held") or []
        await policies.edit_policy(
            adapter,
            op["resource"],
            lambda bindings: policies.with_member(bindings, op["member"], held),
        )
        return []

    def restored(self, state: dict[str, Any], snapshot: dict[str, Any]) -> bool:
        """Every binding that held the member holds it again (others are not ours)."""
        now = {policies.key_of(b["role"], b.get("condition")) for b in state.get("held", [])}
        return all(
            policies.key_of(b["role"], b.get("condition")) in now for b in snapshot.get("held", [])
        )


def _draft(
    ident: Identity,
    resource: str,
    bindings: list[dict[str, Any]] | None,
    label: str,
    held: list[dict[str, Any]],
    member: str | None = None,
) -> Draft:
    member = member or f"serviceAccount:{ident.id}"
    return Draft(
        target=f"{resource}#{member}",
        target_label=label,
        identity=ident.id,
        current={"held": held},
        predicted={"held": []},
        operation={"resource": resource, "member": member, "bindings": bindings},
    )


class RemoveRiskyBindings(_MemberBindings):
    """Take the agent's service accounts out of project bindings at the given risk levels
    (``roles/owner``, ``roles/editor``, IAM administration: admin; ``roles/viewer`` and
    whole-service admin roles: wildcard).

    ```yaml
    - id: scope-down
      action: remove-grants
      providers: [gcp]
      with: {risk: [admin, wildcard]}
    ```
    """

    action = "remove-grants"
    permissions = ("resourcemanager.projects.getIamPolicy", "resourcemanager.projects.setIamPolicy")
    restore_permissions = permissions
    hazards = ("the account keeps running without these roles; its work may fail",)

    def plan(self, ctx: PlanContext) -> list[Draft]:
        """One step per project and account, naming each risky binding (with its condition)."""
        params = cast(RemoveGrantsParams, ctx.params)
        cached = _cached(ctx)
        drafts = []
        for ident in accounts_of(ctx.targets):
            member = f"serviceAccount:{ident.id}"
            roles_by_project: dict[str, set[str]] = {}
            for grant in ctx.inventory.grants.get(ident.id, []):
                if (
                    grant.provider == "gcp"
                    and grant.kind == "project-binding"
                    and grant.risk in params.risk
                ):
                    roles_by_project.setdefault(grant.ref, set()).add(grant.grant)
            for resource, roles in sorted(roles_by_project.items()):
                policy = cached.get(resource, {})
                bindings = [b for b in policies.held(policy, member, None) if b["role"] in roles]
                if not bindings:
                    ctx.notes.append(f"gcp: the policy of {resource} was not read; no step")
                    continue
                names = ", ".join(b["role"] for b in bindings)
                drafts.append(
                    _draft(
                        ident,
                        resource,
                        bindings,
                        f"{resource}: remove {ident.name} from {names}",
                        bindings,
                    )
                )
        return drafts


class StripAllBindings(_MemberBindings):
    """Deny the agent everything it was allowed: take its service accounts out of every
    binding of every policy read (project policies and policies on other service accounts),
    and the principals that stand for its identities in other providers (an AWS role mapped
    through a workload identity pool), conditions kept on everyone else's bindings.

    ```yaml
    - id: deny
      action: deny-all
      providers: [gcp]
    ```
    """

    action = "deny-all"
    permissions = (
        "resourcemanager.projects.getIamPolicy",
        "resourcemanager.projects.setIamPolicy",
        "iam.serviceAccounts.getIamPolicy",
        "iam.serviceAccounts.setIamPolicy",
    )
    restore_permissions = permissions
    hazards = ("the account loses every role it held; its workloads fail",)

    def plan(self, ctx: PlanContext) -> list[Draft]:
        """One step per policy that names one of the agent's accounts, or one of its own
        identities elsewhere through a workload identity pool (an AWS role's principal)."""
        cached = _cached(ctx)
        drafts = []
        for ident in accounts_of(ctx.targets):
            member = f"serviceAccount:{ident.id}"
            for resource, policy in sorted(cached.items()):
                held = policies.held(policy, member, None)
                if held:
                    roles = ", ".join(b["role"] for b in held)
                    drafts.append(
                        _draft(
                            ident,
                            resource,
                            None,
                            f"{resource}: remove {ident.name} from {roles}",
                            held,
                        )
                    )
        outside = [i for i in ctx.agent.identities if i.provider != "gcp"]
        for ident in outside:
            for resource, policy in sorted(cached.items()):
                for member in translate.members_for(policy, ident.id):
                    held = policies.held(policy, member, None)
                    roles = ", ".join(b["role"] for b in held)
                    label = (
                        f"{resource}: remove {ident.provider} {ident.name} (federated) from {roles}"
                    )
                    drafts.append(_draft(ident, resource, None, label, held, member))
        return drafts


class RemoveImpersonation(_MemberBindings):
    """Cut who may act as a service account: remove the principal's token creator, service
    account user, workload identity user (and owner/editor) bindings from the target
    account's own policy. The principal may be a service account, a human
    (``human:EMAIL``), or an AWS role federated through a workload identity pool.

    ```yaml
    - id: cut
      action: remove-delegation
      providers: [gcp]
      with: {from: invoice-agent, to: finance-reader}
    ```
    """

    action = "remove-delegation"
    permissions = ("iam.serviceAccounts.getIamPolicy", "iam.serviceAccounts.setIamPolicy")
    restore_permissions = permissions

    def plan(self, ctx: PlanContext) -> list[Draft]:
        """One step per (target account, member standing for the source)."""
        params = cast(RemoveDelegationParams, ctx.params)
        identities = ctx.inventory.identities
        sources = _resolve(params.source, identities, gcp_only=False)
        targets = [t for t in _resolve(params.target, identities, gcp_only=True)]
        cached = _cached(ctx)
        drafts = []
        for target in targets:
            resource = f"serviceAccounts/{target}"
            policy = cached.get(resource, {})
            for source in sources:
                for member in translate.members_for(policy, source, set(translate.ACTING_ROLES)):
                    bindings = [
                        b
                        for b in policies.held(policy, member, None)
                        if b["role"] in translate.ACTING_ROLES
                    ]
                    drafts.append(
                        Draft(
                            target=f"{resource}#{member}",
                            target_label=f"policy on {target}: remove {member} from "
                            + ", ".join(b["role"] for b in bindings),
                            identity=target,
                            current={"held": bindings},
                            predicted={"held": []},
                            operation={
                                "resource": resource,
                                "member": member,
                                "bindings": bindings,
                            },
                        )
                    )
                for edge in ctx.inventory.graph.outgoing(source):
                    if (
                        edge.target == target
                        and edge.evidence
                        and edge.evidence[0].startswith("projects/")
                    ):
                        ctx.notes.append(
                            f"gcp: {edge.reason}; that binding is on the project, so it reaches "
                            "every account there: remove it with remove-grants"
                        )
        if not drafts:
            ctx.notes.append(f"gcp: no binding lets {params.source} act as {params.target}")
        return drafts


class CutFederation(_MemberBindings):
    """Cut workload identity federation into service accounts from every identity the agent
    owns or can reach: remove the pool principal standing for that identity (an AWS role's
    ``attribute.aws_role`` principal set, a subject) from the acting bindings (workload
    identity user, token creator…) on each service account it becomes. A session of the
    role held from before still signs ``GetCallerIdentity``, so only this closes the
    exchange; tokens already minted live until they expire (or the account is disabled).

    ```yaml
    - id: cut-federation
      action: cut-federation
      providers: [gcp]
      scope: reachable
    ```
    """

    action = "cut-federation"
    permissions = ("iam.serviceAccounts.getIamPolicy", "iam.serviceAccounts.setIamPolicy")
    restore_permissions = permissions
    hazards = (
        "every workload of the federated identity (not only the agent) loses the exchange "
        "into these service accounts",
    )

    def plan(self, ctx: PlanContext) -> list[Draft]:
        """One step per (service account, federated principal the agent reaches)."""
        graph = ctx.inventory.graph
        own = [i.id for i in ctx.agent.identities]
        reach = set(own) | {target for target, _ in graph.reach(own)}
        cached = _cached(ctx)
        drafts = []
        for target in accounts_of(ctx.targets):
            resource = f"serviceAccounts/{target.id}"
            for edge in graph.incoming(target.id):
                if edge.kind is not EdgeKind.FEDERATION or edge.source not in reach:
                    continue
                if edge.evidence and edge.evidence[0].startswith("projects/"):
                    ctx.notes.append(
                        f"gcp: {edge.reason}; that binding is on the project: remove it there"
                    )
                    continue
                drafts.extend(_federation_drafts(target, edge.source, cached.get(resource, {})))
        return drafts


def _federation_drafts(target: Identity, source: str, policy: dict[str, Any]) -> list[Draft]:
    resource = f"serviceAccounts/{target.id}"
    drafts = []
    for member in translate.members_for(policy, source, set(translate.ACTING_ROLES)):
        bindings = [
            b for b in policies.held(policy, member, None) if b["role"] in translate.ACTING_ROLES
        ]
        drafts.append(
            Draft(
                target=f"{resource}#{member}",
                target_label=f"federation into {target.name}: remove {member} from "
                + ", ".join(b["role"] for b in bindings),
                identity=target.id,
                current={"held": bindings},
                predicted={"held": []},
                operation={"resource": resource, "member": member, "bindings": bindings},
            )
        )
    return drafts


def _resolve(name: str, identities: dict[str, Identity], *, gcp_only: bool) -> list[str]:
    """Ids a playbook name stands for: an id, identities of that name, or a raw principal."""
    found = [
        i.id
        for i in identities.values()
        if (i.id == name or i.name == name) and (not gcp_only or i.provider == "gcp")
    ]
    if found or gcp_only:
        return found
    if name.startswith(("human:", "arn:", "external:")):
        return [name]
    return [name, f"human:{name}"] if "@" in name else []
