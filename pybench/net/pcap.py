"""Every frame on the virtual wire, both directions, into a pcap file with its virtual time.

Nanosecond pcap (magic 0xa1b23c4d), link type Ethernet: tshark and Wireshark read it,
and so does scapy's rdpcap. Virtual time 0 is the board's first power-on, so the
timestamps read as seconds since power-on (1970-01-01 plus a few seconds in Wireshark).
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from scapy.utils import PcapWriter

from pybench.errors import BenchError

DLT_EN10MB = 1


class PcapRecorder:
    """Appends frames to a pcap file; close() (or a with block) flushes it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.frames = 0
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = PcapWriter(str(path), linktype=DLT_EN10MB, nano=True, sync=True)
            # write_packet() of raw bytes skips the file header, so write it now: an
            # empty capture is then still a valid pcap file.
            self._writer.write_header(None)
        except OSError as e:
            raise BenchError(f"{path}: cannot write the pcap file: {e.strerror}") from None

    def record(self, time_ns: int, frame: bytes) -> None:
        sec, nsec = divmod(max(0, time_ns), 1_000_000_000)
        self._writer.write_packet(frame, sec=sec, usec=nsec)
        self.frames += 1

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> PcapRecorder:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
