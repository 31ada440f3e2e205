#!/usr/bin/env bash
# Packaging check (part of scripts/test.sh, so of CI): build the sdist and the wheel,
# install the wheel (not editable) into a fresh venv, and check what a user gets:
# every package imports from site-packages, each ships py.typed, the console scripts
# run, the licence travels with it, and a small typed program passes mypy --strict
# against the installed wheel.
#
# Environment: PYTHON (with `build` installed, default .venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
work=$(mktemp -d -t stomp-wheel.XXXXXX)
trap 'rm -rf "$work"' EXIT
say() { echo "check_wheel: $*" >&2; }

"$PY" -m build --sdist --wheel --outdir "$work/dist" . >"$work/build.log" 2>&1 \
    || { tail -n 30 "$work/build.log" >&2; say "build FAILED"; exit 1; }
wheel=$(ls "$work"/dist/*.whl)
sdist=$(ls "$work"/dist/*.tar.gz)
say "built $(basename "$sdist") and $(basename "$wheel")"

# (listings captured first: `grep -q` closing a pipe early would fail it under pipefail)
sdist_files=$(tar -tzf "$sdist")
wheel_files=$("$PY" -m zipfile -l "$wheel")
grep -q '/LICENSE$' <<<"$sdist_files" || { say "the sdist has no LICENSE"; exit 1; }
grep -q 'licenses/LICENSE' <<<"$wheel_files" || { say "the wheel has no LICENSE"; exit 1; }

"$PY" -m venv "$work/venv"
vpy="$work/venv/bin/python"
"$vpy" -m pip install --quiet --disable-pip-version-check "$wheel[trio,websocket,otel]" mypy
cd "$work"   # away from the source tree, so only the installed wheel can be imported
"$vpy" - <<'PYEOF'
import importlib, pathlib
for name in ("stomp_core", "stomp", "stomp_trio", "stomp_asyncio", "stomp_broker", "stomp_otel"):
    module = importlib.import_module(name)
    folder = pathlib.Path(module.__file__).parent
    assert "site-packages" in folder.parts, f"{name} imported from {folder}, not the wheel"
    assert (folder / "py.typed").is_file(), f"{name} ships no py.typed"
    print(f"check_wheel: {name} {getattr(module, '__version__', '')} from site-packages, py.typed")
PYEOF
"$work/venv/bin/stomp-broker" --help >/dev/null
"$work/venv/bin/stomp" --help >/dev/null
"$work/venv/bin/python" -m stomp --help >/dev/null
"$work/venv/bin/stomp-demo" --help >/dev/null
say "console scripts stomp, stomp-broker, stomp-demo and python -m stomp run"
"$work/venv/bin/mypy" --strict --no-incremental "$OLDPWD/tests/packaging/typed_user_program.py" >&2
say "mypy --strict passes on tests/packaging/typed_user_program.py against the installed wheel"
