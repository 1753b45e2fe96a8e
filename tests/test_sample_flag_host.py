"""The sample-flag device's C modules compiled for the host, under the sanitizers.

Each program in firmware/host/flag/ prints "<name>: N checks, M failed"; a non-zero exit
status, a sanitizer report or no checks at all fails the test. They are compiled with
the device's own layout header first (-iquote firmware/devices/sample-flag), as
`make firmware` compiles the device.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from pybench.paths import repo_root

FW = repo_root() / "firmware"
HOST = "host/flag"
FLAG_LAYOUT = ["-iquote", "devices/sample-flag"]
SIM = ["host/flash_sim.c", "common/flash_geometry.c", "common/crc32.c",
       "common/update_flag.c"]
NET = [f"app/{m}.c" for m in ("netif", "arp", "ipv4", "icmp", "udp", "tcp", "checksum")]
FAKES = ["host/app/check.c", "host/app/fake_console.c", f"{HOST}/fake_flag_app.c"]

# TFTP as the device's build sets it (firmware/Makefile, FLAG_APP_CFLAGS).
TFTP_FLAGS = ["-DTFTP_OPTIONS=0", '-DTFTP_LOG="[tftp] "', "-DTFTP_RESET_AFTER_STAGED_MS=500"]

# program -> the sources it links besides its test_<name>.c (paths relative to firmware/),
# and its own flags
PROGRAMS: dict[str, tuple[list[str], list[str]]] = {
    "flag_boot": (["host/app/check.c", "host/console_host.c", "boot/flag_boot.c", *SIM], []),
    "dhcp": (["host/app/check.c", "app/dhcp.c"], []),
    "flag_http": ([*FAKES, "host/app/harness.c", "host/app/fake_staging.c", *NET,
                   "app/flag_http.c", "app/login.c", "app/http_parser.c", "app/multipart.c",
                   "app/strbuf.c"], []),
    "tftp_flag": ([*FAKES, "app/tftp.c", "app/staging_flag.c", "app/strbuf.c", *SIM],
                  TFTP_FLAGS),
}

FLAGS = ["-std=c11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-DAPP_VERSION=7",
         '-DAPP_VERSION_STR="7.0.0"', *FLAG_LAYOUT, "-Iapp", "-Icommon", "-Iinclude",
         "-Iboot", "-Ihost", "-Ihost/app", f"-I{HOST}"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
VERDICT = re.compile(r"^(\w+): (\d+) checks, (\d+) failed$", re.MULTILINE)


def _cc() -> str:
    for name in ("cc", "gcc", "clang"):
        if shutil.which(name):
            return name
    pytest.skip("no host C compiler (cc) installed")


@pytest.fixture(scope="session")
def build_flag_test(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    cc = _cc()
    out = tmp_path_factory.mktemp("flag-host")
    probe = out / "probe.c"
    probe.write_text("int main(void) { return 0; }\n")
    sanitize = SANITIZE if subprocess.run(
        [cc, *SANITIZE, str(probe), "-o", str(out / "probe")], capture_output=True,
        check=False).returncode == 0 else []

    def build(name: str) -> Path:
        exe = out / f"test_{name}"
        sources, extra = PROGRAMS[name]
        cmd = [cc, *FLAGS, *sanitize, *extra, f"{HOST}/test_{name}.c", *sources, "-o", str(exe)]
        result = subprocess.run(cmd, cwd=FW, capture_output=True, text=True, check=False)
        if result.returncode:
            raise AssertionError(f"{' '.join(cmd)} failed:\n{result.stderr}")
        return exe

    return build


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_flag_host_program(name: str, build_flag_test: Callable[[str], Path]) -> None:
    exe = build_flag_test(name)
    result = subprocess.run([str(exe)], capture_output=True, text=True, check=False,
                            timeout=600)
    verdict = VERDICT.search(result.stdout)
    detail = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 0, detail
    assert verdict is not None and verdict.group(1) == name, detail
    assert int(verdict.group(2)) > 0 and int(verdict.group(3)) == 0, detail
