"""Every code block of the documentation runs or is checked here.

The pages (``docs/**/*.md`` and ``*.rst``) are scanned for fenced blocks:

- ``python`` blocks are complete programs: each runs as a script (they start the
  embedded broker themselves when they need one) and must exit 0, and all of them, with
  the recipes of ``docs/recipes/``, pass ``mypy --strict``;
- any other language (commands to type are written inline in the prose), or a code
  directive hiding a block from this scan, fails the test, so no block goes unchecked.
  ``literalinclude`` may only include a recipe, which ``test_recipes.py`` runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
BLOCK_TIMEOUT = 120.0
FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
CHECKED_LANGUAGES = {"python"}
# MyST directives that hold no code of their own.
PROSE_DIRECTIVES = {"toctree", "admonition", "note", "warning", "include", "graphviz"}


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    language: str
    code: str

    @property
    def name(self) -> str:
        return f"{self.page}:{self.line}"


def pages() -> list[Path]:
    skip = {DOCS / "_build", DOCS / "_generated"}
    return sorted(
        path
        for path in DOCS.rglob("*")
        if path.suffix in (".md", ".rst") and not any(p in skip for p in path.parents)
    )


def blocks() -> list[Block]:
    """Every fenced block of every page (directives included, by their ``{name}``)."""
    found = []
    for path in pages():
        lines = path.read_text(encoding="utf-8").splitlines()
        index = 0
        while index < len(lines):
            opening = FENCE.match(lines[index])
            if opening is None:
                index += 1
                continue
            fence, info = opening["fence"], opening["info"].strip()
            end = index + 1
            while end < len(lines) and lines[end].strip() != fence:
                end += 1
            code = "\n".join(lines[index + 1 : end]) + "\n"
            page = str(path.relative_to(DOCS))
            found.append(Block(page, index + 1, info, code))
            index = end + 1
    return found


def python_blocks() -> list[Block]:
    return [block for block in blocks() if block.language == "python"]


def _needs_missing_package(block: Block) -> bool:
    """The block uses OpenTelemetry (the tracing recipe) and its SDK is not installed:
    the ``test`` extra has it, so this is only ever true outside CI."""
    if "opentelemetry" not in block.code:
        return False
    try:
        import opentelemetry.sdk.trace  # noqa: F401
    except ImportError:
        return True
    return False


def test_every_block_is_checked() -> None:
    unchecked = []
    for block in blocks():
        language = block.language
        if language in CHECKED_LANGUAGES:
            continue
        directive = re.match(r"\{([\w-]+)\}\s*(.*)", language)
        if directive is None:
            unchecked.append(f"{block.name}: a {language or 'plain'} block")
        elif directive[1] == "literalinclude":
            included = (DOCS / block.page).parent / directive[2]
            if included.parent != DOCS / "recipes" or included.suffix != ".py":
                unchecked.append(f"{block.name}: includes {directive[2]}, not a recipe")
            elif not included.is_file():
                unchecked.append(f"{block.name}: includes a missing file {directive[2]}")
        elif directive[1] not in PROSE_DIRECTIVES:
            unchecked.append(f"{block.name}: a {{{directive[1]}}} directive")
    for path in pages():
        if path.suffix == ".rst" and re.search(r"^\s*\.\. code", path.read_text(), re.M):
            unchecked.append(f"{path.relative_to(DOCS)}: a reST code directive")
    assert not unchecked, "code blocks no test checks:\n" + "\n".join(unchecked)


def test_the_scan_finds_the_blocks() -> None:
    # A scanner that finds nothing would pass every other test here.
    found = {block.page for block in python_blocks()}
    assert {"embedding.md", "migration.md", "tutorials/blocking.md"} <= found
    assert {"tutorials/trio.md", "tutorials/asyncio.md"} <= found


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "drivers")])}


@pytest.mark.parametrize("block", python_blocks(), ids=lambda block: block.name)
def test_python_block_runs(block: Block, tmp_path: Path) -> None:
    if _needs_missing_package(block):
        pytest.skip("opentelemetry-sdk is not installed")
    script = tmp_path / "block.py"
    script.write_text(block.code, encoding="utf-8")
    try:
        done = subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            timeout=BLOCK_TIMEOUT,
            cwd=tmp_path,
            env=_environment(),
            check=False,
        )
    except subprocess.TimeoutExpired as timeout:
        pytest.fail(f"{block.name} did not finish in {BLOCK_TIMEOUT} s:\n{timeout.stdout}")
    assert done.returncode == 0, f"{block.name} failed:\n{done.stdout}\n{done.stderr}"
    assert done.stdout, f"{block.name} printed nothing"


def test_python_blocks_and_recipes_pass_mypy_strict(tmp_path: Path) -> None:
    pytest.importorskip("mypy")  # the lint extra (scripts/test.sh installs it)
    files = []
    for number, block in enumerate(python_blocks()):
        if _needs_missing_package(block):
            continue
        path = tmp_path / f"block_{number}.py"
        path.write_text(f"# {block.name}\n{block.code}", encoding="utf-8")
        files.append(str(path))
    files += [str(path) for path in sorted((DOCS / "recipes").glob("*.py"))]
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), *files],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        env=_environment(),
        check=False,
    )
    names = {f"block_{n}.py": block.name for n, block in enumerate(python_blocks())}
    report = re.sub(r"\S*(block_\d+\.py)", lambda m: names[m[1]], done.stdout)
    assert done.returncode == 0, report
