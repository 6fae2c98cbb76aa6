"""Graph's advanced query for the applications that trust an outside workload:
``GET /applications?$filter=federatedIdentityCredentials/any(f:f/subject eq 'S')``.

Graph answers it only as an *advanced query* (``ConsistencyLevel: eventual`` and
``$count=true``; without them a 400 ``Request_UnsupportedQuery``), with ``@odata.count``
in the reply. The lambda's body may test ``f/subject`` (``eq``, ``startswith``) and
``f/issuer`` (``eq``), joined by ``and``/``or``; several ``any`` clauses may be joined by
``or``. ``$expand=federatedIdentityCredentials`` returns each application's credentials.

The emulator answers from an index (subject and issuer → credential ids, application →
credential ids) kept up to date on every write, not by scanning the tenant's credentials:
the index narrows the applications to those holding a credential named by the filter,
then the filter itself decides, on each application with its credentials as replicas see
them (a credential deleted a moment ago still answers until replication catches up).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from agent_ir.lab.entra_odata import ODataError, Query, page, shape
from agent_ir.lab.entra_store import Directory, Obj
from agent_ir.lab.server import LabRequest, LabResponse

NAV = "federatedIdentityCredentials"
MAX_TERMS = 15
"""How many subject/issuer comparisons one filter may hold (Graph refuses longer ``or``
chains on directory objects; clients split them over several requests)."""

_ATOM = re.compile(
    r"(?:startswith\(\s*\w+/(?P<pfield>\w+)\s*,\s*'(?P<prefix>(?:[^']|'')*)'\s*\))"
    r"|(?:\b\w+/(?P<field>\w+)\s+(?P<op>\w+)\s+'(?P<value>(?:[^']|'')*)')",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(?:not|ne)\b", re.IGNORECASE)


@dataclass(slots=True)
class FicIndex:
    """Where federated credentials are, by what a filter can name."""

    by_subject: dict[str, set[str]] = field(default_factory=dict)
    by_issuer: dict[str, set[str]] = field(default_factory=dict)
    by_app: dict[str, set[str]] = field(default_factory=dict)
    subjects: list[str] = field(default_factory=list)
    """Every subject seen, sorted, for ``startswith``."""

    def add(self, fic: Obj) -> None:
        """Record one credential (a write); a deleted one stays until a read finds it gone."""
        fid = str(fic["id"])
        subject = str(fic.get("subject") or "").lower()
        if subject not in self.by_subject:
            bisect.insort(self.subjects, subject)
        self.by_subject.setdefault(subject, set()).add(fid)
        self.by_issuer.setdefault(str(fic.get("issuer") or "").lower(), set()).add(fid)
        self.by_app.setdefault(str(fic["_app"]), set()).add(fid)

    def with_prefix(self, prefix: str) -> set[str]:
        """Credentials whose subject starts with ``prefix`` (case-insensitive)."""
        out: set[str] = set()
        start = bisect.bisect_left(self.subjects, prefix)
        for subject in self.subjects[start:]:
            if not subject.startswith(prefix):
                break
            out |= self.by_subject[subject]
        return out


def index_of(d: Directory) -> FicIndex:
    """The directory's credential index, built once from its table when first needed (a
    directory seeded or loaded without one) and kept current by :func:`record`."""
    found = d.__dict__.get("_fic_index")
    if isinstance(found, FicIndex):
        return found
    index = FicIndex()
    for fic in d.fics.latest_values():
        index.add(fic)
    d.__dict__["_fic_index"] = index
    return index


def record(d: Directory, fic: Obj) -> None:
    """Keep the index current after a credential is written."""
    index_of(d).add(fic)


def asks_for_fics(query: Query) -> bool:
    """Whether a ``$filter`` tests the applications' federated credentials."""
    return NAV.lower() + "/any" in query.raw.get("$filter", "").lower()


def _unsupported(message: str) -> ODataError:
    return ODataError(400, "Request_UnsupportedQuery", message)


def _candidates(d: Directory, text: str) -> set[str]:
    """Credential ids that may satisfy the filter: every match holds one of them, since the
    filter is a positive and/or of subject/issuer comparisons (anything else is refused)."""
    if _NEGATION.search(text):
        raise _unsupported(f"Unsupported or invalid query filter clause: {text}")
    index = index_of(d)
    out: set[str] = set()
    terms = 0
    for atom in _ATOM.finditer(text):
        terms += 1
        if atom.group("prefix") is not None:
            if atom.group("pfield").lower() != "subject":
                raise _unsupported(
                    f"Unsupported or invalid query filter clause specified for property "
                    f"'{atom.group('pfield')}' of resource 'FederatedIdentityCredential'."
                )
            out |= index.with_prefix(atom.group("prefix").replace("''", "'").lower())
            continue
        name, op = atom.group("field").lower(), atom.group("op").lower()
        value = atom.group("value").replace("''", "'").lower()
        if op != "eq" or name not in ("subject", "issuer"):
            raise _unsupported(
                f"Unsupported or invalid query filter clause specified for property "
                f"'{atom.group('field')}' of resource 'FederatedIdentityCredential'."
            )
        table = index.by_subject if name == "subject" else index.by_issuer
        out |= table.get(value, set())
    if terms == 0:
        raise _unsupported(f"Unsupported or invalid query filter clause: {text}")
    if terms > MAX_TERMS:
        raise _unsupported(
            f"The filter holds {terms} comparisons; at most {MAX_TERMS} are allowed."
        )
    return out


def _advanced(request: LabRequest, query: Query) -> None:
    """Graph's rule for advanced queries: ``ConsistencyLevel: eventual`` and ``$count=true``."""
    level = (request.header("ConsistencyLevel") or "").strip().lower()
    if level != "eventual" or query.raw.get("$count", "").lower() != "true":
        raise _unsupported(
            "Unsupported or invalid query filter clause specified for property "
            f"'{NAV}' of resource 'Application'."
        )


def fics_of(d: Directory, app_id: str) -> list[Obj]:
    """An application's credentials as replicas see them (from the index, not a scan)."""
    out = []
    for fid in sorted(index_of(d).by_app.get(app_id, set())):
        fic = d.fics.get(fid)
        if fic is not None and fic.get("_app") == app_id:
            out.append({k: v for k, v in fic.items() if not k.startswith("_")})
    return out


def applications_by_fic(
    request: LabRequest, base: str, version: str, d: Directory, query: Query
) -> LabResponse:
    """The applications a federated-credential filter selects, as Graph pages them."""
    _advanced(request, query)
    text = query.raw.get("$filter", "")
    fics = [d.fics.get(fid) for fid in _candidates(d, text)]
    app_ids = sorted({str(f["_app"]) for f in fics if f is not None})
    items = []
    for app_id in app_ids:
        app = d.applications.get(app_id)
        if app is None:
            continue
        full = {**app, NAV: fics_of(d, app_id)}
        if query.predicate is None or query.predicate(full):
            items.append(full)
    chunk, next_link = page(request, base, items, query)
    expand = query.expand
    values = []
    for item in chunk:
        shown = item if NAV in expand else {k: v for k, v in item.items() if k != NAV}
        values.append(shape(shown, version, query.select, expand=expand))
    body: Obj = {
        "@odata.context": f"{base}/{version}/$metadata#applications",
        "@odata.count": len(items),
        "value": values,
    }
    if next_link:
        body["@odata.nextLink"] = next_link
    return LabResponse.from_json(200, body)
