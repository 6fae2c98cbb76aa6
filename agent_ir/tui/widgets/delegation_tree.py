"""DelegationTree: humans → agent → identities → what they can reach.

Every node after a root says why it is there: ``← kind: reason`` from the edge that led
to it. The line under the tree shows the highlighted node's full reason, wrapped, so a
long reason is readable at 80 columns.

``current_edge`` is the link that led to the highlighted node (None at a root) and
``cuttable_edge`` the same when cut-delegation can cut it, so the screen can cut exactly
that link.

Bindings: Tree's (arrows, enter/space to fold). Reactive state: ``reason`` (the
highlighted node's full reason).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode as UINode

from agent_ir.engine.graph import TreeNode
from agent_ir.model import Edge, EdgeKind
from agent_ir.tui.safe import clean, plain

CUTTABLE = frozenset(
    {
        EdgeKind.CONSENT,
        EdgeKind.ASSUME_ROLE,
        EdgeKind.IMPERSONATE,
        EdgeKind.FEDERATION,
        EdgeKind.TOKEN_EXCHANGE,
    }
)
"""Links remove-delegation can cut (ownership and membership are not delegations)."""


class DelegationTree(Vertical):
    """The Delegation tab."""

    DEFAULT_CSS = """
    DelegationTree Tree { height: 1fr; }
    DelegationTree #delegation-reason { height: auto; max-height: 4; padding: 0 1;
        border-top: solid $panel; }
    """

    reason: reactive[str] = reactive("")

    def __init__(self) -> None:
        super().__init__()
        self._edges: dict[int, Edge] = {}

    def compose(self) -> ComposeResult:
        tree: Tree[str] = Tree("delegation", id="delegation")
        tree.show_root = False
        yield tree
        yield Static("", id="delegation-reason")

    def show(self, roots: list[TreeNode]) -> None:
        """Draw the chains, fully expanded."""
        tree = self.query_one(Tree)
        tree.clear()
        self._edges = {}
        for root in roots:
            self._add(tree.root, root)
        tree.root.expand_all()
        first = tree.root.children[0] if tree.root.children else None
        self.reason = (first.data or "") if first else ""

    def _add(self, parent: UINode[str], node: TreeNode) -> None:
        label = Text(node.label, style="bold" if node.principal.startswith("human:") else "")
        why = ""
        if node.via is not None:
            why = f"{node.via.kind.value}: {node.via.reason}"
            label.append(f"  ← {why}", style="dim")
        child = parent.add(clean(label), data=why or node.label, expand=True)
        if node.via is not None:
            self._edges[child.id] = node.via
        for grandchild in node.children:
            self._add(child, grandchild)
        if not node.children:
            child.allow_expand = False

    @property
    def current_edge(self) -> Edge | None:
        """The link that led to the highlighted node."""
        node = self.query_one(Tree).cursor_node
        return self._edges.get(node.id) if node is not None else None

    @property
    def cuttable_edge(self) -> Edge | None:
        """The highlighted link, when it is a delegation cut-delegation can remove."""
        edge = self.current_edge
        return edge if edge is not None and edge.kind in CUTTABLE else None

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        """Show the highlighted node's reason in full."""
        self.reason = event.node.data or ""

    def watch_reason(self, reason: str) -> None:
        """Redraw the reason line."""
        text = f"why: {reason}" if reason else ""
        if text and self.cuttable_edge is not None:
            text += "\nx cuts this link (plans cut-delegation for it)"
        self.query_one("#delegation-reason", Static).update(plain(text))
