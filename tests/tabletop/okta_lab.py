"""An Okta-only lab for the tabletop's Okta changes: the okta section of the default
world (playbooks/worlds/default.yaml), with no other provider, so no AWS emulator starts in
the pytest process."""

from __future__ import annotations

from agent_ir.lab.world import World, load_world_text

OKTA_WORLD = """
version: 1
name: okta-tabletop
description: The okta section of the default world, alone.
okta:
  # The Okta org of the story. Alice's invoice-agent has a service app that signs in with a
  # private key and reads users and apps; Alice consented to it. The shadow agent
  # gpt-scraper-bot is an API token that Bob, a super admin, created: it acts with all of
  # Bob's power. A dozen benign service apps and two registered AI agents make noise.
  org: {subdomain: corp, company: Corp}
  users:
    - {login: alice@corp.test, first_name: Alice, last_name: Moreau}
    - {login: bob@corp.test, first_name: Bob, last_name: Okafor, admin_roles: [SUPER_ADMIN]}
    - {login: carol@corp.test, first_name: Carol, last_name: Lindqvist, admin_roles: [APP_ADMIN]}
    - {login: dan@corp.test, first_name: Dan, last_name: Reyes}
    - {login: erin@corp.test, first_name: Erin, last_name: Walsh}
    - {login: frank@corp.test, first_name: Frank, last_name: Abe}
  apps:
    - label: invoice-agent
      agent: invoice-agent
      owner: alice@corp.test
      keys: 1
      scopes: [okta.users.read, okta.apps.read]
      groups: [finance]
      age_days: 400
      last_used_days_ago: 0
      consents:
        - {user: alice@corp.test, scopes: [okta.users.read], tokens: 2, age_days: 30}
    - {label: support-agent-01, agent: support-agent-01, owner: dan@corp.test, auth: client_secret_basic, last_used_days_ago: 0, secrets: [{age_days: 12}], scopes: [okta.users.read]}
    - {label: support-agent-02, agent: support-agent-02, owner: erin@corp.test, auth: client_secret_basic, last_used_days_ago: 0, secrets: [{age_days: 19}], scopes: [okta.users.read]}
    - {label: support-agent-03, agent: support-agent-03, owner: frank@corp.test, auth: client_secret_basic, last_used_days_ago: 0, secrets: [{age_days: 26}], scopes: [okta.users.read]}
    - {label: support-agent-04, agent: support-agent-04, owner: carol@corp.test, auth: client_secret_basic, last_used_days_ago: 0, secrets: [{age_days: 33}], scopes: [okta.users.read]}
    - {label: support-agent-05, agent: support-agent-05, owner: dan@corp.test, auth: client_secret_basic, last_used_days_ago: 0, secrets: [{age_days: 40}, {age_days: 2}], scopes: [okta.users.read]}
    - {label: build-agent-01, last_used_days_ago: 1, agent: build-agent-01, owner: erin@corp.test, auth: client_secret_post, secrets: [{age_days: 14}], scopes: [okta.apps.read]}
    - {label: build-agent-02, last_used_days_ago: 1, agent: build-agent-02, owner: frank@corp.test, auth: client_secret_post, secrets: [{age_days: 18}], scopes: [okta.apps.read]}
    - {label: build-agent-03, last_used_days_ago: 1, agent: build-agent-03, owner: carol@corp.test, auth: client_secret_post, secrets: [{age_days: 22}], scopes: [okta.apps.read]}
    - {label: hr-sync, last_used_days_ago: 0, auth: client_secret_basic, secrets: [{age_days: 60}], scopes: [okta.users.read, okta.users.manage], admin_roles: [USER_ADMIN], groups: [hr]}
    - {label: scim-provisioner, auth: client_secret_basic, secrets: [{age_days: 75}], scopes: [okta.users.manage, okta.groups.manage]}
    - {label: log-exporter, last_used_days_ago: 0, auth: client_secret_basic, secrets: [{age_days: 45}], scopes: [okta.logs.read]}
    - {label: backup-exporter, auth: client_secret_basic, secrets: [{age_days: 20}], scopes: [okta.apps.read, okta.users.read], admin_roles: [READ_ONLY_ADMIN]}
  api_tokens:
    - {name: gpt-scraper-bot, user: bob@corp.test, age_days: 200, last_used_days_ago: 1}
    - {name: okta-terraform, user: carol@corp.test, age_days: 45, last_used_days_ago: 3}
  ai_agents:
    - {name: helpdesk-copilot, description: Answers IT helpdesk tickets, owners: [carol@corp.test, dan@corp.test], keys: 1}
    - {name: sales-research-agent, description: Drafts account briefs, owners: [erin@corp.test], status: STAGED}
"""


def okta_world() -> World:
    """The world the Okta tabletop tests run against."""
    return load_world_text(OKTA_WORLD, "tests/tabletop/okta_lab.py")
