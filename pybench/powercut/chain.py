"""Update chains (`--chain`): one campaign over several updates in a row, so that the
second and later updates, journal rotation and compaction are cut too.

A chain is the factory image, then links: each link is an image sent (or staged) and
what must follow: installed, or, for a damaged image, refused with the image before it
still running. The text form is `IMAGE[+FAULT]` per link, comma-separated: IMAGE a role
of the description's [firmware.images] (old, new, newer...) or a file, FAULT a content
fault (content.py) that the device must refuse, or `old` for a sound image it must
refuse all the same (an older version, say), e.g. `new,newer,newer,new+flip-body`;
`*N` repeats a link or a group in parentheses, e.g. `(newer,new)*43`.

Pure apart from reading the image files; scenario.py runs the links.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pybench import journal
from pybench.device.model import Device
from pybench.errors import BenchError
from pybench.journal import JournalRecord, State
from pybench.powercut import content


@dataclass(frozen=True)
class LinkSpec:
    """A link as given: the image (role or file) and the content fault, if any."""

    image: str
    fault: str | None = None


@dataclass(frozen=True)
class Link:
    """A link ready to run: its image bytes (damaged when `fault`) and what must follow."""

    path: Path
    image: bytes          # as sent or staged
    good: bytes           # the image before any damage (its record fields, for staging)
    fault: str | None     # the content fault it carries
    expect: str = "new"   # "new": installed; "old": refused, the image before it runs


def _expand(text: str) -> list[str]:
    """The links' texts with `*N` repetitions (of one link, or of a group in
    parentheses) spelled out."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "(":
            end = text.find(")", i)
            if end < 0:
                raise ValueError(f"{text!r}: a group is not closed")
            group, i = _expand(text[i + 1 : end]), end + 1
        else:
            end = i
            while end < len(text) and text[end] not in ",*":
                end += 1
            group, i = [text[i:end]], end
        times = 1
        if i < len(text) and text[i] == "*":
            end = i + 1
            while end < len(text) and text[end] != ",":
                end += 1
            try:
                times = int(text[i + 1 : end])
            except ValueError:
                raise ValueError(f"{text!r}: {text[i:end]!r} is not *COUNT") from None
            if not 1 <= times <= 1000:
                raise ValueError(f"{text!r}: repeat 1 to 1000 times, not {times}")
            i = end
        out += group * times
        if i < len(text):
            if text[i] != ",":
                raise ValueError(f"{text!r}: expected a comma at {text[i:]!r}")
            i += 1
            if i == len(text):
                out.append("")
    return out


def parse(text: str) -> tuple[LinkSpec, ...]:
    """`IMAGE[+FAULT][*N],...` -> link specs (ValueError says what is wrong)."""
    specs = []
    for part in _expand(text):
        part = part.strip()
        if not part:
            raise ValueError(f"{text!r}: an empty link (links are separated by commas)")
        image, _, fault = part.partition("+")
        if fault and fault != "old" and fault not in content.FAULTS:
            raise ValueError(f"link {part!r}: {fault!r} is not a content fault "
                             f"({', '.join(content.FAULTS)}) nor old")
        if not image:
            raise ValueError(f"link {part!r}: no image")
        specs.append(LinkSpec(image, fault or None))
    if not specs:
        raise ValueError(f"{text!r}: no link")
    return tuple(specs)


def format_specs(specs: tuple[LinkSpec, ...]) -> str:
    return ",".join(s.image + (f"+{s.fault}" if s.fault else "") for s in specs)


def resolve(specs: tuple[LinkSpec, ...], device: Device, seed: int) -> list[Link]:
    """Read each link's image (a role of the description, else a file) and damage it."""
    links = []
    for spec in specs:
        role = device.firmware.images.get(spec.image)
        path = role.path if role is not None else Path(spec.image)
        try:
            good = path.read_bytes()
        except OSError as e:
            raise BenchError(f"--chain: {spec.image}: neither an image role of "
                             f"{device.source} nor a readable file ({e.strerror})") from None
        slot = device.layout.app_slot
        if len(good) <= device.image.header_size or len(good) > slot.size:
            raise BenchError(f"--chain: {path}: {len(good)} bytes is not an image that fits "
                             f"the {slot.name} region ({slot.size} bytes)")
        damage = spec.fault if spec.fault != "old" else None
        try:
            image = good if damage is None else content.damaged(good, damage, seed)
        except ValueError as e:
            raise BenchError(f"--chain: {spec.image}+{spec.fault}: {e}") from None
        links.append(Link(path, image, good, damage, "old" if spec.fault else "new"))
    return links


def running_before(factory: bytes, links: list[Link], k: int) -> bytes:
    """The image that runs when link k starts: the last link before it that installed."""
    running = factory
    for link in links[:k]:
        if link.expect == "new":
            running = link.image
    return running


def staged_append(device: Device, a: bytes, b: bytes, image: bytes, good: bytes
                  ) -> list[tuple[int, bytes]]:
    """(address, bytes) that append a STAGED record for `image` to the journal whose two
    regions hold `a` and `b`, as the device's staging writer does: the next slot of the
    sector holding the newest record, or, when that sector is full, the other sector
    erased and the record at its first slot (compaction). The record keeps the current
    floor (anti-rollback): the writer never lowers it."""
    regions = [device.layout.region(n) for n in device.metadata.regions]
    view = journal.scan(a, b)
    cur = view.current
    seq = cur.seq + 1 if cur is not None else 1
    version, digest = content.claimed_record_fields(image, good)
    rec = JournalRecord(seq=seq, state=State.STAGED, image_size=len(image),
                        image_version=version, digest=digest,
                        floor=cur.floor if cur is not None else 0).encode()
    if view.next_slot is not None:
        base = regions[view.next_sector].addr
        return [(base + view.next_slot * journal.RECORD_SIZE, rec)]
    other = regions[1 - view.next_sector]
    return [(other.addr, rec + b"\xff" * (other.size - len(rec)))]
