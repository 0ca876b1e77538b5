"""Photo pipeline, pure part: validate an upload by its content, then re-encode it into the fixed sizes.

No web and no database here: the upload controller and the worker call `inspect()` / `process()` (CPU-bound,
run them in a thread: Pillow releases the GIL while decoding, resizing and encoding).

Security (SECURITY.md trap 10, checklist 14-17):
- size limit first (`too_large`), then only the JPEG, PNG and WebP decoders ever parse the bytes
  (`Image.open(formats=...)`); other image types are named by their magic bytes only (`unsupported_format`),
  SVG/HTML/text are `not_an_image`, a recognised-but-broken file is `corrupt`;
- the pixel count is checked from the header, before any pixel is decoded (`Image.open` is lazy; a WebP
  header is read by hand even before `Image.open`, whose WebP decoder allocates the canvas at open), and
  `DecompressionBombWarning` / `DecompressionBombError` become `too_many_pixels`;
- everything is decoded and re-encoded: EXIF (GPS), XMP, ICC, comments and any trailing polyglot payload are
  dropped; orientation is applied first with `ImageOps.exif_transpose`;
- storage keys are random (`storage_key()`), never derived from the user's file name.

Sizes, the choice made for small images: a variant is produced for each width of `IMAGE_WIDTHS` that is not
larger than the (upright) original, and always one for the smallest width. Nothing is ever upscaled: an original
narrower than 320 px gives a single variant at its own width, still stored under the `320` key so that the
fixed naming `<key>/<320|640|1280|160>.<webp|jpg>` holds (`Variant.key_width` is the width in the key,
`Variant.width` the real pixel width). The thumb is a center-cropped square of side min(160, width, height),
stored under `160`. A variant is also kept within WebP's 16383 px limit (very tall images get narrower).
Animated WebP/PNG keep their first frame. MPO (JPEG with extra pictures, from some phones) is a JPEG.

Speed (issue 15: a 12-megapixel JPEG into all its variants in <= 150 ms of CPU on one core; `just bench-images`):
Pillow stays the only parser of uploaded bytes (every check above is unchanged) and decodes JPEGs at 1/2, 1/4 or
1/8 scale (`draft`). The resizing is done by libvips (pyvips with the self-contained `pyvips-binary` wheel) on the
decoded pixels, about 3x faster than Pillow's resize (SIMD): libvips never sees the upload itself, only raw RGB
bytes, so no second set of decoders is exposed to hostile files. (Transparent pictures, rare, are resized by
Pillow, which premultiplies the alpha.) When pyvips cannot load (a platform without a
`pyvips-binary` wheel, a broken libvips), Pillow resizes: same sizes, same checks, ~30 ms slower.
WebP is encoded with method 0 instead of libwebp's default 4 (method 2 for the 320 and the thumb): a quarter of the
CPU (the WebP encoding was over half of the 12 MP photo's time) for 11 % more WebP bytes at about the same quality
(figures in README). The progressive JPEG (the fallback for browsers without WebP) keeps its settings.
"""

from __future__ import annotations

import functools
import io
import math
import secrets
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType

import structlog
from PIL import Image, ImageOps, UnidentifiedImageError

from servicerw.core.storage import IMAGE_WIDTHS, variant_key

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
THUMB_WIDTH = 160
MAX_VARIANT_SIDE = 16383  # WebP cannot encode a larger side

WEBP_QUALITY = 75
# libwebp's effort, 0-6 (its default 4), see the module's docstring: 0, except for pictures at most
# WEBP_SMALL_WIDTH wide (the 320 and the thumb: what search result cards load, 20 a page), 16 % smaller at method 2
# for 3 ms more per photo
WEBP_METHOD = 0
WEBP_SMALL_METHOD = 2
WEBP_SMALL_WIDTH = 320
JPEG_QUALITY = 78
FORMATS = (("webp", "image/webp"), ("jpg", "image/jpeg"))

_EXIF_ORIENTATION = 0x0112
_SWAPS_AXES = {5, 6, 7, 8}

