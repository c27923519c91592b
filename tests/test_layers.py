"""The import rules between the layers, read from the source (every import, also those inside
functions), so that a leak fails here and not in a review.

* ``storage/`` imports nothing of ours.
* The kernel (what features are written against: dispatcher, messages, errors, planner, clock,
  config, work calendar, quiet hours, media, labels, roster columns) imports only itself and
  storage.
* ``handlers/`` (the features) import the kernel and storage only; ``handlers/text/`` (the
  shared text handling every feature's parser uses) imports no feature.
* The edge (``bot/wecom``, ``bot/wechat``, ``bot/pipeline.py``) and delivery never import
  the features; the pipeline knows no channel (each registers its identify hook).
* No two modules import each other, directly or round a longer loop; nor do two packages
  (a feature of ``handlers/``, a part of ``bot/`` such as ``bot.wecom`` or ``bot.runtime``, or
  ``storage``): the map between packages is a one-way street too.
* Test doubles (the fake WeCom and WeChat servers) live in ``tests/``, outside the package.
"""

from __future__ import annotations

import ast
from collections.abc import Container, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "storage")
KERNEL = {
    "bot.dispatcher",
    "bot.messages",
    "bot.errors",
    "bot.planner",
    "bot.clock",
    "bot.config",
    "bot.workcalendar",
    "bot.quiet",
    "bot.media",
    "bot.labels",
    "bot.roster.columns",  # cleaning what offices type in spreadsheets (names, mobiles, dates)
}
CHANNELS = ("bot.wecom", "bot.wechat")
# Leaks still to mend (none now). The test fails if one is mended and left listed.
KNOWN_LEAKS: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def our_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    }


def imports_of(path: Path, module: str, modules: Container[str]) -> Iterator[str]:
    """Every module of ours that ``path`` imports, wherever the import statement stands, except
    under ``if TYPE_CHECKING:`` (never executed). ``from pkg import mod`` is an import of
    ``pkg.mod``, not of the package's ``__init__``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    checking_only = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")
        for statement in node.body
        for child in ast.walk(statement)
    }
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in checking_only:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            subs = [f"{base}.{alias.name}" for alias in node.names]
            names = [name if name in modules else base for name in subs]
        else:
            continue
        for name in names:
            if name.split(".")[0] in PACKAGES:
                yield name


def graph() -> dict[str, set[str]]:
    modules = our_modules()
    edges: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        for name in imports_of(path, module, modules):
            while name and name not in modules:  # ``from bot.x import y``: y is a name in bot.x
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        edges[module] = targets
    return edges


def in_layer(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def violations(edges: dict[str, set[str]]) -> set[tuple[str, str]]:
    found = set()
    for module, targets in edges.items():
        edge = in_layer(module, ("bot.wecom", "bot.wechat", "bot.pipeline", "bot.delivery"))
        for target in targets:
            if module.startswith("storage") and not target.startswith("storage"):
                found.add((module, target))
            if module in KERNEL and not (target in KERNEL or target.startswith("storage")):
                found.add((module, target))
            if module.startswith("handlers") and target.startswith("bot") and target not in KERNEL:
                found.add((module, target))
            if in_layer(module, ("handlers.text",)) and not in_layer(
                target, ("handlers.text", "bot", "storage")
            ):
                found.add((module, target))  # text handling sits below every feature
            if edge and target.startswith("handlers"):
                found.add((module, target))
            if module == "bot.pipeline" and in_layer(target, CHANNELS):
                found.add((module, target))  # a channel's ways come in as registered hooks
    return found


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every loop found by a depth-first walk (each reported once, from where it closes)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    found: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges.get(module, ())):
            if state.get(target) == 1:
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    return found


def package_of(module: str) -> str:
    """``handlers.reports.stats`` → ``handlers.reports``; ``bot.wecom.inbound`` → ``bot.wecom``;
    ``storage.repos.media`` → ``storage`` (one package: it imports nothing of ours anyway)."""
    top, *rest = module.split(".")
    return top if top == "storage" or not rest else f"{top}.{rest[0]}"


def packages(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """The map between packages: an edge wherever one of a package's modules imports another's."""
    found: dict[str, set[str]] = {}
    for module, targets in edges.items():
        here = package_of(module)
        found.setdefault(here, set()).update(
            package_of(t) for t in targets if package_of(t) != here
        )
    return found


def test_layers_import_only_what_their_rules_allow() -> None:
    assert violations(graph()) == KNOWN_LEAKS


def test_no_import_cycle() -> None:
    assert cycles(graph()) == []


def test_no_cycle_between_packages() -> None:
    assert cycles(packages(graph())) == []


def test_a_cycle_between_packages_is_found_though_no_module_loops() -> None:
    made_up = {
        "handlers.reports": {"handlers.understand.intents"},
        "handlers.understand.intents": {"handlers.reports.parse"},
        "handlers.reports.parse": set(),
    }
    assert cycles(made_up) == []
    assert cycles(packages(made_up)) == [
        ["handlers.reports", "handlers.understand", "handlers.reports"]
    ]


def test_the_rules_catch_each_kind_of_leak() -> None:
    """The checker itself, on a made-up map: each rule fires, and a loop is found."""
    made_up = {
        "storage.db": {"bot.config"},
        "bot.dispatcher": {"handlers.checkin", "bot.delivery.text"},
        "handlers.checkin": {"bot.wecom.crypto", "bot.messages", "storage.tx"},
        "bot.pipeline": {"handlers.checkin", "bot.wechat.binding"},
        "bot.delivery.worker": {"handlers.notices"},
        "bot.config": {"handlers.duty.rules"},
        "handlers.duty.rules": {"bot.config"},
        "handlers.text.slots": {"handlers.text.normalize", "handlers.checkin.parse"},
    }
    assert violations(made_up) == {
        ("storage.db", "bot.config"),
        ("bot.dispatcher", "handlers.checkin"),
        ("bot.dispatcher", "bot.delivery.text"),
        ("handlers.checkin", "bot.wecom.crypto"),
        ("bot.pipeline", "handlers.checkin"),
        ("bot.pipeline", "bot.wechat.binding"),
        ("bot.delivery.worker", "handlers.notices"),
        ("bot.config", "handlers.duty.rules"),
        ("handlers.text.slots", "handlers.checkin.parse"),
    }
    assert cycles(made_up) == [["bot.config", "handlers.duty.rules", "bot.config"]]


def test_no_test_double_ships_in_the_package() -> None:
    shipped = our_modules()
    fakes = [m for m, path in shipped.items() if "fake" in path.stem]
    fakes += [  # FakeClock is the product's own: ``simulate --at`` runs the bot at a set time
        m
        for m, path in shipped.items()
        if any(
            isinstance(node, ast.ClassDef)
            and node.name.startswith("Fake")
            and node.name != "FakeClock"
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        )
    ]
    assert fakes == []
