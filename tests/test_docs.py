"""Every reference in the docs and docstrings resolves in a clone: a Markdown link, a document
named in a docstring (``docs/architecture.md``), a file path written in backticks
(``handlers/checkin/parse.py``); nothing points outside the repository (``../shared``)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *ROOT.glob("bench/*.md")]
SOURCES = [
    path
    for folder in ("bot", "handlers", "storage", "tests", "bench", "fuzz")
    for path in sorted((ROOT / folder).rglob("*.py"))
    if path != Path(__file__)  # its own made-up examples
]
LINK = re.compile(r"\]\((?!https?://|mailto:|#)([^)\s]+)\)")
DOC_NAME = re.compile(r"(?<![\w/.-])((?:docs|bench|examples)/[\w./-]+\.(?:md|toml|csv|xlsx))")
PATH_IN_TICKS = re.compile(
    r"`((?:bot|handlers|storage|tests|bench|docs|examples|deploy|scripts)/[\w/.-]+\.\w+)"
)


def missing(text: str, base: Path, pattern: re.Pattern[str]) -> list[str]:
    gone = []
    for match in pattern.finditer(text):
        target = match[1].split("#")[0]
        if target and not (base / target).exists() and not (ROOT / target).exists():
            gone.append(target)
    return gone


def test_markdown_links_and_paths_resolve() -> None:
    broken = {}
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        gone = missing(text, doc.parent, LINK) + missing(text, doc.parent, PATH_IN_TICKS)
        if gone:
            broken[doc.relative_to(ROOT).as_posix()] = gone
    assert broken == {}


def test_documents_named_in_the_code_exist() -> None:
    broken = {}
    for source in SOURCES:
        gone = missing(source.read_text(encoding="utf-8"), ROOT, DOC_NAME)
        if gone:
            broken[source.relative_to(ROOT).as_posix()] = gone
    assert broken == {}


def test_nothing_points_outside_the_repository() -> None:
    outside = [
        path.relative_to(ROOT).as_posix()
        for path in [*DOCS, *SOURCES]
        if "../shared" in path.read_text(encoding="utf-8")
    ]
    assert outside == []


def test_the_checker_finds_a_broken_reference(tmp_path: Path) -> None:
    text = "see [the guide](docs/nowhere.md), `handlers/gone.py` and docs/architecture.md"
    assert missing(text, tmp_path, LINK) == ["docs/nowhere.md"]
    assert missing(text, tmp_path, PATH_IN_TICKS) == ["handlers/gone.py"]
    assert missing("docs/lost.md and docs/architecture.md", tmp_path, DOC_NAME) == ["docs/lost.md"]