MESSAGES = {
    "too_large": "The file is too large: the limit is 10 MB.",
    "not_an_image": "The file is not an image. Please upload a JPEG, PNG or WebP photo.",
    "unsupported_format": "This image format is not supported. Please upload a JPEG, PNG or WebP photo.",
    "too_many_pixels": "The image has too many pixels: the limit is 40 megapixels.",
    "corrupt": "The image file is damaged or incomplete. Please try another photo.",
}


class ImageRejected(ValueError):
    """An upload that is not an acceptable photo. `code` is one of `MESSAGES`; str() is a clear English message."""

    def __init__(self, code: str, message: str | None = None) -> None:
        if code not in MESSAGES:
            raise ValueError(f"unknown ImageRejected code {code!r}")
        self.code = code
        super().__init__(message or MESSAGES[code])


@dataclass(frozen=True)
class Variant:
    width: int  # real pixel width
    height: int
    ext: str  # "webp" | "jpg"
    content_type: str
    data: bytes = field(repr=False)
    key_width: int  # the width in the object key: one of IMAGE_WIDTHS, or THUMB_WIDTH for the thumb

    @property
    def is_thumb(self) -> bool:
        return self.key_width == THUMB_WIDTH

    def key(self, storage_key: str) -> str:
        return variant_key(storage_key, self.key_width, self.ext)


# ---------------------------------------------------------------------------------------------------------------
# storage keys


def storage_key() -> str:
    """A new random, unguessable key, `img/<2 hex>/<30 hex>` (128 bits; lower-case hex is safe on any filesystem)."""
    token = secrets.token_hex(16)
    return f"img/{token[:2]}/{token[2:]}"


def variant_widths(original_width: int) -> tuple[int, ...]:
    """The key widths `process()` produces for an upright original this wide (the thumb not included)."""
    return tuple(w for w in IMAGE_WIDTHS if w <= original_width) or (IMAGE_WIDTHS[0],)


def variant_keys(storage_key: str, original_width: int | None = None) -> list[str]:
    """Every object key a processed image can produce (all sizes, both formats, the thumb): delete them all.

    With `original_width` (upright, as in `process()`'s info), exactly the keys that image produced.
    """
    widths = IMAGE_WIDTHS if original_width is None else variant_widths(original_width)
    return [variant_key(storage_key, w, ext) for w in (*widths, THUMB_WIDTH) for ext, _ in FORMATS]


def variant_sizes(variants: list[Variant]) -> dict[str, int]:
    """Each variant's byte size by `<key width>.<ext>` (as in its object key): what a data-saver tap costs."""
    return {f"{v.key_width}.{v.ext}": len(v.data) for v in variants}


# ---------------------------------------------------------------------------------------------------------------
# validation


