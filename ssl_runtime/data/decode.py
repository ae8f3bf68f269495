"""Turning one stored image file into RGB pixels, robustly, and back into cache bytes.

Real folders hold EXIF-rotated phone photos, CMYK and 16-bit files, palette PNGs with transparency,
truncated downloads and the odd 200-megapixel panorama. `load_rgb` handles each the same way every time;
anything it cannot read comes back as a reason, never as an exception, so one bad file never stops a
build. JPEG decoding goes through simplejpeg (libjpeg-turbo, about 2x Pillow here) when it is installed.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

try:  # optional fast path; Pillow does everything without it
    import simplejpeg
except ImportError:  # pragma: no cover - exercised where simplejpeg is absent
    simplejpeg = None

JPEG_QUALITY = 90  # FFCV's default for its JPEG fields
BACKGROUND = 255  # transparent pixels are composited on white (the product-photo convention)


class Unreadable(Exception):
    """An image that cannot be used; the message is the reason listed in the cache's meta."""


@dataclass
class Prepared:
    """One image as the cache stores it."""

    data: bytes  # raw HWC uint8, or a baseline JPEG
    height: int
    width: int
    orig_height: int
    orig_width: int
    digest: int  # of the stored pixels: exact duplicates share it
    channel_sum: np.ndarray  # per-channel sums of pixels/255 and of their squares, for the dataset's mean/std
    channel_sq: np.ndarray


def _to_rgb(img):
    """Any Pillow mode -> RGB uint8 array: 16-bit scaled (not clipped), alpha composited, CMYK converted."""
    from PIL import Image

    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or arr.max(initial=0) > 255 else 255.0
        gray = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (BACKGROUND, BACKGROUND, BACKGROUND, 255))
        return np.asarray(Image.alpha_composite(canvas, rgba).convert("RGB"))
    return np.asarray(img.convert("RGB") if mode != "RGB" else img)


def load_rgb(source: bytes | str | Path, max_side: int, max_pixels: int | None = None) -> tuple[np.ndarray, int, int]:
    """(RGB uint8 HWC with max(H, W) <= max_side, original height, original width); raises Unreadable."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    fp = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns below the hard limit; we enforce our own
            with Image.open(fp) as img:
                w, h = img.size
                if limit and w * h > limit:
                    raise Unreadable(f"{w}x{h} is past the decompression-bomb limit of {limit} pixels")
                rotated = img.getexif().get(0x0112, 1) in (5, 6, 7, 8)  # EXIF orientation with a 90-degree turn
                orig_w, orig_h = (h, w) if rotated else (w, h)  # the size as the photo is shown
                if img.format == "JPEG":
                    img.draft("RGB", (max_side, max_side))  # DCT scaling: decode big photos at >= max_side
                img = ImageOps.exif_transpose(img)  # phones store rotation in EXIF, not in the pixels
                if max(img.size) > max_side:
                    scale = max_side / max(img.size)
                    size = (max(1, round(img.size[0] * scale)), max(1, round(img.size[1] * scale)))
                    img = img.convert("RGB") if img.mode in ("CMYK", "YCbCr") else img
                    img = img.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)
                arr = _to_rgb(img)
    except Unreadable:
        raise
    except UnidentifiedImageError:
        raise Unreadable("not an image Pillow can identify (empty, or another file type)") from None
    except Image.DecompressionBombError as exc:
        raise Unreadable(str(exc).split(".")[0]) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        reason = "truncated file" if "truncated" in str(exc) else f"{type(exc).__name__}: {exc}"
        raise Unreadable(reason) from None
    if arr.ndim != 3 or arr.shape[2] != 3 or min(arr.shape[:2]) < 1:
        raise Unreadable(f"unexpected pixel layout {arr.shape}")
    return np.ascontiguousarray(arr), orig_h, orig_w


def encode(arr: np.ndarray, fmt: str) -> bytes:
    if fmt == "raw":
        return arr.tobytes()
    if simplejpeg is not None:
        return simplejpeg.encode_jpeg(arr, quality=JPEG_QUALITY, colorspace="RGB", colorsubsampling="420")
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(arr).save(out, "JPEG", quality=JPEG_QUALITY, progressive=False)
    return out.getvalue()


def decode(data: bytes | memoryview | np.ndarray, fmt: str, height: int, width: int) -> np.ndarray:
    """Cache bytes -> RGB uint8 HWC."""
    if fmt == "raw":
        return np.frombuffer(data, dtype=np.uint8).reshape(height, width, 3)
    if simplejpeg is not None:
        return simplejpeg.decode_jpeg(bytes(data) if isinstance(data, np.ndarray) else data, colorspace="RGB")
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(bytes(data))).convert("RGB"))


def prepare(source: bytes | str, max_side: int, fmt: str, max_pixels: int | None = None) -> Prepared | str:
    """Decode, shrink and re-encode one image for the cache; a string is the reason it is unreadable.

    Runs in the build's worker processes, so it takes and returns only plain, picklable values.
    """
    try:
        arr, orig_h, orig_w = load_rgb(source, max_side, max_pixels)
    except Unreadable as exc:
        return str(exc)
    h, w = arr.shape[:2]
    digest = int.from_bytes(hashlib.blake2b(arr.tobytes() + bytes(f"{h}x{w}", "ascii"), digest_size=8).digest(),
                            "little", signed=True)
    x = arr.reshape(-1, 3).astype(np.float64) / 255.0
    return Prepared(encode(arr, fmt), h, w, orig_h, orig_w, digest, x.sum(0), (x * x).sum(0))
