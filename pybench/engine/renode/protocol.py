"""The text protocol of Renode's monitor socket, as pure functions.

`renode --port N` serves its monitor on a TCP socket, telnet style: Renode sends telnet
option negotiation when a client connects, echoes each command line, prints the output
(coloured with ANSI escapes; errors in red) and ends with the prompt, "(monitor) " before
a machine is selected and "(<machine name>) " after. A command is finished when the
prompt comes back. These functions turn that byte stream into replies and errors; the
socket itself is in monitor.py.
"""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# Telnet: IAC (0xFF) followed by a command, and for WILL/WONT/DO/DONT (0xFB-0xFE) an option;
# sub-negotiation IAC SB ... IAC SE.
_IAC_SB = re.compile(rb"\xff\xfa.*?\xff\xf0", re.DOTALL)
_IAC_OPT = re.compile(rb"\xff[\xfb-\xfe].")
_IAC_CMD = re.compile(rb"\xff[\xf0-\xfa]")
PROMPT = re.compile(r"(?:^|\n)\((?P<name>[^()\s]+)\) ?$")

# How the monitor reports a command it could not run (Renode's Monitor and its
# exceptions; each was printed by a real Renode for a failing command).
_ERRORS = re.compile(
    r"There was an error executing command"
    r"|No such command or device"
    r"|Bad parameters for command"
    r"|Could not tokenize"
    r"|Could not find (?:file|suitable constructor|machine|peripheral)"
    r"|does not provide a field, method or property"
    r"|Could not resolve type"
    r"|Error E\d+:"
    r"|\[FatalError\]"
    r"|Exception has been thrown"
    r"|[A-Za-z.]*Exception:",
)
_HEX_OR_DEC = re.compile(r"(?<![\w.])(0x[0-9a-fA-F]+|\d+)(?![\w.])")
_TIME = re.compile(r"(?P<h>\d+):(?P<m>\d{2}):(?P<s>\d{2})(?:\.(?P<f>\d+))?")


def strip_telnet(data: bytes) -> bytes:
    """Remove telnet negotiation and commands; an escaped 0xFF (IAC IAC) stays one 0xFF."""
    data = data.replace(b"\xff\xff", b"\x00IAC\x00")
    data = _IAC_SB.sub(b"", data)
    data = _IAC_OPT.sub(b"", data)
    data = _IAC_CMD.sub(b"", data)
    return data.replace(b"\x00IAC\x00", b"\xff")


def clean(text: str) -> str:
    """Monitor output without colours, carriage returns or NULs."""
    return _ANSI.sub("", text).replace("\r", "").replace("\x00", "")


def split_prompt(buffer: str) -> tuple[str, str] | None:
    """(output, prompt name) when `buffer` (cleaned) ends with a prompt, else None."""
    m = PROMPT.search(buffer)
    if not m:
        return None
    return buffer[: m.start()].lstrip("\n") if m.start() else "", m.group("name")


def reply_body(output: str, command: str) -> str:
    """The command's output without the echoed command line."""
    lines = output.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    if lines and lines[0].strip().endswith(command.strip()):
        lines.pop(0)
    return "\n".join(lines).strip("\n")


def find_error(body: str) -> str | None:
    """The monitor's report of a failed command, or None: the first error line and the
    lines after it, joined. Renode says which command failed on one line and why on the
    next ones ("'PythonRequest' object has no attribute 'offset'"): both are kept."""
    lines = [line.strip() for line in body.split("\n")]
    for i, line in enumerate(lines):
        if _ERRORS.search(line):
            return ": ".join([line, *(rest for rest in lines[i + 1 :] if rest)])
    return None


def parse_int(body: str, what: str = "value") -> int:
    """The last integer the monitor printed (it prints 0x... for hex properties)."""
    found = _HEX_OR_DEC.findall(body)
    if not found:
        raise ValueError(f"no integer in the monitor's answer for {what}: {body!r}")
    return int(found[-1], 0)


def parse_virtual_time_ns(body: str) -> int:
    """Virtual time from a TimeStamp/TimeInterval the monitor printed (hh:mm:ss.ffffff)."""
    m = _TIME.search(body)
    if not m:
        raise ValueError(f"no time in the monitor's answer: {body!r}")
    frac = (m.group("f") or "0")[:9].ljust(9, "0")
    seconds = int(m.group("h")) * 3600 + int(m.group("m")) * 60 + int(m.group("s"))
    return seconds * 1_000_000_000 + int(frac)


def format_interval(ns: int) -> str:
    """A virtual-time interval as Renode's TimeInterval parses it: "hh:mm:ss.ffffff".

    Renode's time resolution is the microsecond; a non-zero interval shorter than that
    would round to nothing, so it is refused rather than silently lost."""
    if ns < 0:
        raise ValueError(f"negative interval {ns} ns")
    if ns % 1000:
        raise ValueError(f"{ns} ns is not a whole number of microseconds (Renode's resolution)")
    us = ns // 1000
    seconds, micro = divmod(us, 1_000_000)
    minutes, sec = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours:02d}:{minute:02d}:{sec:02d}.{micro:06d}"


def quote(text: str) -> str:
    """A string argument for a monitor command."""
    if "\n" in text:
        raise ValueError("a monitor string argument cannot span lines")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def path_arg(path: str) -> str:
    """A file argument: Renode's '@' path syntax (quoted when it has spaces)."""
    return "@" + (quote(path) if any(c.isspace() for c in path) else path)
