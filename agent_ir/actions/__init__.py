"""Containment actions: what a playbook step may name (``catalog``), and the contract each
provider's implementation of an action fulfils (``base``)."""
