"""Make docs/img/people.png, the picture of docs/people.md: `dynapose predict` on two people.

The clip is `dynapose bench people`'s "passing" (two real photographs, scikit-image's cameraman
and astronaut, she crossing in front of him); the picture is frame FRAME of the output's
overlay.mp4 (a colour per person, numbered) beside the same frame of scene.mp4 (everyone in one
3D scene). people_viewer.png: the output's viewer.html at the same frame, as headless
Chromium shows it (skipped without Chromium).

    PYTHONPATH=src python docs/img/make_people_picture.py [WORK_DIR [FRAME]]
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from PIL import Image

from dynapose.bench.people import composite
from dynapose.io.video import write_test_video

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_picture import frame_of


def main() -> None:
    work = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/dynapose-people-picture")
    index = int(sys.argv[2]) if len(sys.argv) > 2 else 75
    work.mkdir(parents=True, exist_ok=True)
    frames, _ = composite("passing", 90)
    video = write_test_video(work / "passing.mp4", frames, fps=25.0)
    out = work / "passing-pose"
    subprocess.run([sys.executable, "-m", "dynapose", "predict", str(video), "--out", str(out),
                    "--overwrite"], check=True)
    overlay = frame_of(out / "overlay.mp4", index)
    overlay = overlay.crop((overlay.width // 5, 0, overlay.width, overlay.height))
    scene = frame_of(out / "scene.mp4", index)
    height = 270
    overlay = overlay.resize((round(overlay.width * height / overlay.height), height))
    scene = scene.resize((round(scene.width * height / scene.height), height))
    picture = Image.new("RGB", (overlay.width + scene.width, height), "white")
    picture.paste(overlay, (0, 0))
    picture.paste(scene, (overlay.width, 0))
    target = Path(__file__).with_name("people.png")
    picture.quantize(colors=96, dither=Image.Dither.NONE).save(target, optimize=True)
    print(f"{target}: {picture.width}x{picture.height}, {target.stat().st_size // 1024} KB")
    viewer_picture(out / "viewer.html", index, work)


def viewer_picture(page: Path, index: int, work: Path) -> None:
    """docs/img/people_viewer.png: `page` opened at frame `index` in headless Chromium."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("no Chromium: people_viewer.png not made")
        return
    at_frame = work / "viewer-at-frame.html"  # the page opens on frame 0: start it at `index`
    at_frame.write_text(page.read_text(encoding="utf-8").replace(
        "var frame = 0, playing = false;", f"var frame = {index}, playing = false;", 1),
        encoding="utf-8")
    shot = work / "viewer.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    f"--user-data-dir={work / 'chromium'}", "--window-size=1010,690",
                    f"--screenshot={shot}", at_frame.as_uri()], check=True,
                   capture_output=True)
    target = Path(__file__).with_name("people_viewer.png")
    picture = Image.open(shot).convert("RGB")
    picture.quantize(colors=128, dither=Image.Dither.NONE).save(target, optimize=True)
    print(f"{target}: {picture.width}x{picture.height}, {target.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
