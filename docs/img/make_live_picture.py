"""Make docs/img/live.png, the Live page's picture: `dynapose live --view browser` in a headless
Chromium.

A 640x480 video of scikit-image's astronaut photo moving sideways is played by `dynapose live`
with the browser view on a free local port; Chromium (driven over the DevTools protocol by
tests/_chromium.py) opens the page and, once it has drawn 60 frames, takes the screenshot.

    PYTHONPATH=src:. python docs/img/make_live_picture.py
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests._chromium import Browser, find_chromium

from dynapose.bench.live import person_frames
from dynapose.io.video import write_test_video

OUT = Path(__file__).resolve().parent / "live.png"


def main() -> None:
    chromium = find_chromium()
    if chromium is None:
        sys.exit("no Chromium here (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        video = write_test_video(Path(tmp) / "person.mp4", person_frames(640, 480, 900, 30.0),
                                 fps=30.0)
        live = subprocess.Popen([sys.executable, "-m", "dynapose", "live", str(video), "--view",
                                 "browser", "--port", "0"], stdout=subprocess.PIPE, text=True)
        try:
            assert live.stdout is not None
            url = re.search(r"http://\S+", live.stdout.readline())
            if url is None:
                sys.exit("dynapose live did not say where its page is")
            with Browser(chromium, width=1160, height=560) as browser:
                browser.open(url.group(0))
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    time.sleep(0.5)
                    if int(browser.evaluate("document.body.dataset.frames || 0")) >= 60:
                        break
                browser.screenshot(OUT)
        finally:
            live.terminate()
            live.wait(timeout=30)
    print(OUT)


if __name__ == "__main__":
    main()
