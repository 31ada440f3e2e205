#!/usr/bin/env bash
# Build the documentation site (docs/) into docs/_build/html, as CI does: Sphinx with
# nitpicky cross-references and warnings as errors, then a check of every internal link
# of the built pages (external links are never fetched: the build needs no network).
#
#   bash scripts/docs.sh        (after `bash scripts/venv.sh docs`; scripts/test.sh runs it)
#
# The state machine diagram is drawn by Graphviz's `dot` (Debian package graphviz),
# installed here when missing and we are root, as scripts/venv.sh does for python3-venv.
# Environment: PYTHON (with the `docs` extra installed, default .venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}

if ! command -v dot >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "docs: installing graphviz (the state machine diagram)" >&2
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >&2
    else
        echo "docs: Graphviz's dot is needed (apt-get install graphviz)" >&2
        exit 1
    fi
fi

out=docs/_build
rm -rf "$out/html" "$out/doctrees" docs/_generated   # generated again by docs/conf.py
# -n nitpicky: every cross-reference must resolve; -W: a warning fails the build;
# --keep-going: report every warning, not just the first.
"$PY" -m sphinx -b html -n -W --keep-going -q -d "$out/doctrees" docs "$out/html"
"$PY" docs/check_links.py "$out/html"
echo "docs: built $out/html with no warning and no broken internal link" >&2
