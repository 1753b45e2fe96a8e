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


_TAG = re.compile(r"<[^>]*>")


def device_line(step: HttpStep, response: HttpResponse) -> str:
    """One line of the device's answer for the report: the line where the refuse or the
    accept text matched, else the first line; from an HTML page without its tags
    ("<p>Update staged: 1234 bytes</p>" reads "Update staged: 1234 bytes"); the reason
    phrase when there is no text."""
    html = ("html" in response.headers.get("content-type", "").lower()
            or response.text.lstrip().startswith("<"))

    def clean(raw: str) -> str:
        return (_TAG.sub("", raw) if html else raw).strip()

    raw_lines = response.text.splitlines()
    for pattern in (step.refuse_text, step.accept_text):
        if pattern is not None:
            for raw in raw_lines:
                if re.search(pattern, raw) and clean(raw):
                    return clean(raw)
    return next((clean(raw) for raw in raw_lines if clean(raw)), response.reason)


def step_request(step: HttpStep, server: str, jar: CookieJar, boundary: str = "",
                 image: bytes = b"") -> bytes:
    """The request bytes of one step: its form, or the image it carries, and the cookies."""
    headers = dict(jar.header())
    if step.upload == "multipart":
        body = multipart_form(boundary, step.form, step.field, step.filename, image)
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    elif step.upload == "raw":
        body = image
        headers["Content-Type"] = step.content_type
    elif step.form:
        body = form_body(step.form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    else:
        body = b""
    return build_request(step.method, step.path, server, body, headers)


class StepRun:
    """One HTTP step that carries no image, judged as a transport's steps are: the first
    step of a transport as a check that the device answers, or the request that restarts
    a device after an upload. Keep it in host.apps when it must be saved with the host."""

    def __init__(self, host: Host, server: str, step: HttpStep, port: int = 80,
                 jar: CookieJar | None = None, tcp_config: TcpConfig | None = None) -> None:
        if step.upload is not None:
            raise ValueError(f"{step.label}: carries the image; run it in an Upload")
        self.step = step
        self.jar = jar if jar is not None else CookieJar()
        self.exchange = HttpExchange(host, server, port, step_request(step, server, self.jar),
                                     tcp_config)

    @property
    def done(self) -> bool:
        return self.exchange.done

    def result(self) -> StepResult:
        """How the step went (status None and the error when there was no response)."""
        try:
            response = self.exchange.result()
        except HttpError as e:
            return StepResult(self.step.label, None, str(e), False)
        self.jar.take(response)
        return StepResult(self.step.label, response.status,
                          device_line(self.step, response), judge(self.step, response))


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
        return step_request(step, self.server, self.jar, self.boundary, self.image)

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
            line = device_line(step, response)
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
