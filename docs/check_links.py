"""Check the internal links of the built HTML site; never fetches anything.

Every ``href`` and ``src`` without a scheme must name a file of the site, and its
``#fragment`` an ``id`` in that file.  External links (``http:``, ``https:``, ``mailto:``)
are skipped on purpose: the build must not depend on the network.

Usage: ``python docs/check_links.py docs/_build/html`` (exit status 1 on a broken link).
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name"):
                self.ids.add(value)
            elif name in ("href", "src"):
                self.links.append(value)


def broken_links(site: Path) -> list[str]:
    """Every broken internal link of ``site``, as ``"page: link"`` strings."""
    pages: dict[Path, _Page] = {}
    for path in sorted(site.rglob("*.html")):
        page = _Page()
        page.feed(path.read_text(encoding="utf-8"))
        pages[path.resolve()] = page
    broken = []
    for path, page in pages.items():
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc:
                continue  # external: not checked (no network)
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{path.relative_to(site.resolve())}: {link} (no such file)")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else set()
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{path.relative_to(site.resolve())}: {link} (no such anchor)")
    return broken


def main() -> int:
    site = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/_build/html")
    if not (site / "index.html").is_file():
        print(f"check_links: no site in {site}", file=sys.stderr)
        return 1
    broken = broken_links(site)
    for line in broken:
        print(f"check_links: broken link in {line}", file=sys.stderr)
    pages = sum(1 for _ in site.rglob("*.html"))
    print(f"check_links: {pages} pages, {len(broken)} broken internal links", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
