"""Parse latency over the shared corpus, against dateparser.search_dates with defaults.

Run: .venv/bin/python benchmarks/bench_parse.py [--repeat 50] [--no-write]
Prints a markdown table and the machine, and writes them into the "## Parsing" section of
docs/benchmarks.md (other sections are left as they are).
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.parsing import Caseload, parse  # noqa: E402

CORPUS = ROOT / "../shared/corpus/messages.jsonl"
DOC = ROOT / "docs/benchmarks.md"
SECTION = "## Parsing"


def load_corpus() -> tuple[list[str], Caseload, datetime, ZoneInfo]:
    lines = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]
    header = lines[0]["header"]
    zone = ZoneInfo(header["tz"])
    now = datetime.fromisoformat(header["now"]).replace(tzinfo=zone)
    return [case["text"] for case in lines[1:]], Caseload.from_names(header["caseload"]), now, zone


def time_each(texts: list[str], call: Callable[[str], object], repeat: int) -> list[float]:
    """Latency of every call, in milliseconds."""
    samples: list[float] = []
    for _ in range(repeat):
        for text in texts:
            start = time.perf_counter()
            call(text)
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98]


def cpu_model() -> str:
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return platform.processor() or "unknown"
    match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    return match.group(1).strip() if match else "unknown"


def run(repeat: int, dateparser_repeat: int) -> str:
    from dateparser.search import search_dates

    texts, caseload, now, zone = load_corpus()

    def ours(text: str) -> object:
        return parse(text, now=now, zone=zone, caseload=caseload)

    def baseline(text: str) -> object:
        return search_dates(text)

    time_each(texts, ours, 3)  # warm-up
    time_each(texts, baseline, 1)
    parsed = time_each(texts, ours, repeat)
    searched = time_each(texts, baseline, dateparser_repeat)
    long_text = ("12/3 Dec 3rd 10:30am Maria Lopes f/u 2 wks " * 100)[:4096]
    long_ours = time_each([long_text], ours, 20)

    rows = [
        ("casebot `parse` (corpus)", len(parsed), parsed),
        ("`dateparser.search_dates`, default settings (corpus)", len(searched), searched),
        ("casebot `parse`, 4,096-char pathological message", len(long_ours), long_ours),
    ]
    table = [
        "| what | calls | median ms | p99 ms |",
        "|---|---:|---:|---:|",
        *(
            f"| {name} | {count} | {statistics.median(s):.3f} | {p99(s):.3f} |"
            for name, count, s in rows
        ),
    ]
    ratio_median = statistics.median(searched) / statistics.median(parsed)
    ratio_p99 = p99(searched) / p99(parsed)
    return "\n".join(
        [
            SECTION,
            "",
            f"`.venv/bin/python benchmarks/bench_parse.py`: {len(texts)} corpus messages x "
            f"{repeat} (after 3 warm-up passes) through `bot.parsing.parse` with a prebuilt "
            f"caseload index, and x {dateparser_repeat} through `dateparser.search_dates(text)` "
            "with default settings (dates only; it does not read intents or names).",
            "",
            *table,
            "",
            f"search_dates / parse: {ratio_median:.1f}x slower at the median, "
            f"{ratio_p99:.1f}x at p99. Target: parse p99 <= 5 ms.",
            "",
            f"Machine: {platform.platform()}; CPU: {cpu_model()}; "
            f"Python {platform.python_version()}.",
            "",
        ]
    )


def write_section(section: str) -> None:
    """Replace (or add) the "## Parsing" section of docs/benchmarks.md."""
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _: section + "\n", current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + section + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--dateparser-repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    section = run(args.repeat, args.dateparser_repeat)
    print(section)
    if not args.no_write:
        write_section(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
