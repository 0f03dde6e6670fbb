"""The import rules of docs/architecture.md, checked on the source: every import, including
those inside functions, goes down the list of rooms, and no modules import each other."""
from __future__ import annotations

import ast
from pathlib import Path

from bot.config import PROJECT_ROOT

# Bottom to top: a room may import only the rooms before it (docs/architecture.md).
ROOMS = ("bot", "stores", "components", "payments", "handoff", "alerts", "insights", "training", "migrations",
         "channels", "actions", "console", "tools")


def _modules() -> dict[str, Path]:
    out = {}
    for room in ROOMS:
        for path in sorted((PROJECT_ROOT / room).rglob("*.py")):
            if room == "migrations" and "versions" in path.parts:
                continue  # revisions are frozen history, run by Alembic only
            parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _resolve(name: str, modules: dict[str, Path]) -> str:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project's modules that `path` imports (`from bot import formatting` is bot.formatting)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {_resolve(alias.name, modules) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found |= {_resolve(f"{node.module}.{alias.name}", modules) for alias in node.names}
    return found - {""}


def graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def upward(edges: dict[str, set[str]]) -> list[str]:
    room = lambda module: ROOMS.index(module.split(".")[0])  # noqa: E731
    return [f"{m} → {t}" for m, targets in sorted(edges.items()) for t in sorted(targets) if room(t) > room(m)]


def cycles(edges: dict[str, set[str]]) -> list[str]:
    found, done = [], set()

    def visit(module: str, path: list[str]) -> None:
        for target in sorted(edges.get(module, ())):
            if target in path:
                found.append(" → ".join(path[path.index(target):] + [target]))
            elif target not in done:
                visit(target, path + [target])
        done.add(module)

    for module in sorted(edges):
        if module not in done:
            visit(module, [module])
    return found


def test_every_import_goes_down_the_rooms():
    assert not upward(graph())


def test_no_modules_import_each_other():
    assert not cycles(graph())


def test_the_domain_core_has_no_rasa():
    modules = _modules()
    rasa = [m for m, p in modules.items() if m.split(".")[0] == "bot"
            for node in ast.walk(ast.parse(p.read_text())) if isinstance(node, (ast.Import, ast.ImportFrom))
            for name in ([a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""])
            if name.split(".")[0] in ("rasa", "rasa_sdk", "sanic")]
    assert not rasa, rasa


def test_the_checks_catch_what_they_forbid():
    assert upward({"handoff.cases": {"console.app"}, "console.app": {"handoff.cases"}}) == ["handoff.cases → console.app"]
    assert cycles({"insights.ingest": {"insights.unanswered"}, "insights.unanswered": {"insights.ingest"}}) == [
        "insights.ingest → insights.unanswered → insights.ingest"]
