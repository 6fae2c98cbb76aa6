"""Provider adapters: one per cloud or identity provider, behind one contract (``base``)."""
