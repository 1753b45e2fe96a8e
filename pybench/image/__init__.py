"""Update images: a 512-byte header and a body (docs/image-format.md)."""

from pybench.image.format import (
    HEADER_FIELDS_SIZE,
    IMAGE_MAGIC,
    TARGET_F407,
    Image,
    ImageError,
    ImageHeader,
    build_image,
    parse_image,
)

__all__ = [
    "HEADER_FIELDS_SIZE",
    "IMAGE_MAGIC",
    "TARGET_F407",
    "Image",
    "ImageError",
    "ImageHeader",
    "build_image",
    "parse_image",
]
