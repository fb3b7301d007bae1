# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""tools/check_docs_site.py, the browser check of ``make docs``, on small HTML strings: it finds the broken
links and missing pages it is there to find, and passes a site that has none."""

import importlib.util
import os

import pytest

from .helpers import ROOT


def _load_checker():
    spec = importlib.util.spec_from_file_location("check_docs_site", os.path.join(ROOT, "tools", "check_docs_site.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


checker = _load_checker()

INDEX = """<html><head><link rel="stylesheet" href="_static/site.css"></head><body>
<h1 id="top">Orgshare.Aws</h1>
<a href="ami_org_share_module.html">ami_org_share</a>
<a href="ami_org_share_module.html#parameter-image_ids">image_ids</a>
<a href="docsite/audit.html">The audit</a>
<a href="#top">top</a>
<a href="https://docs.ansible.com/projects/ansible/devel/">Ansible</a>
<a href="mailto:someone@example.com">mail</a>
</body></html>"""
MODULE = """<html><body><h1>orgshare.aws.ami_org_share module</h1>
<div class="ansible-option-cell"><a class="ansibleOptionLink" href="#parameter-image_ids"></a>
<div id="parameter-image_ids"></div></div>
<a href="index.html">back</a><a href="docsite/audit.html#what-it-reports">what it reports</a></body></html>"""
GUIDE = """<html><body><h1>The audit</h1><section id="what-it-reports"><h2>What it reports</h2>
<a href="../ami_org_share_module.html#parameter-image_ids">image_ids</a>
<a class="reference download internal" href="../_downloads/abc/iam-policy.json">policy</a>
<img src="../_static/logo.png"></section></body></html>"""


def site(**overrides):
    """A small site: pages parsed from HTML strings, and the set of all its files."""
    pages = {"index.html": INDEX, "ami_org_share_module.html": MODULE, "docsite/audit.html": GUIDE}
    pages.update(overrides)
    parsed = {path: checker.parse_page(html) for path, html in pages.items() if html is not None}
    files = set(parsed) | {"_static/site.css", "_static/logo.png", "_downloads/abc/iam-policy.json"}
    return parsed, files


def test_a_site_without_broken_links_passes():
    pages, files = site()
    assert checker.broken_links(pages, files) == []
    assert checker.missing_pages(pages, ["index.html", "ami_org_share_module.html", "docsite/audit.html"]) == []


def test_parse_page_reads_anchors_links_and_the_heading():
    page = checker.parse_page(MODULE)
    assert "parameter-image_ids" in page.ids
    assert page.links == ["#parameter-image_ids", "index.html", "docsite/audit.html#what-it-reports"]
    assert page.heading == "orgshare.aws.ami_org_share module"
    assert "legacy" in checker.parse_page('<a name="legacy"></a><h1>x</h1>').ids


def test_a_link_to_a_missing_file_fails():
    pages, files = site(
        **{"docsite/audit.html": GUIDE.replace("../ami_org_share_module.html", "../ami_org_shar_module.html")}
    )
    assert checker.broken_links(pages, files) == [
        "docsite/audit.html: link '../ami_org_shar_module.html#parameter-image_ids' points to ami_org_shar_module.html, "
        "which is not in the site"
    ]


def test_a_link_to_a_missing_anchor_fails():
    pages, files = site(**{"index.html": INDEX.replace("#parameter-image_ids", "#parameter-image_id")})
    assert checker.broken_links(pages, files) == [
        "index.html: link 'ami_org_share_module.html#parameter-image_id' points to #parameter-image_id, "
        "which ami_org_share_module.html does not have"
    ]


def test_a_missing_anchor_on_the_same_page_fails():
    pages, files = site(**{"index.html": INDEX.replace('href="#top"', 'href="#bottom"')})
    assert checker.broken_links(pages, files) == [
        "index.html: link '#bottom' points to #bottom, which index.html does not have"
    ]


def test_missing_static_files_and_links_out_of_the_site_fail():
    pages, files = site()
    files = files - {"_static/logo.png"}
    pages["index.html"].links.append("../../etc/passwd")
    assert checker.broken_links(pages, files) == [
        "docsite/audit.html: link '../_static/logo.png' points to _static/logo.png, which is not in the site",
        "index.html: link '../../etc/passwd' points to ../../etc/passwd, which is not in the site",
    ]


def test_an_absolute_link_fails_because_it_breaks_once_the_site_is_copied():
    pages, files = site(**{"index.html": INDEX.replace('href="#top"', 'href="/"')})
    assert checker.broken_links(pages, files) == [
        "index.html: '/' is an absolute link; the site must work wherever it is copied"
    ]


def test_links_to_other_sites_are_not_followed():
    assert checker.internal_target("index.html", "https://docs.ansible.com/x.html#y") is None
    assert checker.internal_target("index.html", "//example.com/x.html") is None
    assert checker.internal_target("docsite/audit.html", "../index.html?q=x#top") == ("index.html", "top")
    assert checker.internal_target("docsite/audit.html", "#what%2Dit") == ("docsite/audit.html", "what-it")


def test_a_missing_an_empty_and_an_unlinked_page_fail():
    pages, _files = site(**{"docsite/audit.html": None})
    pages["orphan.html"] = checker.parse_page("<h1>Orphan</h1>")
    pages["blank.html"] = checker.parse_page("<p>no heading</p>")
    pages["index.html"].links.append("blank.html")
    assert checker.missing_pages(pages, ["docsite/audit.html", "orphan.html", "blank.html"]) == [
        "docsite/audit.html is missing from the site",
        "orphan.html is not linked from index.html (directly or through other pages)",
        "blank.html rendered without a heading",
    ]


def test_the_expected_pages_are_every_module_filter_role_and_guide_of_the_checkout():
    expected = checker.expected_pages(ROOT)
    modules = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "modules")) if name.endswith(".py"))
    assert [f"{name}_module.html" for name in modules] == [page for page in expected if page.endswith("_module.html")]
    assert "share_ami_role.html" in expected and "as_list_filter.html" in expected
    guides = sorted(name[:-4] for name in os.listdir(os.path.join(ROOT, "docs", "docsite", "rst")))
    assert sorted(page[len("docsite/") : -len(".html")] for page in expected if page.startswith("docsite/")) == guides


def test_a_screenshot_must_be_a_png_of_the_window(tmp_path):
    png = tmp_path / "shot.png"
    png.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + b"\x00\x00\x00\rIHDR"
        + (1280).to_bytes(4, "big")
        + (900).to_bytes(4, "big")
        + b"\x08\x06"
    )
    assert checker.png_size(png) == (1280, 900)
    png.write_bytes(b"<html>an error page</html>" * 4)
    with pytest.raises(ValueError, match="not a PNG"):
        checker.png_size(png)
