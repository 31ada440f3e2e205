#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment and install the project into it,
# editable, with the extras given.  Both README commands start here.
#
#   bash scripts/venv.sh                    # .venv with the core and every driver
#   bash scripts/venv.sh test,lint,fuzz     # ... plus the extras scripts/test.sh needs
#
# Why a venv: Debian's system Python refuses `pip install` outside one (PEP 668,
# "externally-managed-environment").  On a Debian without the venv module
# (package python3-venv) it is installed first, when we are root.
#
# Why editable_mode=strict: setuptools' default editable install finds our packages
# through an import hook, because they live under two roots (stomp_core/ and
# drivers/); mypy, pyright and IDEs cannot follow an import hook.  Strict mode links
# each file into build/__editable__.*/ instead, which every tool can read.  The price:
# a module added later is seen after running this script again (scripts/test.sh always
# does).
#
# Environment: VENV (default .venv), PYTHON (the interpreter that creates it, default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
BASE_PYTHON=${PYTHON:-python3}
extras=${1:-}

if [ ! -x "$VENV/bin/python" ]; then
    if ! "$BASE_PYTHON" -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "venv: installing python3-venv (Debian ships Python without it)" >&2
            apt-get update -qq >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
            "$BASE_PYTHON" -m venv "$VENV"
        else
            echo "venv: '$BASE_PYTHON -m venv' failed; install your distribution's venv package" >&2
            exit 1
        fi
    fi
fi

target="."
[ -n "$extras" ] && target=".[$extras]"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    --config-settings editable_mode=strict -e "$target" >&2
echo "venv: $VENV ready ($("$VENV/bin/python" --version 2>&1), extras: ${extras:-none})" >&2
