"""Photo pipeline (pure part): validation by content, pixel cap, metadata stripping, sizes, storage keys.

SECURITY.md checklist 14 (per-file limit), 15 (JPEG/PNG/WebP only, by content), 16 (pixel cap, fast),
17 (re-encode, strip EXIF/GPS, random storage keys). The corpus is generated here at run time.
"""

from __future__ import annotations

import functools
import io
import re
import struct
import zlib

import pytest
from PIL import ExifTags, Image, ImageChops, ImageCms, ImageDraw, ImageOps, ImageStat, PngImagePlugin

from servicerw.core.storage import IMAGE_WIDTHS, variant_key
from servicerw.media.processing import (
    MAX_PIXELS,
    MAX_UPLOAD_BYTES,
    MAX_VARIANT_SIDE,
    MESSAGES,
    THUMB_WIDTH,
    ImageRejected,
    Variant,
    inspect,
    process,
    storage_key,
    variant_keys,
    variant_widths,
)

PAYLOAD = b"<html><body><script>alert('pwned-by-upload')</script></body></html>"
GPS_IFD = ExifTags.IFD.GPSInfo

# ---------------------------------------------------------------------------------------------------------------
# corpus


def picture(size: tuple[int, int] = (800, 600), mode: str = "RGB") -> Image.Image:
    """Something photo-ish: gradients and a few shapes (cheap to make, not flat)."""
    w, h = size
    gradient = Image.linear_gradient("L").resize(size)
    img = Image.merge("RGB", [gradient, gradient.transpose(Image.Transpose.FLIP_TOP_BOTTOM), gradient.rotate(90)])
    draw = ImageDraw.Draw(img)
    draw.rectangle((w // 8, h // 8, w // 2, h // 2), fill=(200, 40, 40), outline=(0, 0, 0), width=3)
    draw.ellipse((w // 2, h // 3, w - w // 8, h - h // 8), fill=(30, 120, 200))
    return img.convert(mode) if mode != "RGB" else img


def encode(img: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **params)
    return out.getvalue()


def gps_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "ServiceRWTestCam"
    exif[ExifTags.Base.Model] = "LeakyPhone 1"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S"
    gps[ExifTags.GPS.GPSLatitude] = (1.0, 56.0, 38.8)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (30.0, 3.0, 42.8)
    return exif


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_1bit(width: int, height: int) -> bytes:
    """A valid all-black 1-bit PNG, compressed row by row: never holds width x height pixels in memory."""
    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row * 1000) for _ in range(height // 1000))
    idat += compressor.compress(row * (height % 1000)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def png_header_only(width: int, height: int) -> bytes:
    """IHDR claims width x height, IDAT is a few bytes: decoding it would fail as corrupt, never as too big."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def webp_header_only(width: int, height: int) -> bytes:
    """An extended-format (VP8X) WebP header claiming width x height, and nothing else."""
    vp8x = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.fixture(scope="module")
def jpeg_800() -> bytes:
    return encode(picture((800, 600)), "JPEG", quality=90)


@pytest.fixture(scope="module")
def png_900mp() -> bytes:
    return png_1bit(30000, 30000)


@pytest.fixture(params=[True, False], ids=["libvips", "pillow"])
def run(request):
    """process() resizing with libvips (what runs when pyvips loads, i.e. always with the locked dependencies) and
    with Pillow (the fallback when it cannot load): the outputs' properties are the same."""
    return functools.partial(process, use_vips=request.param)


def rejected(data: bytes, fn=process) -> ImageRejected:
    with pytest.raises(ImageRejected) as info:
        fn(data)
    assert info.value.code in MESSAGES and str(info.value)  # a code for the controller, a message for people
    return info.value


def by_key(variants: list[Variant]) -> dict[tuple[int, str], Variant]:
    return {(v.key_width, v.ext): v for v in variants}


# ---------------------------------------------------------------------------------------------------------------
# metadata and orientation (checklist 17)


def test_gps_exif_xmp_icc_stripped_and_orientation_applied(run):
    # stored 600x400: top half red, bottom half blue; orientation 6 = "rotate 90 degrees clockwise to view"
    stored = Image.new("RGB", (600, 400), (220, 20, 20))
    ImageDraw.Draw(stored).rectangle((0, 200, 599, 399), fill=(20, 20, 220))
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>1,56.6S</exif:GPSLatitude></x:xmpmeta>'
    data = encode(stored, "JPEG", quality=92, exif=gps_exif(orientation=6), icc_profile=icc, xmp=xmp, comment=b"hi")
    original = Image.open(io.BytesIO(data))
    assert original.getexif().get_ifd(GPS_IFD), "the test input must carry GPS"
    assert inspect(data) == ("JPEG", 600, 400)  # inspect reports the stored size

    variants, info = run(data)

    assert info == {"width": 400, "height": 600, "format": "JPEG"}
    for v in variants:
        out = Image.open(io.BytesIO(v.data))
        exif = out.getexif()
        assert len(exif) == 0 and not exif.get_ifd(GPS_IFD)
        assert not {"exif", "xmp", "icc_profile", "comment", "XML:com.adobe.xmp"} & set(out.info)
        for marker in (b"Exif\x00\x00", b"EXIF", b"ServiceRWTestCam", b"xmpmeta", b"GPSLatitude", b"ICC_PROFILE"):
            assert marker not in v.data, (v.key_width, v.ext, marker)
    big = Image.open(io.BytesIO(by_key(variants)[(320, "jpg")].data)).convert("RGB")
    assert big.size == (320, 480)  # portrait now
    # rotated clockwise: the stored top (red) is now on the right, the bottom (blue) on the left
    right, left = big.getpixel((300, 240)), big.getpixel((20, 240))
    assert right[0] > 150 and right[2] < 100, right
    assert left[2] > 150 and left[0] < 100, left


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_matches_exif_transpose(orientation, run):
    stored = picture((360, 240))
    data = encode(stored, "JPEG", quality=95, exif=gps_exif(orientation))
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    variants, info = run(data)
    assert (info["width"], info["height"]) == upright.size
    out = Image.open(io.BytesIO(by_key(variants)[(320, "jpg")].data)).convert("RGB")
    reference = upright.convert("RGB").resize(out.size)
    # same picture, up to compression: compare a coarse 4x4 grid of colors
    small_out, small_ref = out.resize((4, 4), Image.Resampling.BOX), reference.resize((4, 4), Image.Resampling.BOX)
    diffs = [
        max(abs(a - b) for a, b in zip(p, q, strict=True))
        for p, q in zip(small_out.get_flattened_data(), small_ref.get_flattened_data(), strict=True)
    ]
    assert max(diffs) < 20, diffs


def test_large_rotated_jpeg_is_decoded_at_reduced_scale_with_exact_sizes(run):
    # 4000x2700 stored, orientation 6: upright 2700x4000, decoded at 1/2 scale (draft), sizes still exact
    data = encode(picture((4000, 2700)), "JPEG", quality=85, exif=gps_exif(orientation=6))
    variants, info = run(data)
    assert (info["width"], info["height"]) == (2700, 4000)
    sizes = {(v.key_width, v.ext): (v.width, v.height) for v in variants}
    assert sizes[(1280, "webp")] == (1280, 1896)
    assert sizes[(640, "jpg")] == (640, 948)
    assert sizes[(320, "jpg")] == (320, 474)
    assert sizes[(THUMB_WIDTH, "jpg")] == (160, 160)


# ---------------------------------------------------------------------------------------------------------------
# accepted inputs


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda img: encode(img.convert("RGBA"), "PNG"), id="RGBA"),
        pytest.param(lambda img: encode(img.convert("LA"), "PNG"), id="LA"),
        pytest.param(lambda img: encode(img.convert("RGBA").convert("P"), "PNG", transparency=0), id="P+tRNS"),
        pytest.param(lambda img: encode(img.convert("RGBA"), "WEBP", quality=90), id="WebP-alpha"),
    ],
)
def test_transparency_is_flattened_on_white(make, run):
    img = picture((640, 480)).convert("RGBA")
    img.paste((0, 0, 0, 0), (0, 0, 320, 480))  # left half fully transparent
    data = make(img)
    variants, _ = run(data)
    for v in variants:
        out = Image.open(io.BytesIO(v.data))
        assert out.mode == "RGB"
        if not v.is_thumb:
            pixel = out.getpixel((out.width // 8, out.height // 2))
            assert min(pixel) > 235, pixel  # white, not black


def test_webp_input_accepted(jpeg_800, run):
    data = encode(picture((800, 600)), "WEBP", quality=80)
    assert inspect(data) == ("WEBP", 800, 600)
    variants, info = run(data)
    assert info == {"width": 800, "height": 600, "format": "WEBP"}
    assert {(v.key_width, v.ext) for v in variants} == {(w, e) for w in (320, 640, 160) for e in ("webp", "jpg")}


def test_mpo_from_phones_is_a_jpeg():
    first, second = picture((700, 500)), picture((700, 500)).rotate(180)
    data = encode(first, "MPO", save_all=True, append_images=[second], quality=90)
    assert Image.open(io.BytesIO(data)).format == "MPO"
    assert inspect(data) == ("JPEG", 700, 500)
    _, info = process(data)
    assert info["format"] == "JPEG"


def test_cmyk_jpeg_grayscale_and_16_bit_png(run):
    cmyk = encode(picture((500, 400)).convert("CMYK"), "JPEG")
    gray = encode(picture((500, 400)).convert("L"), "JPEG")
    sixteen = Image.new("I;16", (400, 300), 32768)  # mid-gray in 16 bits
    for data in (cmyk, gray, encode(sixteen, "PNG")):
        variants, _ = run(data)
        assert all(Image.open(io.BytesIO(v.data)).mode == "RGB" for v in variants)
    variants, _ = run(encode(sixteen, "PNG"))
    pixel = Image.open(io.BytesIO(variants[1].data)).getpixel((10, 10))
    assert all(110 < c < 145 for c in pixel), pixel  # scaled to 8 bits, not clipped to white


# ---------------------------------------------------------------------------------------------------------------
# sizes and formats


def test_variants_widths_formats_and_real_encodings(run):
    data = encode(picture((1600, 1200)), "JPEG", quality=90)
    variants, info = run(data)
    assert info == {"width": 1600, "height": 1200, "format": "JPEG"}
    expected = {320: (320, 240), 640: (640, 480), 1280: (1280, 960), 160: (160, 160)}
    assert sorted((v.key_width, v.ext) for v in variants) == sorted((w, e) for w in expected for e in ("webp", "jpg"))
    for v in variants:
        assert (v.width, v.height) == expected[v.key_width]
        out = Image.open(io.BytesIO(v.data))
        assert out.size == (v.width, v.height) and out.mode == "RGB"
        if v.ext == "webp":
            assert v.data[:4] == b"RIFF" and v.data[8:12] == b"WEBP"
            assert out.format == "WEBP" and v.content_type == "image/webp"
        else:
            assert v.data[:3] == b"\xff\xd8\xff"
            assert out.format == "JPEG" and v.content_type == "image/jpeg"
            assert out.info.get("progressive") or out.info.get("progression")
    # smaller widths really are smaller files
    webp = {v.key_width: len(v.data) for v in variants if v.ext == "webp"}
    assert webp[160] < webp[320] < webp[640] < webp[1280]


def test_middle_width_original_gets_no_larger_size(run):
    variants, info = run(encode(picture((700, 500)), "PNG"))
    assert variant_widths(700) == (320, 640)
    assert {v.key_width for v in variants} == {320, 640, THUMB_WIDTH}
    assert by_key(variants)[(640, "webp")].height == round(640 * 500 / 700)


def test_small_image_is_not_upscaled(run):
    variants, info = run(encode(picture((200, 150)), "JPEG"))
    assert info == {"width": 200, "height": 150, "format": "JPEG"}
    sizes = {(v.key_width, v.ext): (v.width, v.height) for v in variants}
    # one size at the original width, stored under the fixed "320" name; the thumb is 150x150, not 160
    assert sizes == {
        (320, "webp"): (200, 150),
        (320, "jpg"): (200, 150),
        (160, "webp"): (150, 150),
        (160, "jpg"): (150, 150),
    }
    for v in variants:
        assert Image.open(io.BytesIO(v.data)).size == (v.width, v.height)


def test_thumb_is_a_center_crop(run):
    img = Image.new("RGB", (300, 900), (220, 20, 20))
    ImageDraw.Draw(img).rectangle((0, 300, 299, 599), fill=(20, 200, 20))
    ImageDraw.Draw(img).rectangle((0, 600, 299, 899), fill=(20, 20, 220))
    thumb = by_key(run(encode(img, "PNG"))[0])[(THUMB_WIDTH, "jpg")]
    out = Image.open(io.BytesIO(thumb.data)).convert("RGB")
    assert out.size == (160, 160)
    for xy in ((5, 5), (80, 80), (154, 154)):
        r, g, b = out.getpixel(xy)
        assert g > 150 and r < 80 and b < 80, (xy, (r, g, b))


def test_thumb_of_a_large_photo_is_the_center_square(run):
    # 2400x1200: the center square (x 600-1800) is green, the sides red and blue; the thumb is cut from a smaller
    # variant (640x320) than the working image, and must still be exactly that center square
    img = Image.new("RGB", (2400, 1200), (220, 20, 20))
    ImageDraw.Draw(img).rectangle((600, 0, 1799, 1199), fill=(20, 200, 20))
    ImageDraw.Draw(img).rectangle((1800, 0, 2399, 1199), fill=(20, 20, 220))
    thumb = by_key(run(encode(img, "JPEG", quality=95))[0])[(THUMB_WIDTH, "webp")]
    out = Image.open(io.BytesIO(thumb.data)).convert("RGB")
    assert out.size == (160, 160)
    for xy in ((4, 80), (80, 4), (80, 80), (155, 80), (80, 155)):
        r, g, b = out.getpixel(xy)
        assert g > 150 and r < 80 and b < 80, (xy, (r, g, b))


@pytest.mark.parametrize(
    "make,expected",
    [
        pytest.param(
            lambda: encode(picture((2000, 1500)), "JPEG", quality=90, exif=gps_exif(orientation=8)),
            {"width": 1500, "height": 2000, "format": "JPEG"},
            id="rotated-jpeg",
        ),
        pytest.param(  # 20 MP: Pillow box-reduces it by 2 before handing the pixels to libvips
            lambda: encode(picture((5200, 3900)), "PNG", compress_level=1),
            {"width": 5200, "height": 3900, "format": "PNG"},
            id="large-png",
        ),
    ],
)
def test_libvips_resizes_by_default_and_gives_the_same_picture_as_pillow(make, expected):
    """The locked pyvips-binary loads here, so uploads are resized by libvips; the fallback looks the same."""
    data = make()
    default, info = process(data)
    vips, vips_info = process(data, use_vips=True)
    pillow, pillow_info = process(data, use_vips=False)
    assert info == vips_info == pillow_info == expected
    assert [v.data for v in default] == [v.data for v in vips]  # the encoders are deterministic: same path
    assert [(v.key_width, v.ext, v.width, v.height) for v in vips] == [
        (v.key_width, v.ext, v.width, v.height) for v in pillow
    ]
    for a, b in zip(vips, pillow, strict=True):
        one, other = Image.open(io.BytesIO(a.data)).convert("RGB"), Image.open(io.BytesIO(b.data)).convert("RGB")
        # both Lanczos 3 from the same decoded pixels: only rounding and compression differ
        mean = sum(ImageStat.Stat(ImageChops.difference(one, other)).mean) / 3
        assert mean < 3, (a.key_width, a.ext, mean)


def test_very_tall_image_fits_webp_limits(run):
    variants, _ = run(encode(Image.new("L", (100, 20000), 128), "PNG"))
    for v in variants:
        assert max(v.width, v.height) <= MAX_VARIANT_SIDE
        assert Image.open(io.BytesIO(v.data)).size == (v.width, v.height)


# ---------------------------------------------------------------------------------------------------------------
# pixel cap (checklist 16)


def test_900_megapixel_png_refused(png_900mp):
    assert len(png_900mp) < 200_000  # a tiny upload
    assert rejected(png_900mp, inspect).code == "too_many_pixels"
    assert rejected(png_900mp, process).code == "too_many_pixels"


@pytest.mark.parametrize("width,height", [(30000, 30000), (10000, 10000), (8000, 5001)])
def test_pixel_cap_is_checked_from_the_header_before_decoding(width, height):
    # the pixel data is garbage: had anything been decoded the error would be "corrupt"
    # 10000x10000 is where Pillow only warns; 8000x5001 is just above our cap, far below Pillow's
    data = png_header_only(width, height)
    error = rejected(data, process)
    assert error.code == "too_many_pixels"
    assert rejected(data, inspect).code == "too_many_pixels"
    assert rejected(png_header_only(400, 300), process).code == "corrupt"  # the control


def test_webp_pixel_cap_is_checked_before_pillow_allocates_the_canvas():
    assert rejected(webp_header_only(9000, 9000), inspect).code == "too_many_pixels"


def test_real_45_megapixel_png_refused_by_our_cap():
    assert rejected(png_1bit(9000, 5000), inspect).code == "too_many_pixels"


def test_exactly_at_the_cap_passes_the_header_check():
    assert inspect(png_1bit(8000, 5000)) == ("PNG", 8000, 5000)
    assert 8000 * 5000 == MAX_PIXELS


# ---------------------------------------------------------------------------------------------------------------
# content validation (checklist 14, 15)


def test_too_large():
    data = b"\xff\xd8\xff\xe0" + bytes(11 * 1024 * 1024)
    assert rejected(data, inspect).code == "too_large"
    assert rejected(data, process).code == "too_large"
    assert rejected(b"x" * MAX_UPLOAD_BYTES, inspect).code == "not_an_image"  # at the limit: size is fine


@pytest.mark.parametrize(
    "data,code",
    [
        pytest.param(
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
            b"<script>alert(1)</script></svg>",
            "not_an_image",
            id="svg",
        ),
        pytest.param(b"<!DOCTYPE html><html><body>" + PAYLOAD + b"</body></html>", "not_an_image", id="html-as-jpg"),
        pytest.param("Muraho! Iyi ni inyandiko gusa — ntabwo ari ifoto.\n".encode() * 20, "not_an_image", id="text"),
        pytest.param(b"", "not_an_image", id="empty"),
        pytest.param(b"\x00" * 100, "not_an_image", id="zeros"),
        pytest.param(PAYLOAD + encode(picture((64, 64)), "JPEG"), "not_an_image", id="html-then-jpeg"),
        pytest.param(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64), "unsupported_format", id="heic"),
        pytest.param(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1" + bytes(64), "unsupported_format", id="avif"),
        pytest.param(b"RIFF\x10\x00\x00\x00WEBPVP8X", "corrupt", id="webp-header-cut"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "corrupt", id="png-signature-only"),
    ],
)
def test_not_images_refused(data, code):
    assert rejected(data, inspect).code == code
    assert rejected(data, process).code == code


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "ICO"])
def test_other_image_formats_refused(fmt):
    data = encode(picture((64, 64)), fmt)
    error = rejected(data, inspect)
    assert error.code == "unsupported_format"
    assert "JPEG, PNG or WebP" in str(error)


def test_truncated_jpeg_refused(jpeg_800):
    assert rejected(jpeg_800[:200], process).code == "corrupt"
    # header intact, pixel data cut: the cheap check passes, decoding refuses it
    half = jpeg_800[: len(jpeg_800) // 2]
    assert inspect(half) == ("JPEG", 800, 600)
    assert rejected(half, process).code == "corrupt"


def test_truncated_png_refused():
    data = encode(picture((400, 300)), "PNG")
    assert rejected(data[: len(data) // 2], process).code == "corrupt"


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: encode(picture((700, 500)), "JPEG") + PAYLOAD, id="jpeg+html"),
        pytest.param(lambda: encode(picture((700, 500)), "JPEG", comment=PAYLOAD), id="jpeg-comment"),
        pytest.param(lambda: encode(picture((700, 500)), "PNG") + PAYLOAD, id="png+html"),
        pytest.param(lambda: encode(picture((700, 500)), "PNG", pnginfo=_text_chunk(PAYLOAD)), id="png-text"),
        pytest.param(lambda: encode(picture((700, 500)), "WEBP", xmp=PAYLOAD), id="webp-xmp"),
    ],
)
def test_polyglot_payload_is_gone_after_reencoding(make, run):
    data = make()
    assert PAYLOAD in data
    variants, _ = run(data)
    for v in variants:
        assert b"pwned" not in v.data and b"<script" not in v.data


def _text_chunk(text: bytes) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text.decode())
    return info


def test_rejection_is_a_value_error_with_a_message():
    error = ImageRejected("too_many_pixels")
    assert isinstance(error, ValueError) and "megapixels" in str(error)
    with pytest.raises(ValueError):
        ImageRejected("nope")


# ---------------------------------------------------------------------------------------------------------------
# storage keys (checklist 17)


def test_storage_keys_are_random_and_unique():
    keys = [storage_key() for _ in range(2000)]
    assert len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"img/[0-9a-f]{2}/[0-9a-f]{30}", key) for key in keys)
    assert len({key[4:6] for key in keys}) > 200  # spread over the prefixes


