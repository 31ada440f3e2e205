"""Sphinx configuration of the stomp-sansio documentation (built by scripts/docs.sh).

Why Sphinx: autodoc renders every annotation of our typed API as a cross-reference, and
nitpicky mode (``-n``) turns each reference it cannot resolve into a warning, so with
``-W`` a renamed class, a stale ``:class:`` role or a broken ``{doc}`` link fails the
build.  The reference pages are generated from each package's ``__all__`` when the
build starts (``write_module_reference``), so they follow the code, and the build fails
if a public name ends up without an entry (``check_every_public_name``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
# The source tree, not an installed copy: the reference documents this checkout.
sys.path[:0] = [str(REPO), str(REPO / "drivers"), str(DOCS)]

from sphinx.domains.python import PythonDomain  # noqa: E402
from sphinx.ext.napoleon.docstring import GoogleDocstring  # noqa: E402
from state_diagram import write_state_diagrams  # noqa: E402

import stomp_core  # noqa: E402

project = "stomp-sansio"
author = "The stomp-sansio developers"
copyright = "the stomp-sansio developers"
release = stomp_core.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.graphviz",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_generated"]
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

# Every cross-reference must resolve.  Names of other projects cannot (the build never
# fetches an intersphinx inventory: no network), so they are listed here, by module.
nitpicky = True
nitpick_ignore_regex = [
    (
        r"py:.*",
        r"(builtins\.)?(bytes|str|int|float|bool|object|None|type|dict|list|tuple|set"
        r"|frozenset|bytearray|memoryview|BaseException|Exception|RuntimeError|ValueError"
        r"|TimeoutError|OSError|ConnectionError|KeyError|TypeError|NotImplemented|Ellipsis)",
    ),
    (
        r"py:.*",
        r"(typing|typing_extensions|collections|collections\.abc|abc|enum|types"
        r"|dataclasses|contextlib|ssl|_ssl|socket|asyncio|trio|threading|logging|wsproto"
        r"|concurrent|selectors|os|pathlib|io|queue|ipaddress|argparse|re|opentelemetry)(\..*)?",
    ),
    (
        r"py:.*",
        r"(Any|Callable|Iterable|Iterator|Mapping|Sequence|AsyncIterator|Awaitable"
        r"|Coroutine|Generator|AsyncGenerator|Literal|Self|TypeAlias|ClassVar|Final|Optional"
        r"|Union|MutableMapping|NamedTuple|Protocol|TracebackType|SSLContext|Enum)",
    ),
    # autodoc renders a generic base class ("tuple[str, int]") as a broken reference.
    (r"py:class", r"tuple\[.*"),
    # Private types that appear in public signatures have no page: names under a private
    # module or starting with "_", and the drivers' internals named in constructors that
    # users never call (a Client is made by open_connection).
    (r"py:.*", r"(.*\._.*|_.*)"),
    (r"py:class", r"(Options|MessageEvent|Link)"),
]

autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# "Attributes:" as fields of the class, not as attribute entries that autodoc's
# documentation of the same (annotated) attributes would duplicate.
napoleon_use_ivar = True
napoleon_custom_sections = [("Class attributes", "Attributes")]

graphviz_output_format = "svg"

html_theme = "alabaster"
# Code blocks are up to 100 columns (ruff's line length): room for them without scrolling.
html_theme_options = {"page_width": "1240px", "sidebar_width": "240px"}
html_title = f"stomp-sansio {release}"
html_static_path: list[str] = []


def write_submodules(package: str, path: Path) -> None:
    """One ``automodule`` per public sub-module of ``package``, found in the code.

    Modules named in the package's ``__all__`` and its non-private sub-modules (and
    theirs), each once: an alias (``stomp.log`` is ``stomp.logging``, stomp.py 9.0's
    name) is documented under the module's own name.
    """
    import importlib
    import inspect
    import pkgutil

    names: list[str] = []

    def add(module: Any) -> None:
        if module.__name__ in names:
            return
        names.append(module.__name__)
        for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
            if not info.name.startswith("_"):
                add(importlib.import_module(f"{module.__name__}.{info.name}"))

    top = importlib.import_module(package)
    for name in top.__all__:
        if inspect.ismodule(value := getattr(top, name)):
            add(value)
    add(top)
    names.remove(package)
    names.sort()
    text = "".join(
        f"``{name}``\n{'~' * (len(name) + 4)}\n\n{reference_text(name)}\n" for name in names
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


def write_module_reference(package: str, path: Path) -> None:
    """Write :func:`reference_text` of ``package`` to ``path`` (when it changed)."""
    text = reference_text(package)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


def reference_text(package: str) -> str:
    """The reference of ``package``: ``automodule`` plus what it would miss.

    ``automodule`` documents the classes and functions of ``__all__``, but not a constant
    or type alias re-exported without a ``#:`` comment, nor a name the module provides
    lazily (``__getattr__``); those get their own ``autodata``/``autoclass`` entry here
    (and are excluded from ``automodule``, so nothing is documented twice).
    """
    import importlib
    import inspect

    module = importlib.import_module(package)
    own = vars(module)
    extra: list[tuple[str, str]] = []
    for name in module.__all__:
        value = getattr(module, name)
        if inspect.ismodule(value):
            continue  # sub-modules have sections of their own
        if inspect.isclass(value):
            kind = "autoclass"
        elif inspect.isroutine(value):
            kind = "autofunction"
        else:
            kind = "autodata"
        if kind != "autodata" and name in own:
            continue  # automodule documents it
        extra.append((name, kind))
    lines = [f".. automodule:: {package}", "   :members:", "   :undoc-members:"]
    if package in ("stomp_trio", "stomp_asyncio"):
        # Their Client, Subscription, Message, Transaction and StateChanges derive from
        # stomp_core.client's bases, which hold most of their API: list it on them too.
        lines.append("   :inherited-members: BaseException, Enum, tuple, object")
    if extra:
        lines.append(f"   :exclude-members: {', '.join(name for name, _ in extra)}")
    lines.append("")
    lines += [f".. {kind}:: {package}.{name}\n" for name, kind in extra]
    return "\n".join(lines) + "\n"


# Napoleon reads "text: more text" on the first line of an attribute or property docstring
# as "type: description".  Our docstrings start with a sentence ("Live subscriptions:
# id -> ack mode"); a "type" made of words is prose, so it stays one sentence.
_consume_inline = GoogleDocstring._consume_inline_attribute


def _inline_attribute(self: GoogleDocstring) -> tuple[str, list[str]]:
    line = self._lines.get(0)
    before, colon, _ = line.partition(": ") if isinstance(line, str) else ("", "", "")
    if colon and re.search(r"\s", before.replace(", ", ",")):
        return "", self.__class__(self._dedent(self._consume_to_end()), self._config).lines()
    return _consume_inline(self)


GoogleDocstring._consume_inline_attribute = _inline_attribute  # type: ignore[method-assign]


def _note_object(self: PythonDomain, name: str, *args: Any, **kwargs: Any) -> None:
    # stomp_trio and stomp_asyncio re-export the same classes from stomp_core's private
    # modules; each documented copy registers the private (canonical) name as an alias.
    # The first registration stands; two aliases of one name are not two definitions.
    other = self.objects.get(name)
    if other is not None and other.aliased and kwargs.get("aliased"):
        return
    _note(self, name, *args, **kwargs)


_note = PythonDomain.note_object
PythonDomain.note_object = _note_object  # type: ignore[method-assign]


def qualify_core_names(
    app: Any,
    what: str,
    name: str,
    obj: Any,
    options: Any,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str | None, str | None] | None:
    """Qualify stomp_core's names in the signatures of objects defined in stomp_core.

    The core imports some annotation types only for type checkers (``TYPE_CHECKING``, to
    avoid import cycles), so autodoc sees a bare ``Frame``; in a driver's page that
    re-exports the object, a bare name is ambiguous.  ``stomp_core.Frame`` is not.
    """
    if not getattr(obj, "__module__", "").startswith("stomp_core"):
        return None
    pattern = re.compile(r"(?<![.\w])(" + "|".join(map(re.escape, stomp_core.__all__)) + r")\b")

    def qualify(text: str | None) -> str | None:
        return pattern.sub(r"stomp_core.\1", text) if text else text

    return qualify(signature), qualify(return_annotation)


PACKAGES = ("stomp_core", "stomp_trio", "stomp_asyncio", "stomp_broker", "stomp", "stomp_otel")


def check_every_public_name(app: Any, env: Any) -> None:
    """Warn (so fail the build) for a name of a package's ``__all__`` with no entry."""
    import importlib
    import inspect

    from sphinx.util import logging

    domain = env.get_domain("py")
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            value = getattr(module, name)
            documented = (
                value.__name__ in domain.modules
                if inspect.ismodule(value)
                else f"{package}.{name}" in domain.objects
            )
            if not documented:
                logging.getLogger(__name__).warning(
                    "%s.%s is public (in __all__) but not in the API reference", package, name
                )


def setup(app: Any) -> None:
    app.connect("autodoc-process-signature", qualify_core_names)
    app.connect("env-check-consistency", check_every_public_name)
    generated = DOCS / "_generated"
    generated.mkdir(exist_ok=True)
    for package in PACKAGES:
        write_module_reference(package, generated / f"{package}_api.rst")
    # The state machine page draws stomp_core's transition tables as they are now.
    write_state_diagrams(generated)
    for package in ("stomp_core", "stomp"):
        write_submodules(package, generated / f"{package}_modules.rst")
