"""The ``casebot parse`` subcommand: read one message, or score a corpus, from the shell.

Owns: argparse wiring (``add_parse_command``) and ``run_parse``. Reads only the caseload or
corpus file named on the command line; prints to stdout.
Must not import: telegram, storage, sqlalchemy.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from bot.parsing.corpus import reading_to_json, score_corpus
from bot.parsing.parser import parse
from bot.parsing.patients import Caseload
from bot.vocab import DateOrder


def add_parse_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``parse`` on an argparse subparsers object; returns the new parser."""
    command: argparse.ArgumentParser = subparsers.add_parser(
        "parse", help="read a nurse message as the bot would (or score a corpus)"
    )
    command.add_argument("text", nargs="?", help="the message to read")
    command.add_argument("--corpus", type=Path, help="score a JSONL corpus instead")
    command.add_argument("--now", help="ISO moment the message was sent (default: now)")
    command.add_argument("--tz", default="UTC", help="the nurse's IANA time zone")
    command.add_argument(
        "--caseload-file", type=Path, help="caseload: one name per line, or a JSON list"
    )
    command.add_argument("--date-order", choices=("MDY", "DMY"), default="MDY")
    command.set_defaults(handler=run_parse)
    return command


def run_parse(args: argparse.Namespace) -> int:
    """Print the reading of ``args.text`` as JSON, or the corpus score; 1 on a miss or bad input."""
    date_order = cast(DateOrder, args.date_order)
    if args.corpus is not None:
        report = score_corpus(args.corpus, date_order=date_order)
        print(report.render())
        return 0 if report.all_correct else 1
    if not args.text:
        print("parse: give a message, or --corpus FILE")
        return 2
    zone = ZoneInfo(args.tz)
    now = _now(args.now, zone)
    caseload = load_caseload(args.caseload_file) if args.caseload_file else Caseload(())
    reading = parse(args.text, now=now, zone=zone, caseload=caseload, date_order=date_order)
    print(json.dumps(reading_to_json(reading, zone), ensure_ascii=False, indent=2))
    return 0


def _now(text: str | None, zone: ZoneInfo) -> datetime:
    if text is None:
        return datetime.now(tz=zone)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def load_caseload(path: Path) -> Caseload:
    """A caseload file: a JSON list of names, or one name per line."""
    content = path.read_text(encoding="utf-8")
    if content.lstrip().startswith("["):
        names = [str(name) for name in json.loads(content)]
    else:
        names = [line.strip() for line in content.splitlines() if line.strip()]
    return Caseload.from_names(names)