def _is_webp(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def _allowed_signature(head: bytes) -> bool:
    return head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")) or _is_webp(head)


def _other_image_type(head: bytes) -> str | None:
    """Name image types we refuse, from magic bytes only (their decoders never see the data)."""
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "TIFF"
    if (
        head.startswith(b"BM")
        and len(head) >= 18
        and int.from_bytes(head[14:18], "little") in (12, 40, 52, 56, 108, 124)
    ):
        return "BMP"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "AVIF"
        if brand in (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"):
            return "HEIC"
    if head.startswith((b"\x00\x00\x00\x0cjP  ", b"\xff\x4f\xff\x51")):
        return "JPEG 2000"
    if head.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL ")):
        return "JPEG XL"
    if head.startswith(b"8BPS"):
        return "PSD"
    if head.startswith((b"\x00\x00\x01\x00", b"\x00\x00\x02\x00")):
        return "ICO"
    if head.startswith(b"qoif"):
        return "QOI"
    return None


def _webp_size(head: bytes) -> tuple[int, int] | None:
    """Canvas size from a WebP header (first 30 bytes), without decoding."""
    chunk = head[12:16]
    if chunk == b"VP8 " and len(head) >= 30 and head[23:26] == b"\x9d\x01\x2a":
        return int.from_bytes(head[26:28], "little") & 0x3FFF, int.from_bytes(head[28:30], "little") & 0x3FFF
    if chunk == b"VP8X" and len(head) >= 30:
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    if chunk == b"VP8L" and len(head) >= 25 and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _too_many_pixels(width: int, height: int) -> ImageRejected:
    return ImageRejected(
        "too_many_pixels",
        f"The image has too many pixels ({width} x {height}): the limit is {MAX_PIXELS // 1_000_000} megapixels.",
    )


@contextmanager
def _bomb_guard() -> Iterator[None]:
    """Pillow only warns between 89 and 179 megapixels: make that an error too (SECURITY.md trap 10).

    (`catch_warnings` is process-wide on Python 3.11; the explicit header check in `_open` does not depend on it.)
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ImageRejected("too_many_pixels") from error


def _open(data: bytes) -> tuple[Image.Image, str]:
    """Open lazily (header only) and validate; no pixel is decoded here."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("image data must be bytes")
    size = len(data)
    if size > MAX_UPLOAD_BYTES:
        raise ImageRejected("too_large", f"The file is too large ({size / 1024 / 1024:.1f} MB): the limit is 10 MB.")
    if size == 0:
        raise ImageRejected("not_an_image", "The file is empty. Please upload a JPEG, PNG or WebP photo.")
    head = bytes(data[:64])

    if _is_webp(head):
        webp_size = _webp_size(head)
        if webp_size is None:
            raise ImageRejected("corrupt")
        if webp_size[0] * webp_size[1] > MAX_PIXELS:
            raise _too_many_pixels(*webp_size)

    with _bomb_guard():
        try:
            img = Image.open(io.BytesIO(data), formats=sorted(ALLOWED_FORMATS))
        except UnidentifiedImageError:
            if _allowed_signature(head):
                raise ImageRejected("corrupt") from None
            if other := _other_image_type(head):
                raise ImageRejected(
                    "unsupported_format",
                    f"{other} images are not supported. Please upload a JPEG, PNG or WebP photo.",
                ) from None
            raise ImageRejected("not_an_image") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError):
            raise
        except Exception as error:  # a decoder choked on the header
            raise ImageRejected("corrupt" if _allowed_signature(head) else "not_an_image") from error

    fmt = "JPEG" if img.format == "MPO" else img.format
    if fmt not in ALLOWED_FORMATS:  # cannot happen with formats=..., kept as the allow-list check
        img.close()
        raise ImageRejected("unsupported_format")
    width, height = img.size
    if width <= 0 or height <= 0:
        img.close()
        raise ImageRejected("corrupt")
    if width * height > MAX_PIXELS:  # from the header, before img.load()
        img.close()
        raise _too_many_pixels(width, height)
    return img, fmt


def inspect(data: bytes) -> tuple[str, int, int]:
    """Validate by content: size, identified as JPEG/PNG/WebP, pixel count from the header only.

    Returns (format, width, height) as stored in the file (before EXIF orientation). Cheap: no pixel decoding,
    so a file with a valid header but broken pixel data passes here and is refused by `process()` ("corrupt").
    Raises ImageRejected.
    """
    img, fmt = _open(data)
    try:
        return fmt, img.width, img.height
    finally:
        img.close()


# ---------------------------------------------------------------------------------------------------------------
# processing


def _fit(width: int, height: int, key_width: int) -> tuple[int, int]:
    """Variant size for an upright `width` x `height` original: never upscaled, aspect kept, within WebP's limit."""
    w = min(key_width, width)
    h = max(1, round(w * height / width))
    if h > MAX_VARIANT_SIDE:
        h = MAX_VARIANT_SIDE
        w = max(1, round(MAX_VARIANT_SIDE * width / height))
    return w, h


def _normalize_mode(img: Image.Image) -> Image.Image:
    """To "RGB", or "RGBA" when there is transparency (flattened later, after resizing)."""
    if img.mode.startswith("I;16"):
        img = img.convert("I")
    if img.mode in ("I", "F"):  # 16-bit grayscale PNG: scale to 8 bits instead of clipping
        img = img.point(lambda v: v * (1 / 256)).convert("L")
    has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    target = "RGBA" if has_alpha else "RGB"
    return img if img.mode == target else img.convert(target)


def _flatten(img: Image.Image) -> Image.Image:
    if img.mode != "RGBA":
        return img
    background = Image.new("RGBA", img.size, (255, 255, 255, 255))
    background.alpha_composite(img)
    return background.convert("RGB")


def _encode(img: Image.Image, key_width: int) -> list[Variant]:
    img.info = {}  # Pillow carries info (comment, exif...) through resize and the JPEG writer re-emits "comment"
    out = []
    for ext, content_type in FORMATS:
        buffer = io.BytesIO()
        if ext == "webp":
            method = WEBP_SMALL_METHOD if img.width <= WEBP_SMALL_WIDTH else WEBP_METHOD
            img.save(buffer, "WEBP", quality=WEBP_QUALITY, method=method)
        else:
            img.save(buffer, "JPEG", quality=JPEG_QUALITY, progressive=True, optimize=True)
        out.append(Variant(img.width, img.height, ext, content_type, buffer.getvalue(), key_width))
    return out


def _plan(up_w: int, up_h: int) -> tuple[tuple[int, ...], list[tuple[int, int]], int, tuple[int, int]]:
    """Key widths, variant sizes, thumb side and the working size (big enough for all) for an upright original."""
    widths = variant_widths(up_w)
    sizes = [_fit(up_w, up_h, w) for w in widths]
    thumb_side = min(THUMB_WIDTH, up_w, up_h)
    scale = min(1.0, max(max(w for w, _ in sizes) / up_w, thumb_side / min(up_w, up_h)))
    work_size = (
        min(up_w, max(1, math.ceil(up_w * scale - 1e-6))),
        min(up_h, max(1, math.ceil(up_h * scale - 1e-6))),
    )
    return widths, sizes, thumb_side, work_size


def _decode(img: Image.Image, fmt: str) -> tuple[Image.Image, int, int]:
    """Decode (JPEG at a reduced scale when possible) and apply the EXIF orientation.

    Returns the upright image and the upright size of the original.
    """
    stored_w, stored_h = img.size
    if fmt == "JPEG":
        try:
            orientation = img.getexif().get(_EXIF_ORIENTATION, 1)  # from the header, as exif_transpose reads it
        except Exception:
            orientation = 1
        swapped = orientation in _SWAPS_AXES
        *_, (work_w, work_h) = _plan(*((stored_h, stored_w) if swapped else (stored_w, stored_h)))
        # libjpeg decodes at 1/2, 1/4 or 1/8 scale when the result is still at least this large: big speedup
        img.draft("RGB", (work_h, work_w) if swapped else (work_w, work_h))
    decoded_w, decoded_h = img.size
    img.load()
    try:
        ImageOps.exif_transpose(img, in_place=True)
    except Exception:  # unreadable EXIF: keep the stored orientation
        pass
    if img.size != (decoded_w, decoded_h) and img.size == (decoded_h, decoded_w):
        return img, stored_h, stored_w
    return img, stored_w, stored_h


def process(data: bytes, *, use_vips: bool | None = None) -> tuple[list[Variant], dict]:
    """Validate, fix orientation, flatten to RGB on white, strip all metadata and encode every size.

    `use_vips`: None (libvips resizes when pyvips loads, else Pillow), True (libvips, or RuntimeError) or False.

    Returns the variants (for each key width ascending: WebP then JPEG; then the thumb) and
    {"width", "height"} of the upright original and its "format". Raises ImageRejected.
    """
    img, fmt = _open(data)
    try:
        with _bomb_guard():
            try:
                img, up_w, up_h = _decode(img, fmt)
            except (ImageRejected, Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError):
                raise
            except Exception as error:  # truncated or broken pixel data
                raise ImageRejected("corrupt") from error
        widths, sizes, thumb_side, work_size = _plan(up_w, up_h)

        base = _normalize_mode(img)
        vips = _pyvips() if use_vips is None else _required_pyvips() if use_vips else None
        # transparent pictures (PNG/WebP logos, rare) are resized by Pillow: it premultiplies the alpha
        resize = _resize_vips if vips is not None and base.mode == "RGB" else _resize_pillow
        # largest first, each from the next larger; the thumb last
        plan = sorted(zip(widths, sizes, strict=True), reverse=True)
        pictures = resize(base, work_size, [size for _, size in plan], thumb_side)
        variants: list[Variant] = []
        for (key_width, _), picture in zip(plan, pictures, strict=False):  # the last picture is the thumb
            variants[:0] = _encode(picture, key_width)
        variants += _encode(pictures[-1], THUMB_WIDTH)
    finally:
        img.close()
    return variants, {"width": up_w, "height": up_h, "format": fmt}


def _thumb_source(pictures: list, thumb_side: int) -> int:
    """Index of the smallest picture (largest first) still twice the thumb's side: the center crop is cut from it."""
    return max((i for i, p in enumerate(pictures) if min(p.width, p.height) >= 2 * thumb_side), default=0)


def _resize_pillow(
    base: Image.Image, work_size: tuple[int, int], sizes: list[tuple[int, int]], thumb_side: int
) -> list[Image.Image]:
    """The variants at `sizes` (each from the previous one) and the thumb, flattened on white."""
    work = base if base.size == work_size else base.resize(work_size, Image.Resampling.LANCZOS, reducing_gap=2.0)
    work = _flatten(work)  # after resizing: Pillow resizes RGBA premultiplied
    out = [work]
    for size in sizes:
        out.append(out[-1] if out[-1].size == size else out[-1].resize(size, Image.Resampling.LANCZOS))
    source = out[_thumb_source(out, thumb_side)]
    side = min(source.size)
    left, top = (source.width - side) // 2, (source.height - side) // 2
    box = (left, top, left + side, top + side)
    return [*out[1:], source.resize((thumb_side, thumb_side), Image.Resampling.LANCZOS, box=box)]


def _resize_vips(
    base: Image.Image, work_size: tuple[int, int], sizes: list[tuple[int, int]], thumb_side: int
) -> list[Image.Image]:
    """As `_resize_pillow`, by libvips on the decoded RGB pixels (Lanczos 3 too); returns Pillow images to encode.

    The pixels are copied once into libvips' memory. A large PNG or WebP (up to 40 MP, 160 MB decoded) is first
    box-reduced by Pillow to at least twice the working size, as Pillow's `reducing_gap=2` does, so that copy stays
    small and the peak memory no higher than with Pillow alone. (JPEGs are already decoded at a reduced scale.)
    """
    vips = _required_pyvips()
    factor = min(base.width // work_size[0], base.height // work_size[1]) // 2
    if factor >= 2:
        base = base.reduce(factor)
    image = vips.Image.new_from_memory(base.tobytes(), base.width, base.height, 3, "uchar")

    def resized(source, width: int, height: int):
        if (source.width, source.height) == (width, height):
            return source
        out = source.resize(width / source.width, vscale=height / source.height, kernel="lanczos3").copy_memory()
        if (out.width, out.height) != (width, height):  # cannot happen (libvips rounds to nearest): never store it
            raise RuntimeError(f"libvips resized to {out.width}x{out.height}, not {width}x{height}")
        return out

    out = [resized(image, *work_size)]
    for width, height in sizes:
        out.append(resized(out[-1], width, height))
    source = out[_thumb_source(out, thumb_side)]
    side = min(source.width, source.height)
    square = source.crop((source.width - side) // 2, (source.height - side) // 2, side, side)
    out.append(resized(square, thumb_side, thumb_side))
    return [Image.frombytes("RGB", (v.width, v.height), v.write_to_memory()) for v in out[1:]]


@functools.cache
def _pyvips() -> ModuleType | None:
    """pyvips, set up for this pipeline, or None when it cannot load (then Pillow resizes; logged once)."""
    try:
        import pyvips
    except Exception as error:  # not installed, or libvips itself failed to load (OSError, cffi errors)
        structlog.get_logger(__name__).warning("pyvips_unavailable", error=str(error), fallback="pillow")
        return None
    pyvips.cache_set_max(0)  # libvips' operation cache would keep the last photos' pixels alive in every worker
    pyvips.concurrency_set(1)  # one thread per photo: the CPU budget is one core, the web workers need the other
    return pyvips


def _required_pyvips() -> ModuleType:
    vips = _pyvips()
    if vips is None:
        raise RuntimeError("pyvips cannot be loaded (see the pyvips_unavailable log line)")
    return vips
