"""One image upload from the host to a device, over an HTTP or a TFTP transport.

The transport (pybench/net/transport.py) says how the device takes an image: HTTP as a
sequence of requests, each over its own connection with the cookies of the earlier ones,
one of them carrying the image; or TFTP with the waits its server needs. The device's
address is always given by the caller.

An Upload lives in the host's state (host.apps["upload"]), so a snapshot of the host
taken in the middle of a transfer carries it, and the transfer goes on after a load().
It knows how far it got (`sent`, `total`), whether it finished (`done`), and turns the
device's answers into an UploadResult: accepted, refused (with the device's text), or
failed (no answer, or a step before the upload did not succeed).

The HTTP steps move on by themselves: when a step's response has ended (the exchange's
on_end, called from the host's segment handling at that virtual time) it is judged and
the next step's connection opens, whatever condition the wire is run with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pybench.net.host import Host
from pybench.net.http import (
    CookieJar,
    HttpError,
    HttpExchange,
    HttpResponse,
    browser_boundary,
    build_request,
    form_body,
    multipart_form,
)
from pybench.net.tcp import TcpConfig
from pybench.net.tftp import TftpWriter
from pybench.net.transport import HttpStep, HttpTransport, Transport

VIAS = ("http", "tftp")
MODES = ("multipart", "raw")

ACCEPTED, REFUSED, FAILED = "accepted", "refused", "failed"

SECOND = 1_000_000_000


@dataclass(frozen=True)
class StepResult:
    """One HTTP step as it went: its status (None: no response) and the first text line."""

    label: str
    status: int | None
    text: str
    ok: bool


@dataclass(frozen=True)
class UploadResult:
    """What the device said. `status`: the HTTP status of the upload step (or of the step
    that failed before it), or for TFTP 0 when every block was acknowledged and the ERROR
    code otherwise; None when the device never answered. `verdict`: accepted, refused or
    failed, as the transport judged the answers. `staged`: the device's own verdict on the
    console when the caller looked for one (None: not looked for, or nothing seen)."""

    via: str
    status: int | None
    reason: str               # one line: the device's text, or what went wrong
    bytes_sent: int
    total: int
    staging: str = ""         # the staging writer's console verdict, when it printed one
    verdict: str = ""
    steps: tuple[StepResult, ...] = ()
    staged: bool | None = None

    @property
    def accepted(self) -> bool:
        """The transport judged the image taken, and the console did not say otherwise."""
        return self.verdict == ACCEPTED and self.staged is not False


def judge(step: HttpStep, response: HttpResponse) -> bool:
    """The step succeeded: an accepted status, the accept text (when given) in the body,
    and no refuse text."""
    text = response.text
    if step.refuse_text is not None and re.search(step.refuse_text, text):
        return False
    if response.status not in step.accept_status:
        return False
    return step.accept_text is None or re.search(step.accept_text, text) is not None


def first_line(response: HttpResponse) -> str:
    text = response.text.strip()
    return text.splitlines()[0].strip() if text else response.reason


class Upload:
    """A transfer in progress, by `transport` (a device description's), to `server`;
    see the module docstring."""

    def __init__(self, host: Host, image: bytes, *, server: str, transport: Transport,
                 tcp_config: TcpConfig | None = None) -> None:
        self.transport = transport
        self.via = "http" if isinstance(transport, HttpTransport) else "tftp"
        self.host = host
        self.server = server
        self.image = image
        self.image_size = len(image)
        self.tcp_config = tcp_config
        self.http: HttpExchange | None = None     # the current step's exchange
        self.tftp: TftpWriter | None = None
        self.jar = CookieJar()
        self.step = 0
        self.steps: list[StepResult] = []
        self.verdict: str | None = None
        self._reason = ""
        self._status: int | None = None
        self._upload_total: int | None = None
        if isinstance(transport, HttpTransport):
            # Drawn now, so the same seed gives the same bytes whatever the steps before.
            self.boundary = (browser_boundary(host.rng) if any(
                s.upload == "multipart" for s in transport.steps) else "")
            self._start_step()
        else:
            self.tftp = TftpWriter(host, server, transport.filename, image,
                                   blksize=transport.blksize,
                                   timeout_ns=int(transport.timeout_s * SECOND),
                                   server_timeout_ns=int(transport.server_timeout_s * SECOND),
                                   port=transport.port)
            self.tftp.start()

    # --- HTTP steps -------------------------------------------------------------------
    def _request(self, step: HttpStep) -> bytes:
        headers = dict(self.jar.header())
        if step.upload == "multipart":
            body = multipart_form(self.boundary, step.form, step.field, step.filename,
                                  self.image)
            headers["Content-Type"] = f"multipart/form-data; boundary={self.boundary}"
        elif step.upload == "raw":
            body = self.image
            headers["Content-Type"] = step.content_type
        elif step.form:
            body = form_body(step.form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            body = b""
        return build_request(step.method, step.path, self.server, body, headers)

    def _start_step(self) -> None:
        assert isinstance(self.transport, HttpTransport)
        step = self.transport.steps[self.step]
        request = self._request(step)
        if step.upload is not None:
            self._upload_total = len(request)
        self.http = HttpExchange(self.host, self.server, self.transport.port, request,
                                 self.tcp_config)
        self.http.on_end = self._advance

    def _advance(self) -> None:
        """Judge the current step once its exchange ended; open the next one."""
        while self.verdict is None and self.http is not None and self.http.done:
            assert isinstance(self.transport, HttpTransport)
            step = self.transport.steps[self.step]
            try:
                response = self.http.result()
            except HttpError as e:
                self.steps.append(StepResult(step.label, None, str(e), False))
                self._end(FAILED, None, f"{step.label}: {e}")
                return
            ok = judge(step, response)
            line = first_line(response)
            self.steps.append(StepResult(step.label, response.status, line, ok))
            self.jar.take(response)
            if step.upload is not None:
                self._status, self._reason = response.status, line
                if not ok:
                    self._end(REFUSED, response.status, line)
                    return
            elif not ok:
                self._end(FAILED, response.status,
                          f"{step.label}: {response.status} {line}")
                return
            if self.step + 1 == len(self.transport.steps):
                self._end(ACCEPTED, self._status, self._reason)
                return
            self.step += 1
            self._start_step()

    def _end(self, verdict: str, status: int | None, reason: str) -> None:
        self.verdict, self._status, self._reason = verdict, status, reason

    # --- progress ---------------------------------------------------------------------
    @property
    def total(self) -> int:
        if self.tftp is not None:
            return self.image_size
        return self._upload_total if self._upload_total is not None else self.image_size

    @property
    def sent(self) -> int:
        """Bytes the device acknowledged (for HTTP: of the whole upload request)."""
        if self.tftp is not None:
            return self.tftp.bytes_acked
        assert isinstance(self.transport, HttpTransport)
        if self.step < self.transport.upload_index:
            return 0
        if self.step > self.transport.upload_index or self.http is None:
            return self.total
        return self.http.sent

    @property
    def done(self) -> bool:
        if self.tftp is not None:
            return self.tftp.done
        self._advance()
        return self.verdict is not None

    def result(self) -> UploadResult:
        if self.tftp is not None:
            return self._tftp_result(self.tftp)
        self._advance()
        steps = tuple(self.steps)
        if self.verdict is None:
            return UploadResult("http", None, "transfer not finished", self.sent, self.total,
                                steps=steps)
        return UploadResult("http", self._status, self._reason, self.sent, self.total,
                            verdict=self.verdict, steps=steps)

    def _tftp_result(self, tftp: TftpWriter) -> UploadResult:
        if tftp.error is not None:
            verdict = FAILED if tftp.error.code is None else REFUSED
            return UploadResult("tftp", tftp.error.code, tftp.error.message,
                                self.sent, self.total, verdict=verdict)
        if not tftp.done:
            return UploadResult("tftp", None, "transfer not finished", self.sent, self.total)
        return UploadResult("tftp", 0, "all blocks acknowledged", self.sent, self.total,
                            verdict=ACCEPTED)
