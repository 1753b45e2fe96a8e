"""The application's protocol code compiled for the host and run under the sanitizers.

Each C program in firmware/host/app/ checks one module (or the stack end to end) and prints
"<name>: N checks, M failed"; a non-zero exit status, a sanitizer report or no checks at
all fails the test. The programs are built with the host cc into a temporary directory.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from pybench.paths import build_dir, repo_root

FW = repo_root() / "firmware"
APP = "app"
HOST = "host/app"
NET = [f"{APP}/{m}.c" for m in ("netif", "arp", "ipv4", "icmp", "udp", "tcp", "checksum")]
FAKES = [f"{HOST}/{m}.c" for m in ("check", "fake_console", "fake_app")]
SERVER = [f"{APP}/{m}.c" for m in ("http", "http_parser", "multipart", "status", "strbuf")]

# Stands for mbedTLS and the test key of `make firmware`'s build folder (crypto_args()).
CRYPTO = "<crypto>"

# test program -> the sources it links (paths relative to firmware/), extra flags
PROGRAMS: dict[str, tuple[list[str], list[str]]] = {
    "checksum": ([f"{HOST}/check.c", f"{APP}/checksum.c"], []),
    "multipart": ([f"{HOST}/check.c", f"{APP}/multipart.c"], []),
    "http_parser": ([f"{HOST}/check.c", f"{APP}/http_parser.c"], []),
    "tftp": ([*FAKES, f"{HOST}/fake_staging.c", f"{APP}/tftp.c", f"{APP}/strbuf.c"], []),
    "frames": ([*FAKES, f"{HOST}/harness.c", *NET], []),
    "tcp": ([*FAKES, f"{HOST}/harness.c", *NET], []),
    "http": ([*FAKES, f"{HOST}/harness.c", f"{HOST}/fake_staging.c", *NET, *SERVER], []),
    "fuzz": ([*FAKES, f"{HOST}/harness.c", f"{HOST}/fake_staging.c", *NET, *SERVER,
              f"{APP}/tftp.c"], []),
    "staging": ([*FAKES, f"{APP}/staging.c", f"{APP}/strbuf.c", "common/journal.c",
                 "common/image.c", "common/signature.c", "common/crc32.c",
                 "common/flash_geometry.c", "host/flash_sim.c",
                 "host/image_host.c", CRYPTO],
                ["-DFAKES_REAL_JOURNAL", "-Ihost", CRYPTO]),
}

BASE_FLAGS = ["-std=c11", "-O1", "-g", "-Wall", "-Wextra", "-Werror",
              "-DAPP_VERSION=7", '-DAPP_VERSION_STR="7.0.0"',
              f"-I{APP}", "-Icommon", "-Iinclude", f"-I{HOST}"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
VERDICT = re.compile(r"^(\w+): (\d+) checks, (\d+) failed$", re.MULTILINE)


def _cc() -> str:
    for name in ("cc", "gcc", "clang"):
        if shutil.which(name):
            return name
    pytest.skip("no host C compiler (cc) installed")


def _sanitizers_work(cc: str, tmp: Path) -> bool:
    probe = tmp / "probe.c"
    probe.write_text("int main(void) { return 0; }\n")
    result = subprocess.run([cc, *SANITIZE, str(probe), "-o", str(tmp / "probe")],
                            capture_output=True, check=False)
    return result.returncode == 0


def crypto_args(flags: bool) -> list[str]:
    """mbedTLS (built for the host by `make firmware`) and the build's test key."""
    build = build_dir()
    lib = build / "mbedtls" / "libmbedcrypto-host.a"
    if not lib.exists() or not (build / "keys" / "image_key.h").exists():
        pytest.skip(f"{lib} or the test key missing: run `make firmware` first")
    if not flags:
        return [str(lib)]
    return [f"-I{build / 'keys'}", "-isystem", str(build / "mbedtls" / "src" / "include"),
            "-DMBEDTLS_CONFIG_FILE=\"mbedtls_config.h\""]


def _expand(items: list[str], flags: bool) -> list[str]:
    return [a for item in items for a in (crypto_args(flags) if item == CRYPTO else [item])]


@pytest.fixture(scope="session")
def build_host_test(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    cc = _cc()
    out = tmp_path_factory.mktemp("app-host")
    sanitize = SANITIZE if _sanitizers_work(cc, out) else []
    built: dict[str, Path] = {}

    def build(name: str) -> Path:
        if name in built:
            return built[name]
        sources, extra = PROGRAMS[name]
        exe = out / f"test_{name}"
        cmd = [cc, *BASE_FLAGS, *sanitize, *_expand(extra, True), f"{HOST}/test_{name}.c",
               *_expand(sources, False), "-o", str(exe)]
        result = subprocess.run(cmd, cwd=FW, capture_output=True, text=True, check=False)
        if result.returncode:
            raise AssertionError(f"{' '.join(cmd)} failed:\n{result.stderr}")
        built[name] = exe
        return exe

    return build


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_app_host_program(name: str, build_host_test: Callable[[str], Path]) -> None:
    exe = build_host_test(name)
    result = subprocess.run([str(exe)], capture_output=True, text=True, check=False,
                            timeout=300)
    verdict = VERDICT.search(result.stdout)
    detail = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 0, detail
    assert verdict is not None and verdict.group(1) == name, detail
    assert int(verdict.group(2)) > 0 and int(verdict.group(3)) == 0, detail


@pytest.mark.parametrize("seed", [1, 0xBEEF, 0xC0FFEE])
def test_fuzz_other_seeds(seed: int, build_host_test: Callable[[str], Path]) -> None:
    exe = build_host_test("fuzz")
    result = subprocess.run([str(exe), "50000", str(seed)], capture_output=True, text=True,
                            check=False, timeout=300)
    assert result.returncode == 0, f"seed {seed}:\n{result.stdout}\n{result.stderr}"
