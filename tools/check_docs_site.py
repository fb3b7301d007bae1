"""Open every page of the built documentation site in headless Chromium, as a reader would, and check it.

Each HTML page of the site is loaded in Debian's ``chromium`` (``--dump-dom``: the DOM after the
page's scripts ran), and the check fails when

- a page is missing: every module, filter, role and scenario guide page of the collection (read
  from the collection's own tree: plugins/modules, plugins/filter, roles, docs/docsite/extra-docs.yml)
  must exist, render, and be reachable by following links from index.html;
- an internal link is broken: an ``href`` (or ``src``) to a file that is not in the site, or to an
  ``#anchor`` that no element of the target page's rendered DOM has as its ``id`` or ``name``.

Links to other sites (``https:``, ``mailto:`` ...) are not followed: the site is built and checked
offline. Screenshots of the index and of one module page are kept as build artifacts.
"""

import argparse
import concurrent.futures
import html.parser
import os
import posixpath
import shutil
import struct
import subprocess
import sys
import tempfile
import urllib.parse

import yaml

# What a headless Chromium needs to run as root in a container, and to stay off the network.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
WINDOW_SIZE = (1280, 900)
SCREENSHOT_PAGE = "ami_org_share_module.html"  # the module page kept as a screenshot
RENDER_TIMEOUT = 120  # seconds for one page, on a busy 2-core machine
# (tag, attribute) pairs whose URLs must resolve.
LINK_ATTRIBUTES = {
    ("a", "href"),
    ("area", "href"),
    ("link", "href"),
    ("img", "src"),
    ("script", "src"),
    ("iframe", "src"),
}
EXTERNAL_SCHEMES = {"http", "https", "mailto", "ftp", "javascript", "data", "tel"}


class Page:
    """What the checks need from one rendered page: its anchors, its links and its first heading."""

    def __init__(self, ids, links, heading):
        self.ids = ids
        self.links = links
        self.heading = heading


class _PageParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.links = []
        self.heading = None
        self._in_h1 = False
        self._h1_text = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in ("id",) + (("name",) if tag == "a" else ()):
            if attributes.get(name):
                self.ids.add(attributes[name])
        for attribute, value in attrs:
            if (tag, attribute) in LINK_ATTRIBUTES and value is not None:
                self.links.append(value)
        if tag == "h1" and self.heading is None:
            self._in_h1 = True

    def handle_endtag(self, tag):
        if tag == "h1" and self._in_h1:
            self._in_h1 = False
            self.heading = " ".join("".join(self._h1_text).split())

    def handle_data(self, data):
        if self._in_h1:
            self._h1_text.append(data)


def parse_page(dom):
    """A :class:`Page` from a page's HTML (as Chromium's ``--dump-dom`` prints it)."""
    parser = _PageParser()
    parser.feed(dom)
    parser.close()
    return Page(parser.ids, parser.links, parser.heading)


def internal_target(page_path, url):
    """``(path, fragment)`` in the site that ``url``, found on ``page_path``, points to; None for another site.

    Paths are relative to the site's root, with ``/`` separators; an empty path is the page itself.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in EXTERNAL_SCHEMES or parts.netloc:
        return None
    if parts.scheme == "file" or url.startswith("/"):
        raise ValueError(f"{page_path}: {url!r} is an absolute link; the site must work wherever it is copied")
    fragment = urllib.parse.unquote(parts.fragment)
    if not parts.path:
        return page_path, fragment
    path = posixpath.normpath(posixpath.join(posixpath.dirname(page_path), urllib.parse.unquote(parts.path)))
    if path.startswith("../") or path == "..":
        return path, fragment  # outside the site: reported as missing
    return path, fragment


def broken_links(pages, files):
    """Every broken internal link: ``pages`` maps each HTML page (site-relative path) to its :class:`Page`,
    ``files`` is the set of every file of the site. Returns one message per broken link."""
    problems = []
    for page_path in sorted(pages):
        for url in pages[page_path].links:
            try:
                target = internal_target(page_path, url)
            except ValueError as e:
                problems.append(str(e))
                continue
            if target is None:
                continue
            path, fragment = target
            if path not in files and posixpath.join(path, "index.html") in files:
                path = posixpath.join(path, "index.html")
            if path not in files:
                problems.append(f"{page_path}: link {url!r} points to {path}, which is not in the site")
            elif fragment and path in pages and fragment not in pages[path].ids:
                problems.append(f"{page_path}: link {url!r} points to #{fragment}, which {path} does not have")
    return problems


def reachable(pages, start="index.html"):
    """The HTML pages reachable from ``start`` by following internal links."""
    seen, todo = set(), [start]
    while todo:
        page_path = todo.pop()
        if page_path in seen or page_path not in pages:
            continue
        seen.add(page_path)
        for url in pages[page_path].links:
            try:
                target = internal_target(page_path, url)
            except ValueError:
                continue
            if target is not None:
                todo.append(target[0])
    return seen


def missing_pages(pages, expected, start="index.html"):
    """One message per expected page that is not in the site, has no heading, or cannot be reached from ``start``."""
    problems = []
    linked = reachable(pages, start)
    for page_path in expected:
        if page_path not in pages:
            problems.append(f"{page_path} is missing from the site")
        elif not pages[page_path].heading:
            problems.append(f"{page_path} rendered without a heading")
        elif page_path not in linked:
            problems.append(f"{page_path} is not linked from {start} (directly or through other pages)")
    return problems


def expected_pages(collection_root):
    """The pages the collection's tree calls for: index, one per module, filter and role, and every guide page."""

    def names(directory, suffixes):
        path = os.path.join(collection_root, directory)
        if not os.path.isdir(path):
            return []
        return sorted(
            {
                os.path.splitext(name)[0]
                for name in os.listdir(path)
                if name.endswith(suffixes) and not name.startswith("_")
            }
        )

    pages = ["index.html"]
    pages += [f"{name}_module.html" for name in names("plugins/modules", (".py",))]
    pages += [f"{name}_filter.html" for name in names("plugins/filter", (".yml", ".yaml"))]
    roles = os.path.join(collection_root, "roles")
    if os.path.isdir(roles):
        pages += [
            f"{name}_role.html"
            for name in sorted(os.listdir(roles))
            if os.path.exists(os.path.join(roles, name, "meta", "argument_specs.yml"))
        ]
    index = os.path.join(collection_root, "docs", "docsite", "extra-docs.yml")
    if os.path.exists(index):
        with open(index, encoding="utf-8") as handle:
            sections = (yaml.safe_load(handle) or {}).get("sections") or []
        for section in sections:
            for entry in section.get("toctree") or []:
                ref = entry["ref"] if isinstance(entry, dict) else entry
                pages.append(f"docsite/{ref}.html")
    return pages


