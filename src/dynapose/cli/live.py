"""``live``: a camera, a stream or a video file to 3D joints in real time.

Imports of the API sit inside the command: ``dynapose --help`` starts without loading torch.
"""

from __future__ import annotations

import sys

import click

from dynapose.cli.options import count, debug_option, number


@click.command()
@click.argument("source", default="0")
@click.option("--lifter", default=None,
              help="Lifter checkpoint (default: the one shipped with DynaPose).")
@click.option("--view", type=click.Choice(["auto", "window", "browser", "none"]), default="auto",
              show_default=True,
              help="window: an OpenCV window; browser: a page on http://127.0.0.1:PORT/; none. "
                   "auto: a window where a display exists, else none.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port of the browser view (localhost only; 0: any free port).")
@click.option("--osc", default=None, metavar="HOST:PORT",
              help="Send the VMC protocol (OSC over UDP) there, e.g. 127.0.0.1:39539.")
@click.option("--json-ws", "json_ws", default=None, metavar="HOST:PORT",
              help="Serve per-frame JSON over WebSocket at ws://HOST:PORT/ws.")
@click.option("--record", default=None, metavar="DIR",
              help="Write what `predict` writes (joints, visuals) and the frames seen into DIR.")
@click.option("--no-visuals", is_flag=True,
              help="With --record: only video.mp4 and joints.{npz,json,csv}.")
@click.option("--overwrite", is_flag=True, help="Replace an existing --record folder.")
@click.option("--pose-model", type=click.Choice(["lite", "full", "heavy"]), default="full",
              show_default=True,
              help="MediaPipe's pose model (only full ships with MediaPipe; lite is faster).")
@click.option("--no-flip", is_flag=True,
              help="Lift once per frame, not also mirrored (faster, a little less accurate).")
@click.option("--overlap", is_flag=True,
              help="Run MediaPipe one frame ahead in a thread of its own (helps where a core "
                   "is free; measured by `dynapose bench live`).")
@click.option("--frames", "max_frames", type=count(), default=None,
              help="Stop after this many processed frames.")
@click.option("--seconds", type=number(0, min_open=True), default=None,
              help="Stop after this many seconds.")
@debug_option()
def live(source: str, lifter: str | None, view: str, port: int, osc: str | None,
         json_ws: str | None, record: str | None, no_visuals: bool, overwrite: bool,
         pose_model: str, no_flip: bool, overlap: bool, max_frames: int | None,
         seconds: float | None) -> None:
    """3D joints live from SOURCE: a camera index (default 0), a stream URL or a video file
    (played at its own rate; frames are dropped, never queued, when the machine falls behind).

    Shows the frame with its 2D and 3D skeletons, sends the VMC protocol (--osc) and JSON
    (--json-ws), records (--record). Ctrl-C stops cleanly, the recording written whole.
    """
    from dynapose.inference.writer import VISUALS
    from dynapose.live.session import POSE_MODELS, LiveSummary, run_live

    complexity = {v: k for k, v in POSE_MODELS.items()}[pose_model]
    tty = sys.stderr.isatty()

    def progress(n: int, summary: LiveSummary) -> None:
        if tty and n % 15 == 0:
            lat = summary.latency()
            click.echo(f"\r{n} frames, {summary.found} with a person, latency "
                       f"{lat['median_ms']:.0f} ms   ", nl=False, err=True)

    def started(urls: dict[str, str]) -> None:  # stdout: MediaPipe holds stderr as it starts
        for kind, url in urls.items():
            click.echo(f"{kind:>8}: {url}")

    result = run_live(source, lifter=lifter, view=view, port=port,  # type: ignore[arg-type]
                      record=record, visuals=() if no_visuals else VISUALS,
                      overwrite=overwrite, osc=osc, json_ws=json_ws, pose_model=complexity,
                      flip_tta=not no_flip, max_frames=max_frames, seconds=seconds,
                      on_frame=progress, on_start=started, overlap=overlap)
    if tty:
        click.echo("", err=True)
    lat = result.latency()
    click.echo(f"{result.frames} frames processed of {result.captured} captured "
               f"({result.dropped} dropped) in {result.seconds:.1f} s: "
               f"{result.frames_per_s:.1f} frames/s, latency median {lat['median_ms']:.1f} ms "
               f"(p95 {lat['p95_ms']:.1f}), a person in {result.found}; stopped: "
               f"{result.stopped}")
    for kind, file in result.files.items():
        click.echo(f"{kind:>12}: {file}")
