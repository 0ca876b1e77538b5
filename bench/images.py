"""Image pipeline benchmark: a deterministic 12-megapixel photo-like JPEG (with EXIF and GPS) through process().

Prints the input size, the time per image over --runs (CPU time, `time.process_time`, which other load on a shared
machine affects less than the wall time; and wall time: p50/p95/max), the bytes of each variant (width x format),
and how fast a 900-megapixel PNG is refused. The goal (issue 15) is on one core: run it under `taskset -c 0`
(`just bench-images` does). `--backend pillow` measures the fallback used when pyvips cannot load.

    taskset -c 0 python bench/images.py --runs 20 [--backend auto|libvips|pillow] [--save /tmp/variants]
"""

from __future__ import annotations

import argparse
import io
import math
import os
import random
import statistics
import struct
import sys
import time
import zlib
from pathlib import Path

from PIL import ExifTags, Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from servicerw.media.processing import (  # noqa: E402
    WEBP_METHOD,
    WEBP_SMALL_METHOD,
    WEBP_SMALL_WIDTH,
    ImageRejected,
    _pyvips,
    inspect,
    process,
)


def _random_layer(rng: random.Random, size: tuple[int, int], grid: tuple[int, int]) -> Image.Image:
    """Smooth random field: random bytes on a coarse grid, upscaled (blobs at grid scale)."""
    small = Image.frombytes("L", grid, rng.randbytes(grid[0] * grid[1]))
    return small.resize(size, Image.Resampling.BICUBIC)


def photo_like_jpeg(width: int = 4000, height: int = 3000, seed: int = 7) -> bytes:
    """Gradients, soft blobs, shapes with edges, texture and sensor-like noise; EXIF with GPS (Kigali)."""
    rng = random.Random(seed)
    size = (width, height)
    sky = Image.linear_gradient("L").resize(size)
    ground = Image.linear_gradient("L").rotate(90).resize(size)
    channels = [
        Image.blend(sky, _random_layer(rng, size, (16, 12)), 0.5),
        Image.blend(ground, _random_layer(rng, size, (24, 18)), 0.5),
        Image.blend(sky.transpose(Image.Transpose.FLIP_TOP_BOTTOM), _random_layer(rng, size, (12, 9)), 0.6),
    ]
    img = Image.merge("RGB", channels)

    draw = ImageDraw.Draw(img)
    for _ in range(90):  # "buildings", signs, cars: hard edges at many scales
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = rng.randrange(20, width // 5), rng.randrange(20, height // 5)
        color = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        if rng.random() < 0.5:
            draw.rectangle((x, y, x + w, y + h), fill=color, outline=(20, 20, 20), width=rng.randrange(1, 6))
        else:
            draw.ellipse((x, y, x + w, y + h), fill=color)
    for _ in range(40):  # wires, poles
        draw.line(
            [(rng.randrange(width), rng.randrange(height)) for _ in range(3)],
            fill=(rng.randrange(256),) * 3,
            width=rng.randrange(1, 8),
        )
    img = img.filter(ImageFilter.GaussianBlur(1.2))  # lens softness

    # texture (foliage, walls) at mid frequency, and fine sensor noise
    texture = _random_layer(rng, size, (width // 6, height // 6))
    grain = Image.frombytes("L", size, rng.randbytes(width * height))
    img = Image.blend(img, Image.merge("RGB", [texture] * 3), 0.12)
    img = Image.blend(img, Image.merge("RGB", [grain] * 3), 0.06)

    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "samsung"
    exif[ExifTags.Base.Model] = "Galaxy A14"
    exif[ExifTags.Base.Orientation] = 1
    exif[ExifTags.Base.DateTime] = "2025:03:14 10:21:07"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S"
    gps[ExifTags.GPS.GPSLatitude] = (1.0, 56.0, 38.8)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (30.0, 3.0, 42.8)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=88, exif=exif)  # about what a budget phone camera writes
    return out.getvalue()


def huge_png(width: int = 30000, height: int = 30000) -> bytes:
    """A valid 1-bit PNG of width x height (all black), streamed: never holds the pixels in memory."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row * 1000) for _ in range(height // 1000))
    idat += compressor.compress(row * (height % 1000)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _summary(label: str, ms: list[float]) -> str:
    return (
        f"{label} p50 {statistics.median(ms):.0f} ms, p95 {_percentile(ms, 0.95):.0f} ms, "
        f"min {min(ms):.0f} ms, max {max(ms):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backend", choices=("auto", "libvips", "pillow"), default="auto", help="who resizes")
    parser.add_argument("--save", type=Path, help="write the variants of the last run to this folder")
    args = parser.parse_args()
    use_vips = {"auto": None, "libvips": True, "pillow": False}[args.backend]

    started = time.perf_counter()
    data = photo_like_jpeg(seed=args.seed)
    fmt, width, height = inspect(data)
    print(f"input: {fmt} {width}x{height} ({width * height / 1e6:.1f} MP), {len(data):,} bytes", end="")
    print(f"  [generated in {time.perf_counter() - started:.1f} s]")
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    resizer = "libvips" if use_vips or (use_vips is None and _pyvips() is not None) else "Pillow"
    print(
        f"resize by {resizer}, WebP method {WEBP_METHOD} ({WEBP_SMALL_METHOD} up to {WEBP_SMALL_WIDTH} px); "
        f"allowed CPUs {cpus} of {os.cpu_count()}; "
        f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )

    process(data, use_vips=use_vips)  # warm-up (imports, libvips/libwebp/libjpeg init)
    cpu, wall = [], []
    for _ in range(args.runs):
        c0, t0 = time.process_time(), time.perf_counter()
        variants, info = process(data, use_vips=use_vips)
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - t0) * 1000)
    print(f"process() over {args.runs} runs, output {info['width']}x{info['height']} upright:")
    print(_summary("  CPU: ", cpu))
    print(_summary("  wall:", wall))
    t0 = time.perf_counter()
    for _ in range(20):
        inspect(data)
    print(f"inspect(): {(time.perf_counter() - t0) / 20 * 1000:.2f} ms")

    print()
    print(f"{'key':>5}  {'pixels':>10}  {'webp bytes':>10}  {'jpg bytes':>10}  {'webp/jpg':>8}")
    by_key: dict[int, dict[str, object]] = {}
    for v in variants:
        by_key.setdefault(v.key_width, {})[v.ext] = v
    total = 0
    for key_width, pair in by_key.items():
        webp, jpg = pair["webp"], pair["jpg"]
        total += len(webp.data) + len(jpg.data)
        name = "thumb" if webp.is_thumb else str(key_width)
        print(
            f"{name:>5}  {f'{webp.width}x{webp.height}':>10}  {len(webp.data):>10,}  {len(jpg.data):>10,}"
            f"  {len(webp.data) / len(jpg.data):>8.2f}"
        )
    print(f"total stored: {total:,} bytes for {len(variants)} objects")

    bomb = huge_png()
    t0 = time.perf_counter()
    try:
        process(bomb)
        print("900 MP PNG: ACCEPTED (bug)")
    except ImageRejected as error:
        print(
            f"\n900 MP PNG ({len(bomb):,} bytes): refused as {error.code!r} in "
            f"{(time.perf_counter() - t0) * 1000:.2f} ms"
        )

    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        (args.save / "input.jpg").write_bytes(data)
        for v in variants:
            (args.save / f"{v.key_width}.{v.ext}").write_bytes(v.data)
        print(f"variants written to {args.save}")


if __name__ == "__main__":
    main()
