"""`pybench image`: create, inspect, verify and corrupt update images."""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import replace
from pathlib import Path

from pybench import layout
from pybench.errors import BenchError
from pybench.image import signing
from pybench.image.elf import body_from_file, read_input
from pybench.image.format import (
    TARGET_F407,
    UNSIGNED,
    Image,
    ImageError,
    ImageHeader,
    build_image,
    check_header,
    check_image,
    parse_image,
)

FAULTS = ("magic", "target", "digest", "truncate", "header-crc", "oversize", "empty",
          "unsigned", "signature", "key")


def _int(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def _u32(text: str) -> int:
    """A header field: an integer that fits 32 unsigned bits."""
    value = _int(text)
    if not 0 <= value <= 0xFFFFFFFF:
        raise argparse.ArgumentTypeError(f"{text} is outside 0..4294967295 (a 32-bit field)")
    return value


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("image", help="create, inspect, verify or corrupt update images")
    isub = p.add_subparsers(dest="image_command", metavar="ACTION", required=True,
                            parser_class=type(p))

    c = isub.add_parser("create", help="make an image from an application ELF or .bin")
    c.add_argument("input", type=Path, help="application ELF (linked at APP_LOAD_ADDR) or .bin")
    c.add_argument("-o", "--output", type=Path, required=True)
    c.add_argument("--version", type=_u32, required=True, help="image version number")
    c.add_argument("--version-str", help="version text (default N.0.0)")
    c.add_argument("--load-addr", type=_u32, help="load address of a .bin (default: layout)")
    c.add_argument("--target", type=_u32, default=TARGET_F407, help="target id (default 0x413)")
    c.add_argument("--key", type=Path, help="sign with this private key (PEM, ECDSA P-256); "
                                            "the device refuses unsigned images")
    c.set_defaults(func=_create)

    g = isub.add_parser("keygen", help="make an ECDSA P-256 key pair for signing images")
    g.add_argument("-o", "--output", type=Path, required=True,
                   help="private key (PEM); the public key goes beside it as .pub.pem")
    g.add_argument("--c-header", type=Path, help="also write the public key as a C header "
                                                 "(what the firmware is built with)")
    g.add_argument("--c-private", type=Path, help="also write the private key as a C header "
                                                  "(host test harnesses only)")
    g.add_argument("--force", action="store_true", help="replace an existing key")
    g.set_defaults(func=_keygen)

    i = isub.add_parser("inspect", help="print an image's header and whether it is valid")
    i.add_argument("image", type=Path)
    i.add_argument("--json", action="store_true", help="machine-readable output")
    i.add_argument("--key", type=Path, help="check the signature with this key (PEM, "
                                            "either half)")
    i.set_defaults(func=_inspect)

    v = isub.add_parser("verify", help="exit 0 when the image is valid, 1 when not")
    v.add_argument("image", type=Path)
    v.add_argument("--key", type=Path, help="check the signature with this key (PEM, "
                                            "either half)")
    v.set_defaults(func=_verify)

    k = isub.add_parser("corrupt", help="make a deliberately bad image for rejection tests")
    k.add_argument("image", type=Path)
    k.add_argument("-o", "--output", type=Path, required=True)
    k.add_argument("--fault", choices=FAULTS, required=True)
    k.set_defaults(func=_corrupt)


def _create(args: argparse.Namespace) -> int:
    lay = layout.load()
    load_addr = args.load_addr if args.load_addr is not None else lay.APP_LOAD_ADDR
    body = body_from_file(args.input, load_addr)
    total = lay.IMAGE_HEADER_SIZE + len(body)
    if total > lay.IMAGE_MAX_SIZE:
        raise BenchError(f"{args.input}: image is {total} bytes, larger than the "
                         f"{lay.IMAGE_MAX_SIZE}-byte application slot")
    key = signing.load_private(args.key) if args.key else None
    try:
        image = build_image(body, args.version, args.version_str, load_addr, args.target, key)
    except ImageError as e:
        raise BenchError(f"{args.input}: {e}") from None
    _write(args.output, image.to_bytes())
    signed = f", signed by key 0x{image.header.key_id:08x}" if key else ", unsigned"
    print(f"{args.output}: image v{image.header.image_version} ({image.header.version_str}), "
          f"{image.total_size} bytes, sha256 {image.header.body_sha256.hex()[:16]}...{signed}")
    return 0


def _keygen(args: argparse.Namespace) -> int:
    out: Path = args.output
    if out.exists() and not args.force:
        raise BenchError(f"{out}: exists (--force replaces it; images signed with it would "
                         "no longer be accepted by firmware built with the new key)")
    key = signing.generate()
    pub = key.public_key()
    _write(out, signing.private_pem(key))
    out.chmod(0o600)
    pub_path = out.with_name(out.name.removesuffix(".pem") + ".pub.pem")
    _write(pub_path, signing.public_pem(pub))
    if args.c_header:
        _write(args.c_header, signing.c_header(pub).encode())
    if args.c_private:
        _write(args.c_private, signing.c_private_header(key).encode())
    print(f"{out}: ECDSA P-256 key pair, key id 0x{signing.key_id(pub):08x}; "
          f"public key {pub_path}")
    return 0


def _load(path: Path, key_path: Path | None = None) -> tuple[bytes, Image | None, str]:
    """The file, its image if it parses, and 'valid' or what is wrong."""
    data = read_input(path)
    key = signing.load_public(key_path) if key_path else None
    try:
        image = parse_image(data, check=False)
    except ImageError as e:
        return data, None, str(e)
    try:
        check_image(image, key)
    except ImageError as e:
        return data, image, str(e)
    return data, image, "valid"


def _inspect(args: argparse.Namespace) -> int:
    data, image, verdict = _load(args.image, args.key)
    if image is None:
        fields: dict[str, object] = {"file": str(args.image), "size": len(data)}
    else:
        h = image.header
        fields = {
            "file": str(args.image), "size": len(data), "magic": f"0x{h.magic:08x}",
            "header_version": h.header_version, "header_size": h.header_size,
            "target_id": f"0x{h.target_id:x}", "image_version": h.image_version,
            "version_str": h.version_str, "body_size": h.body_size,
            "load_addr": f"0x{h.load_addr:08x}", "body_sha256": h.body_sha256.hex(),
            "header_crc": f"0x{h.header_crc or 0:08x}",
            "signature": (f"ECDSA P-256, key 0x{h.key_id:08x}" if h.signed else "none")
                         + ("" if args.key or not h.signed else " (not checked: no --key)"),
        }
    fields["verdict"] = verdict
    if args.json:
        print(json.dumps(fields, indent=2))
    else:
        width = max(len(k) for k in fields)
        for key, value in fields.items():
            print(f"{key:<{width}}  {value}")
    return 0 if verdict == "valid" else 1


def _verify(args: argparse.Namespace) -> int:
    _, _, verdict = _load(args.image, args.key)
    print(f"{args.image}: {verdict}")
    return 0 if verdict == "valid" else 1


def corrupt(data: bytes, fault: str) -> bytes:
    """A copy of a valid image with one fault the device must reject."""
    lay = layout.load()
    image = parse_image(data)
    # Packed with header_crc=None the CRC is computed afresh: each fault stands alone.
    h = replace(image.header, raw_fields=None, header_crc=None)
    body = image.body
    if fault == "magic":
        return replace(h, magic=0xDEADBEEF).pack() + body
    if fault == "target":
        return replace(h, target_id=0x419).pack() + body   # an STM32F42x/43x
    if fault == "header-crc":
        return replace(h, header_crc=h.computed_crc() ^ 1).pack() + body
    if fault == "digest":
        flipped = bytearray(body)
        flipped[len(flipped) // 2] ^= 0x01
        return h.pack() + bytes(flipped)
    if fault == "truncate":
        return data[: lay.IMAGE_HEADER_SIZE + len(body) // 2]
    if fault == "oversize":
        # Valid header and digest, but larger than the application slot.
        pad = lay.IMAGE_MAX_SIZE - lay.IMAGE_HEADER_SIZE - len(body) + 4
        big = body + b"\xff" * pad
        return replace(h, body_size=len(big), body_sha256=hashlib.sha256(big).digest()).pack() + big
    if fault == "empty":
        return b""
    # Signature faults keep every other field, so only the signature check rejects them.
    signed = image.header
    if fault == "unsigned":
        return replace(signed, sig_type=signing.SIG_NONE, key_id=0xFFFFFFFF,
                       signature=UNSIGNED).pack() + body
    if fault == "signature":
        sig = bytearray(signed.signature)
        sig[10] ^= 0x01
        return replace(signed, sig_type=signing.SIG_ECDSA_P256, signature=bytes(sig)).pack() + body
    if fault == "key":
        # Signed, correctly, by a key the device does not hold.
        return signed.signed_with(signing.generate()).pack() + body
    raise BenchError(f"unknown fault {fault!r}")


def _corrupt(args: argparse.Namespace) -> int:
    data = read_input(args.image)
    try:
        check_header(ImageHeader.unpack(data))
    except ImageError as e:
        raise BenchError(f"{args.image}: not a valid image to corrupt: {e}") from None
    bad = corrupt(data, args.fault)
    _write(args.output, bad)
    print(f"{args.output}: {args.fault} fault, {len(bad)} bytes")
    return 0


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as e:
        raise BenchError(f"{path}: cannot write: {e.strerror}") from None
