"""What the CLI prints from stored or bus data, made safe for the operator's terminal.

An organization's name, a dead letter's error or event, a key's revocation reason:
any of them may hold what an agency, a provider or a forger chose. Printed raw, an
escape sequence could rewrite the screen, set the window title, hide the lines
before it, or (on some terminals) answer back as if typed; a bidi control could
make one id read as another. Rejected: escaping them as `\\x1b` text, which keeps
a forger's bytes on the operator's screen for no use; and stripping only ESC,
which leaves C1 controls (a single-byte CSI on many terminals) and bidi controls.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import threading
import time
from collections.abc import Iterator
from typing import TextIO

# Whole escape sequences first, so their parameters do not remain as text:
# CSI (ESC [ ... final), OSC/DCS/SOS/PM/APC strings (ESC ] ... BEL or ST), and any
# other two-character escape. Their C1 forms (one character each) are handled below.
_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"  # CSI
    r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC, DCS, SOS, PM, APC up to BEL or ST
    r"|\x1b[ -/]*[0-~]?"  # any other escape
    r"|\x9b[0-?]*[ -/]*[@-~]?"  # C1 CSI
    r"|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x9c)?"  # C1 string controls
)
# C0 but the tab and newline (spaces where not kept), DEL, C1; the bidi embeddings,
# overrides, isolates and marks; and the Unicode line and paragraph separators,
# which some terminals break on.
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
_CONTROL = re.compile(f"[{_CONTROLS}]")


def safe(text: object, *, lines: bool = True) -> str:
    """`text` with every control character and escape sequence removed.

    With `lines` (multi-line output: a table, a traceback) newlines stay; without,
    for a value printed inside one line, they become spaces, as tabs always do.
    """
    cleaned = _CONTROL.sub("", _SEQUENCE.sub("", str(text))).replace("\t", " ")
    return cleaned if lines else cleaned.replace("\n", " ")


def show(text: object, file: TextIO | None = None) -> None:
    """`print` for anything that holds stored or bus data (or echoes the command line)."""
    print(safe(text), file=file or sys.stdout)


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document on stdout (errors: stderr)"
    )


def document(value: object) -> None:
    """`value` as one line of JSON on stdout, for scripts.

    Every control and non-ASCII character is a `\\u` escape (json's default), so a value
    from Redis or a database reaches the terminal as text, never as a sequence.
    """
    print(json.dumps(value), flush=True)


def files(command: str, written: list[str], stale: list[str], as_json: bool) -> None:
    """What a command making files did: a line per file, or one JSON document."""
    if as_json:
        document({"written": written, "stale": stale})
        return
    for path in written:
        print(f"wrote {path}")
    for path in stale:
        print(f"stale: {path} (run `{command}`)")


def progress(command: str, text: object) -> None:
    """One line of progress on stderr: stdout stays the result, parseable with --json."""
    print(safe(f"korpu {command}: {text}", lines=False), file=sys.stderr, flush=True)


@contextlib.contextmanager
def still_working(command: str, doing: str, every: float = 5.0) -> Iterator[None]:
    """While the block runs, a progress line every `every` seconds: it has not hung."""
    done = threading.Event()
    started = time.monotonic()

    def tell() -> None:
        while not done.wait(every):
            progress(command, f"still {doing} ({time.monotonic() - started:.0f} s)")

    thread = threading.Thread(target=tell, name="progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