def test_variant_keys_are_exactly_the_produced_objects(jpeg_800, run):
    key = storage_key()
    variants, info = run(encode(picture((1400, 1000)), "JPEG"))
    produced = [v.key(key) for v in variants]
    assert len(set(produced)) == len(produced) == 8
    assert produced == variant_keys(key) == variant_keys(key, info["width"])
    assert by_key(variants)[(640, "webp")].key(key) == variant_key(key, 640, "webp") == f"{key}/640.webp"
    assert f"{key}/160.jpg" in produced

    small, small_info = run(jpeg_800)  # 800 wide: no 1280
    produced = [v.key(key) for v in small]
    assert produced == variant_keys(key, small_info["width"])
    assert set(produced) < set(variant_keys(key))  # deleting with the full list still removes them all
    assert all(w in (*IMAGE_WIDTHS, THUMB_WIDTH) for w in (v.key_width for v in small))


def test_decompression_bomb_warning_is_an_error_even_with_a_higher_cap(monkeypatch):
    # Pillow only warns between 89 and 179 MP: without our cap that warning must still refuse the image
    import servicerw.media.processing as processing

    monkeypatch.setattr(processing, "MAX_PIXELS", 10**12)
    assert rejected(png_header_only(10000, 10000), inspect).code == "too_many_pixels"
