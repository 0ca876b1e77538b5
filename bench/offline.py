"""What the offline support costs a phone: the service worker's size, what it precaches (brotli, as sent), the
manifest and the icons.

    python bench/offline.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from servicerw.core.static import StaticFiles  # noqa: E402


def main() -> None:
    files = StaticFiles()
    worker = files.service_worker
    if worker is None:
        raise SystemExit("no static/js/sw.js")
    print(f"{'/sw.js':40} {len(worker.body):7} B  brotli {len(worker.br):6} B")
    config = json.loads(re.search(rb"const CONFIG = (\{.*?\});", worker.body).group(1))
    raw = sent = 0
    for name, url in sorted(config["static"].items()):
        entry = files.by_hashed[url.removeprefix("/static/")]
        raw, sent = raw + len(entry.body), sent + len(entry.br or entry.body)
        print(f"  precached {name:30} {len(entry.body):7} B  brotli {len(entry.br or entry.body):6} B")
    print(f"{'precached in all':40} {raw:7} B  brotli {sent:6} B  (+ the offline page)")
    manifest = files.by_name["manifest.webmanifest"]
    print(f"{'manifest':40} {len(manifest.body):7} B  brotli {len(manifest.br):6} B")
    for name in sorted(n for n in files.by_name if n.startswith("icons/")):
        print(f"{name:40} {len(files.by_name[name].body):7} B")


if __name__ == "__main__":
    main()