def site_files(html_dir):
    """Every file of the site, as site-relative paths."""
    found = set()
    for top, _dirs, files in os.walk(html_dir):
        for name in files:
            found.add(os.path.relpath(os.path.join(top, name), html_dir).replace(os.sep, "/"))
    return found


def chromium_run(chromium, *args):
    """Run headless Chromium once, with a profile directory of its own that is removed afterwards."""
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        return subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=RENDER_TIMEOUT,
            check=True,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def render(chromium, html_dir, page_path):
    """The DOM of one page after Chromium loaded it and its scripts ran."""
    url = "file://" + urllib.parse.quote(os.path.join(os.path.abspath(html_dir), page_path))
    return chromium_run(chromium, "--dump-dom", url).stdout


def png_size(path):
    """(width, height) of a PNG file; ValueError when it is not one."""
    with open(path, "rb") as handle:
        header = handle.read(24)
    if len(header) < 24 or header[:8] != b"\x89PNG\r\n\x1a\n" or header[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG image")
    return struct.unpack(">II", header[16:24])


def screenshot(chromium, html_dir, page_path, dest):
    """A PNG of one page as a 1280x900 window shows it."""
    url = "file://" + urllib.parse.quote(os.path.join(os.path.abspath(html_dir), page_path))
    if os.path.exists(dest):
        os.unlink(dest)
    chromium_run(chromium, f"--screenshot={dest}", "--window-size={},{}".format(*WINDOW_SIZE), url)
    if png_size(dest) != WINDOW_SIZE:
        raise ValueError(f"{dest} is {png_size(dest)}, not {WINDOW_SIZE}")
    return dest


def check(html_dir, collection_root, screenshots_dir, chromium="chromium", jobs=2):
    """Render every page, check links and pages, take the screenshots; returns (problems, summary lines)."""
    files = site_files(html_dir)
    html_pages = sorted(path for path in files if path.endswith(".html"))
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        doms = dict(zip(html_pages, pool.map(lambda path: render(chromium, html_dir, path), html_pages)))
    pages = {path: parse_page(dom) for path, dom in doms.items()}
    expected = expected_pages(collection_root)
    problems = missing_pages(pages, expected) + broken_links(pages, files)
    os.makedirs(screenshots_dir, exist_ok=True)
    shots = [
        screenshot(chromium, html_dir, page, os.path.join(screenshots_dir, page.replace("/", "_")[:-5] + ".png"))
        for page in ("index.html", SCREENSHOT_PAGE)
        if page in files
    ]
    if len(shots) < 2:
        problems.append(f"no screenshot of {SCREENSHOT_PAGE}: the page is not in the site")
    links = sum(len(page.links) for page in pages.values())
    summary = [
        f"{len(pages)} pages rendered in Chromium, {links} links checked, {len(expected)} expected pages present and linked",
        *(f"screenshot: {path}" for path in shots),
    ]
    return problems, summary


def main(argv=None):
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", help="the built site (the directory with index.html)")
    parser.add_argument(
        "--collection", required=True, help="the collection's root, which says which pages must be there"
    )
    parser.add_argument("--screenshots", required=True, help="where the screenshots go")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium", help="the Chromium binary")
    parser.add_argument("--jobs", type=int, default=2, help="pages rendered at once")
    args = parser.parse_args(argv)
    problems, summary = check(args.html_dir, args.collection, args.screenshots, args.chromium, args.jobs)
    for line in summary:
        print(line)
    for problem in problems:
        print(f"ERROR: {problem}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) in the documentation site {args.html_dir}", file=sys.stderr)
        return 1
    print(f"Documentation site checked: {args.html_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
