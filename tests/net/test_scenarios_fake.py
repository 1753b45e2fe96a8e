"""The scenario functions against a scripted device (no firmware): console waits, upload
results, and an upload saved in its middle and finished twice from there."""

from __future__ import annotations

from netfakes import FakeEngine, TcpPeer
from sample_device import SAMPLE

from pybench.engine.base import UartLog
from pybench.net import scenarios

SECOND = 1_000_000_000


class ScriptedDevice(FakeEngine):
    """Answers one HTTP upload like the firmware: 202 and a console verdict."""

    def __init__(self, verdict: bytes = b"staged") -> None:
        self.tcp = TcpPeer(mss=536, window=2048, respond=self._respond)
        super().__init__(self.tcp)
        self.lines: list[str] = ["app: firmware v1 (1.0.0) starting", "net: link up"]
        self.verdict = verdict
        self.later: list[tuple[int, str]] = []   # lines printed at a virtual time

    def _respond(self, request: bytes) -> bytes:
        body = request.partition(b"\r\n\r\n")[2]
        if self.verdict == b"staged":
            self.lines.append(f"staging: staged v2 ({len(body)} bytes)")
            return b"HTTP/1.1 202 Accepted\r\nContent-Length: 7\r\n\r\nstaged\n"
        self.lines.append("staging: rejected: digest mismatch")
        return b"HTTP/1.1 422 Unprocessable\r\nContent-Length: 16\r\n\r\ndigest mismatch\n"

    def uart(self) -> UartLog:
        lines = self.lines + [line for t, line in self.later if t <= self.now_ns]
        return UartLog("\r\n".join(lines), lines)

    def snapshot(self) -> object:
        return (super().snapshot(), list(self.lines))

    def restore(self, snap: object) -> None:
        assert isinstance(snap, tuple)
        super().restore(snap[0])
        self.lines = list(snap[1])


def test_wait_console_finds_lines_in_order_and_reports_timeouts() -> None:
    device = ScriptedDevice()
    scenarios.attach(device, SAMPLE)
    assert scenarios.wait_console(device, r"^net: link") == "net: link up"
    device.lines.append("net: up 192.168.7.2")
    assert scenarios.boot_and_wait(device) == "net: up 192.168.7.2"
    try:
        scenarios.boot_and_wait(device, timeout_ns=SECOND)
    except scenarios.ScenarioError as e:
        assert "no console line matching" in str(e) and "net: up 192.168.7.2" in str(e)
    else:
        raise AssertionError("a second net: up was found where there is none")


def test_line_printed_while_the_board_runs_is_found_once() -> None:
    device = ScriptedDevice()
    scenarios.attach(device, SAMPLE)
    device.later = [(3 * SECOND, "net: up 192.168.7.2"), (4 * SECOND, "net: up again")]
    assert scenarios.boot_and_wait(device) == "net: up 192.168.7.2"
    assert 3 * SECOND <= device.now_ns < 4 * SECOND
    assert scenarios.boot_and_wait(device) == "net: up again"


def test_http_upload_result_carries_status_reason_and_console_verdict() -> None:
    device = ScriptedDevice()
    scenarios.attach(device, SAMPLE, seed=3)
    seen: list[tuple[int, int]] = []
    result = scenarios.upload(device, b"\x42" * 6000, via="http", mode="raw",
                              progress=lambda sent, total: seen.append((sent, total)))
    assert result.accepted and result.status == 202 and result.reason == "staged"
    assert result.staging == "staging: staged v2 (6000 bytes)"
    assert seen[-1][0] == seen[-1][1] == result.total
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)


def test_rejection_is_reported_not_raised() -> None:
    device = ScriptedDevice(verdict=b"rejected")
    scenarios.attach(device, SAMPLE)
    result = scenarios.upload(device, b"\x00" * 1000, via="http")
    assert not result.accepted
    assert (result.status, result.reason) == (422, "digest mismatch")
    assert result.staging == "staging: rejected: digest mismatch"


def test_upload_saved_in_the_middle_finishes_identically_after_load() -> None:
    device = ScriptedDevice()
    scenarios.attach(device, SAMPLE, seed=9)
    image = bytes(i % 241 for i in range(20_000))
    scenarios.start_upload(device, image, via="http", mode="multipart", filename="v2.img")
    b = scenarios.bench(device)
    assert b.wire.run_until(lambda: b.host.apps["upload"].sent > 8000, 10 * SECOND)
    snap = scenarios.save(device)
    peer_state = (bytes(device.tcp.data), device.tcp.rcv_nxt, device.tcp.responded,
                  device.tcp.fin_received, device.tcp.snd_nxt)
    first = scenarios.finish_upload(device)
    first_wire = [f for _, f in device.received]
    scenarios.load(device, snap)
    tcp = device.tcp
    (data, tcp.rcv_nxt, tcp.responded, tcp.fin_received, tcp.snd_nxt) = peer_state
    tcp.data = bytearray(data)
    second = scenarios.finish_upload(device)
    assert first == second and first.accepted
    assert [f for _, f in device.received] == first_wire
    assert image in bytes(tcp.data)
