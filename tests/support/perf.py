"""Where benchmarks record their figures: docs/performance.md, between markers."""

import re
from pathlib import Path

PERF_DOC = Path(__file__).parents[2] / "docs" / "performance.md"


def record(section: str, text: str) -> None:
    """Replace the block between ``<!-- bench:SECTION -->`` markers in docs/performance.md."""
    doc = PERF_DOC.read_text(encoding="utf-8")
    start, end = f"<!-- bench:{section} -->", f"<!-- /bench:{section} -->"
    block = f"{start}\n{text.rstrip()}\n{end}"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    doc = pattern.sub(lambda _m: block, doc) if pattern.search(doc) else doc.rstrip() + "\n\n" + block + "\n"
    PERF_DOC.write_text(doc, encoding="utf-8")
