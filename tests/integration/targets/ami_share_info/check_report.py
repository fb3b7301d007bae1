"""Check that the report the audit playbook wrote says what its JSON says.

    python check_report.py REPORT (markdown|html) RESULT_JSON

Parses the report's tables (Markdown pipes, or the HTML table cells) on its own and compares them with the module's
result: one Findings row per finding (severity, code, region, images), and per region one row per image whose
"shared with" cell names every share and whose "findings" cell lists exactly that image's findings.
"""

import html.parser
import json
import re
import sys


class _Tables(html.parser.HTMLParser):
    """The <h2> headings and the rows of the table under each."""

    def __init__(self):
        super().__init__()
        self.tables, self._heading, self._row, self._cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        if tag == "h2":
            self._heading = ""
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "h2":
            self.tables[self._heading] = []
            self._current, self._heading = self._heading, None
        elif tag in ("td", "th"):
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr":
            self.tables[self._current].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._heading is not None:
            self._heading += data
        elif self._cell is not None:
            self._cell += data


def markdown_tables(text):
    tables, current = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:]
            tables[current] = []
        elif line.startswith("|") and current and not re.match(r"^\|(---\|)+$", line):
            cells = [
                cell.strip().replace("\\|", "|").replace("\\\\", "\\")
                for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]
            ]
            tables[current].append(cells)
    return tables


def fail(message):
    raise SystemExit(f"report: {message}")


def main(report_path, report_format, result_path):
    with open(report_path, encoding="utf-8") as handle:
        text = handle.read()
    with open(result_path, encoding="utf-8") as handle:
        result = json.load(handle)
    if report_format == "html":
        parser = _Tables()
        parser.feed(text)
        tables = parser.tables
    else:
        tables = markdown_tables(text)
    header, *rows = tables["Findings"]
    if header[:4] != ["severity", "code", "region", "resource"]:
        fail(f"the findings table's header is {header}")
    wanted = [[f["severity"], f["code"], f["region"], ", ".join(f["image_ids"])] for f in result["findings"]]
    got = [[row[0], row[1], row[2], row[4]] for row in rows]
    if got != wanted:
        fail(f"the findings rows are {got}, the result's {wanted}")
    findings = {finding["id"]: finding for finding in result["findings"]}
    for image in result["images"]:
        table = tables.get(f"Images in {image['region']}")
        if not table:
            fail(f"no table for {image['region']}")
        columns, *image_rows = table
        (row,) = [row for row in image_rows if row[0] == image["image_id"]] or [None]
        if row is None:
            fail(f"{image['image_id']} has no row in {image['region']}")
        cells = dict(zip(columns, row))
        for share in image["shares"]:
            if ("public" if share["kind"] == "public" else share["id"]) not in cells["shared with"]:
                fail(f"{image['image_id']}: its share {share['id']} is not in {cells['shared with']!r}")
        listed = sorted(cells["findings"].split(", ")) if cells["findings"] != "none" else []
        expected = sorted(f"{findings[fid]['severity']} {findings[fid]['code']}" for fid in image["findings"])
        if listed != expected:
            fail(f"{image['image_id']}: findings {listed}, the result's {expected}")
    image_rows = sum(len(rows) - 1 for heading, rows in tables.items() if heading.startswith("Images in "))
    if image_rows != len(result["images"]):
        fail(f"{image_rows} image rows for {len(result['images'])} images")
    print(
        f"ok: the {report_format} report matches the result ({len(result['images'])} images, {len(result['findings'])} findings)"
    )


if __name__ == "__main__":
    main(*sys.argv[1:4])
