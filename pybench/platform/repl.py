"""A parser for the subset of Renode's .repl format our platform files use.

Understood lines (anything else is an error naming the file and line):

    name: Namespace.Type @ sysbus 0xADDR        a peripheral or memory at an address
    name: Namespace.Type @ sysbus <0xADDR, +0xSIZE>
    name: Namespace.Type @ sysbus               registered without an address (the CPU)
    name: Namespace.Type @ parent 0             attached to another peripheral (the PHY)
    name: Namespace.Type @ none                 not connected
        key: value                              a property (ints parsed, strings unquoted)
        -> nvic@37                              interrupt line into the NVIC
        IRQ -> cpu@0                            the NVIC's own line into the CPU
    // comment

Memories are the entries of type Memory.MappedMemory; their `size` property is required.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pybench.errors import BenchError

_ENTRY = re.compile(
    r"^(?P<name>[A-Za-z_]\w*)\s*:\s*(?P<type>[A-Za-z_][\w.]*)\s*@\s*(?P<where>.+?)\s*$"
)
_WHERE_ADDR = re.compile(r"^(?P<parent>[A-Za-z_]\w*)\s+(?P<addr>0[xX][0-9a-fA-F]+|\d+)$")
_WHERE_RANGE = re.compile(
    r"^(?P<parent>[A-Za-z_]\w*)\s+<\s*(?P<addr>0[xX][0-9a-fA-F]+|\d+)\s*,\s*"
    r"\+\s*(?P<size>0[xX][0-9a-fA-F]+|\d+)\s*>$"
)
_WHERE_BARE = re.compile(r"^(?P<parent>[A-Za-z_]\w*)$")
_PROP = re.compile(r"^(?P<key>[A-Za-z_]\w*)\s*:\s*(?P<value>.+?)\s*$")
_IRQ = re.compile(r"^(?:(?P<src>[A-Za-z_]\w*)\s+)?->\s*(?P<dst>[A-Za-z_]\w*)\s*@\s*(?P<num>\d+)$")
# "[0-4] -> nvic@[6-10]", "[16, 17] -> nvic@[1, 41]", "[A, B] -> nvic@[26, 26]"
_IRQ_LIST = re.compile(r"^\[(?P<srcs>[^\]]*)\]\s*->\s*(?P<dst>[A-Za-z_]\w*)\s*@\s*"
                       r"\[(?P<nums>[^\]]*)\]$")


def _expand(items: str) -> list[int | str]:
    """'0-4, 7, Name' -> [0, 1, 2, 3, 4, 7, 'Name']."""
    out: list[int | str] = []
    for item in (i.strip() for i in items.split(",")):
        m = re.fullmatch(r"(\d+)\s*-\s*(\d+)", item)
        if m:
            out += list(range(int(m.group(1)), int(m.group(2)) + 1))
        elif item.isdigit():
            out.append(int(item))
        elif re.fullmatch(r"[A-Za-z_]\w*", item):
            out.append(item)
        else:
            raise ValueError(item)
    return out

MEMORY_TYPE = "Memory.MappedMemory"


@dataclass
class Entry:
    """One peripheral, memory or CPU of the board, as the file describes it."""

    name: str
    type: str
    parent: str | None          # "sysbus", another entry's name, or None for "@ none"
    address: int | None         # bus address, or the address on the parent (PHY: 0)
    size: int | None            # from "<addr, +size>" (or a memory's size property)
    props: dict[str, int | str | bool] = field(default_factory=dict)
    irqs: list[tuple[str, int]] = field(default_factory=list)  # (target, line)
    # Every connection of an output: (output: index, name or None for the only one,
    # target entry, target input).
    outputs: list[tuple[int | str | None, str, int]] = field(default_factory=list)
    line: int = 0

    @property
    def on_sysbus(self) -> bool:
        return self.parent == "sysbus" and self.address is not None

    @property
    def irq(self) -> int | None:
        """The NVIC line this entry drives, if any."""
        for target, num in self.irqs:
            if target == "nvic":
                return num
        return None


@dataclass
class Platform:
    path: Path
    entries: list[Entry]

    @property
    def memories(self) -> list[Entry]:
        return [e for e in self.entries if e.type == MEMORY_TYPE]

    @property
    def peripherals(self) -> list[Entry]:
        return [e for e in self.entries if e.type != MEMORY_TYPE]

    def entry(self, name: str) -> Entry:
        for e in self.entries:
            if e.name == name:
                return e
        raise KeyError(name)

    def nvic_lines(self, entry: Entry) -> dict[int | str | None, int]:
        """Output of `entry` -> the NVIC line it reaches, through combiners declared
        "@ none" (Renode's Miscellaneous.CombinedInput: any input drives its output)."""
        out: dict[int | str | None, int] = {}
        for src, dst, num in entry.outputs:
            seen: set[str] = set()
            while dst != "nvic" and dst not in seen:
                seen.add(dst)
                try:
                    nxt = self.entry(dst)
                except KeyError:
                    break
                if not nxt.outputs:
                    break
                _, dst, num = nxt.outputs[0]
            if dst == "nvic":
                out[src] = num
        return out


def _value(raw: str) -> int | str | bool:
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return raw[1:-1]
    if raw in ("true", "false"):
        return raw == "true"
    try:
        return int(raw, 0)
    except ValueError:
        return raw


def _strip_comment(line: str) -> str:
    # A "//" inside a quoted string is part of the value.
    in_str = False
    for i, ch in enumerate(line):
        if ch == '"':
            in_str = not in_str
        elif ch == "/" and not in_str and line[i : i + 2] == "//":
            return line[:i]
    return line


def parse(text: str, source: str) -> Platform:
    """Parse .repl text; `source` names the file in error messages."""
    entries: list[Entry] = []
    current: Entry | None = None

    def fail(lineno: int, raw: str, why: str = "cannot parse") -> BenchError:
        return BenchError(f"{source}:{lineno}: {why} '{raw.strip()}'")

    for lineno, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw).rstrip()
        if not line.strip():
            continue
        indented = line[0] in " \t"
        body = line.strip()
        if not indented:
            m = _ENTRY.match(body)
            if not m:
                raise fail(lineno, raw)
            current = _entry(m, lineno, raw, fail)
            if any(e.name == current.name for e in entries):
                raise fail(lineno, raw, f"duplicate name {current.name!r} in")
            entries.append(current)
            continue
        if current is None:
            raise fail(lineno, raw, "indented line before any entry:")
        irq = _IRQ.match(body)
        if irq:
            current.irqs.append((irq.group("dst"), int(irq.group("num"))))
            current.outputs.append((irq.group("src"), irq.group("dst"), int(irq.group("num"))))
            continue
        many = _IRQ_LIST.match(body)
        if many:
            try:
                srcs, nums = _expand(many.group("srcs")), _expand(many.group("nums"))
            except ValueError:
                raise fail(lineno, raw) from None
            if len(srcs) != len(nums) or not all(isinstance(n, int) for n in nums):
                raise fail(lineno, raw, "outputs and inputs do not pair up in")
            for src, num in zip(srcs, nums, strict=True):
                assert isinstance(num, int)
                current.outputs.append((src, many.group("dst"), num))
                if many.group("dst") == "nvic":
                    current.irqs.append(("nvic", num))
            continue
        prop = _PROP.match(body)
        if not prop:
            raise fail(lineno, raw)
        current.props[prop.group("key")] = _value(prop.group("value"))

    for e in entries:
        if e.type == MEMORY_TYPE:
            size = e.props.get("size", e.size)
            if not isinstance(size, int) or size <= 0:
                raise BenchError(f"{source}:{e.line}: memory {e.name!r} has no valid size")
            if not e.on_sysbus:
                raise BenchError(f"{source}:{e.line}: memory {e.name!r} has no sysbus address")
            e.size = size
        if e.parent not in (None, "sysbus") and all(p.name != e.parent for p in entries):
            raise BenchError(f"{source}:{e.line}: {e.name!r} is attached to unknown {e.parent!r}")
    return Platform(Path(source), entries)


def _entry(m: re.Match[str], lineno: int, raw: str, fail) -> Entry:  # type: ignore[no-untyped-def]
    name, type_, where = m.group("name"), m.group("type"), m.group("where")
    if where == "none":
        return Entry(name, type_, None, None, None, line=lineno)
    r = _WHERE_RANGE.match(where)
    if r:
        return Entry(name, type_, r.group("parent"), int(r.group("addr"), 0),
                     int(r.group("size"), 0), line=lineno)
    a = _WHERE_ADDR.match(where)
    if a:
        return Entry(name, type_, a.group("parent"), int(a.group("addr"), 0), None, line=lineno)
    b = _WHERE_BARE.match(where)
    if b:
        return Entry(name, type_, b.group("parent"), None, None, line=lineno)
    raise fail(lineno, raw)


def load(path: Path) -> Platform:
    """Read and parse a platform file; errors name the file (and line)."""
    try:
        text = Path(path).read_text()
    except OSError as e:
        raise BenchError(f"{path}: cannot read the platform: {e.strerror}") from None
    return parse(text, str(path))
