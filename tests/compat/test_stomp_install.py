"""Installing this project over or beside stomp.py, with pip, in fresh virtual environments.

Both distributions provide the import package ``stomp`` and the ``stomp`` command, and pip
cannot be told that they conflict: it writes both into ``site-packages/stomp/``.  These
tests pin what a user then gets (see ``drivers/stomp/_installed.py`` and the README's
"Switching from stomp.py"):

* stomp-sansio installed over stomp.py: ``import stomp`` (and the ``stomp`` command) fail
  with an ``ImportError`` that names the fix, instead of running a package whose files
  two distributions claim (uninstalling either would break it later);
* stomp.py installed over stomp-sansio: stomp.py's own code runs (ours is never
  imported);
* the README's commands to switch, and to switch back, give a clean install each way.

Slow on purpose (marker ``pip_install``): it builds our wheel, fetches stomp.py 9.0.0 and
its two dependencies from PyPI once, then makes two virtual environments.  About a minute.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.pip_install

REPO = Path(__file__).resolve().parents[2]
STOMPPY = "stomp.py==9.0.0"
#: The README's commands (the same text the ImportError shows).
SWITCH_TO_US = ["uninstall -y stomp.py stomp-sansio", "install stomp-sansio"]
SWITCH_BACK = ["uninstall -y stomp.py stomp-sansio", "install stomp.py"]


def _run(args: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    # No PYTHONPATH: the test must see what pip installed, not this source tree.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Our wheel (built from a copy of this tree) and stomp.py 9.0.0 with its dependencies."""
    house = tmp_path_factory.mktemp("wheels")
    source = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("stomp_core", "drivers"):
        shutil.copytree(REPO / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    pip = [sys.executable, "-m", "pip"]
    built = _run([*pip, "wheel", "--no-deps", "-q", "-w", house, source], source)
    assert built.returncode == 0, built.stderr
    fetched = _run([*pip, "download", "-q", "-d", house, STOMPPY], house)
    assert fetched.returncode == 0, fetched.stderr
    return house


class Venv:
    """A fresh virtual environment that installs only from the wheelhouse."""

    def __init__(self, path: Path, wheelhouse: Path) -> None:
        self.path = path
        self.wheelhouse = wheelhouse
        made = _run([sys.executable, "-m", "venv", path], path.parent)
        assert made.returncode == 0, made.stderr
        self.python = path / "bin" / "python"

    def pip(self, command: str) -> None:
        """``pip <command>``, offline, from the wheelhouse; it must succeed."""
        words = command.split()
        if words[0] == "install":
            words[1:1] = ["--no-index", "--find-links", str(self.wheelhouse)]
        done = _run([self.python, "-m", "pip", "-q", *words], self.path)
        assert done.returncode == 0, done.stderr

    def python_c(self, code: str) -> subprocess.CompletedProcess[str]:
        """Run ``code`` in this environment (from its own directory, not the repo)."""
        return _run([self.python, "-c", code], self.path)

    def stomp_files(self) -> set[str]:
        """The file names in site-packages/stomp/ (top level)."""
        [package] = self.path.glob("lib/python*/site-packages/stomp")
        return {entry.name for entry in package.iterdir() if entry.name != "__pycache__"}


#: Prints which ``stomp`` runs (ours imports stomp_core) and its version.
WHICH = (
    "import stomp, sys; "
    "print('ours' if 'stomp_core' in sys.modules else 'stomp.py', stomp.__version__)"
)


def test_ours_over_stomppy_refuses_to_import_and_the_readme_fix_works(
    tmp_path: Path, wheelhouse: Path
) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for steps in (SWITCH_TO_US, SWITCH_BACK):  # what is tested is what the README says
        assert " && ".join(f"pip {step}" for step in steps) in readme
    venv = Venv(tmp_path / "venv", wheelhouse)
    venv.pip(f"install {STOMPPY}")
    assert venv.python_c(WHICH).stdout.split()[0] == "stomp.py"
    venv.pip("install stomp-sansio")  # pip says nothing about the overlap
    imported = venv.python_c("import stomp")
    assert imported.returncode != 0
    assert "mixes the files of two distributions" in imported.stderr
    fix = "pip uninstall -y stomp.py stomp-sansio && pip install stomp-sansio"
    assert fix in imported.stderr
    command = _run([venv.path / "bin" / "stomp", "--help"], venv.path)
    assert command.returncode != 0
    assert "mixes the files of two distributions" in command.stderr
    for step in SWITCH_TO_US:
        venv.pip(step)
    which = venv.python_c(WHICH)
    assert which.returncode == 0, which.stderr
    assert which.stdout.split()[0] == "ours"
    assert "_session.py" in venv.stomp_files()


def test_stomppy_over_ours_runs_stomppy_and_switching_back_is_clean(
    tmp_path: Path, wheelhouse: Path
) -> None:
    venv = Venv(tmp_path / "venv", wheelhouse)
    venv.pip("install stomp-sansio")
    assert venv.python_c(WHICH).stdout.split()[0] == "ours"
    venv.pip(f"install {STOMPPY}")
    # stomp.py's __init__ (and the rest of its files) replaced ours: stomp.py runs, our
    # private modules stay behind unused.
    which = venv.python_c(WHICH)
    assert which.returncode == 0, which.stderr
    assert which.stdout.split() == ["stomp.py", "9.0.0"]
    assert "_session.py" in venv.stomp_files()
    for step in SWITCH_BACK:  # the wheelhouse holds stomp.py 9.0.0 only
        venv.pip(step)
    which = venv.python_c(WHICH)
    assert which.stdout.split() == ["stomp.py", "9.0.0"]
    assert "_session.py" not in venv.stomp_files()
    assert venv.python_c("import stomp_core").returncode != 0
