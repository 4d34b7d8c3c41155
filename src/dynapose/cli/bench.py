"""``dynapose bench ...``: measured speed and memory, as text or JSON.

Imports of the API sit inside the commands: ``dynapose --help`` and every command start without
loading torch and the rest of the stack until a command needs it.
"""

from __future__ import annotations

from typing import Any

import click

from dynapose.cli.options import count, debug_option, device_option, number


@click.group()
def bench() -> None:
    """Benchmarks: measured speed and memory, printed as text or JSON (--json)."""


@bench.command("predict")
@click.option("--checkpoint", default=None,
              help="Checkpoint to time (default: the seed model with random weights).")
@click.option("--input-size", type=count(193), default=224, show_default=True,
              help="Input side of the default seed model.")
@click.option("--batch", type=count(), default=16, show_default=True,
              help="Windows per model call.")
@click.option("--frames", "video_frames", type=count(), default=400, show_default=True,
              help="Frames of the generated 1000x1000 video.")
@click.option("--seconds", type=number(0, min_open=True), default=3.0, show_default=True,
              help="Time per model measurement.")
@click.option("--backend", "backends", multiple=True, type=click.Choice(["torch", "onnx"]),
              help="Backends for the model-alone figure (default: both).")
@device_option()
@click.option("--visuals/--no-visuals", default=True, show_default=True,
              help="Also time predict with its visual outputs (drawn on the CPU).")
@click.option("--video", default=None, type=click.Path(dir_okay=False),
              help="Time the default `predict` (the shipped lifter, or --checkpoint's) on this "
                   "real video instead: MediaPipe alone, predict with and without visuals, as "
                   "ratios to MediaPipe's rate.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@debug_option()
def bench_predict_cmd(checkpoint: str | None, input_size: int, batch: int, video_frames: int,
                      seconds: float, backends: tuple[str, ...], device: str, visuals: bool,
                      video: str | None, as_json: bool) -> None:
    """Frames/s of the model alone (torch, onnxruntime) and of predict end to end; with
    --video, the default predict on a real video as ratios to MediaPipe's own rate."""
    import json

    if video is not None:
        from dynapose.bench.lift import bench_lift_video

        figures = bench_lift_video(video, checkpoint)
        if as_json:
            click.echo(json.dumps(figures, indent=2))
            return
        for key, value in figures.items():
            if isinstance(value, dict) and "frames_per_s" in value:
                ratio = value.get("ratio_to_mediapipe")
                shown = f" ({ratio:.2f}x MediaPipe)" if ratio is not None else ""
                click.echo(f"{key:>24}: {value['frames_per_s']:8.1f} frames/s{shown}")
            else:
                click.echo(f"{key:>24}: {value}")
        return
    from dynapose.bench.predict import bench_predict

    result = bench_predict(checkpoint, batch=batch, seconds=seconds, video_frames=video_frames,
                           backends=backends or ("torch", "onnx"), input_size=input_size,
                           device=device, visuals=visuals)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        if isinstance(value, dict) and "frames_per_s" in value:
            click.echo(f"{key:>24}: {value['frames_per_s']:8.1f} frames/s")
        else:
            click.echo(f"{key:>24}: {value}")


@bench.command("people")
@click.option("--clip", "clips", multiple=True,
              type=click.Choice(["side_by_side", "passing", "entering", "alone",
                                 "rendered_pair"]),
              help="Clips to build (default: the four of real photographs).")
@click.option("--frames", type=count(), default=90, show_default=True, help="Frames per clip.")
@click.option("--detect-every", type=count(), default=1, show_default=True,
              help="Run the person detector on every n-th frame.")
@click.option("--end-to-end/--search-only", default=True, show_default=True,
              help="Also time predict --people all and the single-person predict.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bench_people_cmd(clips: tuple[str, ...], frames: int, detect_every: int, end_to_end: bool,
                     as_json: bool) -> None:
    """People found per frame, identity switches and frames/s of predict --people on clips
    built from real photographs (side by side, one passing in front, one entering late, one
    alone)."""
    import json

    from dynapose.bench.people import CLIPS, bench_people

    result = bench_people(clips or CLIPS, frames=frames, detect_every=detect_every,
                          end_to_end=end_to_end)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        if isinstance(value, dict):
            click.echo(f"{key}:")
            for name, v in value.items():
                click.echo(f"  {name:>28}: {v:.3g}" if isinstance(v, float) else
                           f"  {name:>28}: {v}")
        else:
            click.echo(f"{key}: {value}")


@bench.command("viz")
@click.option("--frames", type=count(), default=200, show_default=True,
              help="Frames per measurement.")
@click.option("--size", type=count(), default=224, show_default=True,
              help="Side of the input frames (px).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bench_viz_cmd(frames: int, size: int, as_json: bool) -> None:
    """Frames/s of the 2D overlay, the 3D view and the comparison video (MP4, GIF)."""
    import json

    from dynapose.bench.viz import bench_viz

    result = bench_viz(frames=frames, size=size)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        shown = f"{value['frames_per_s']:8.1f} frames/s" if isinstance(value, dict) else value
        click.echo(f"{key:>18}: {shown}")


@bench.command("live")
@click.option("--sizes", default="640x480,1280x720", show_default=True,
              help="Frame sizes WxH, comma-separated.")
@click.option("--seconds", type=number(0, min_open=True), default=20.0, show_default=True,
              help="Seconds measured per size (after the warm-up).")
@click.option("--warmup", type=number(0), default=3.0, show_default=True,
              help="Seconds played first and left out.")
@click.option("--fps", type=number(1), default=30.0, show_default=True,
              help="Frame rate of the source video.")
@click.option("--pose-model", type=click.Choice(["lite", "full", "heavy"]), default="full",
              show_default=True, help="MediaPipe's pose model (only full ships with MediaPipe).")
@click.option("--no-flip", is_flag=True, help="Lift once per frame, not also mirrored.")
@click.option("--video", default=None, type=click.Path(dir_okay=False),
              help="Frames of this video (a person in it) instead of the generated source.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@debug_option()
def bench_live_cmd(sizes: str, seconds: float, warmup: float, fps: float, pose_model: str,
                   no_flip: bool, video: str | None, as_json: bool) -> None:
    """Frames/s and capture-to-sent latency of `dynapose live` on a video played at its rate."""
    import json

    from dynapose.bench.live import bench_live
    from dynapose.live.session import POSE_MODELS

    try:
        parsed = [tuple(int(v) for v in s.lower().split("x")) for s in sizes.split(",")]
    except ValueError as exc:
        raise click.BadParameter(f"not a list of WxH sizes: {sizes}") from exc
    if any(len(p) != 2 or min(p) < 16 for p in parsed):
        raise click.BadParameter(f"not a list of WxH sizes (16 px at least): {sizes}")
    complexity = {v: k for k, v in POSE_MODELS.items()}[pose_model]
    result = bench_live([(p[0], p[1]) for p in parsed], seconds=seconds, warmup=warmup,
                        fps=fps, pose_model=complexity, flip_tta=not no_flip, video=video)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        if isinstance(value, dict):
            click.echo(f"{key:>12}: {value['frames_per_s']:6.1f} frames/s, latency median "
                       f"{value['latency_median_ms']} ms, p95 {value['latency_p95_ms']} ms, "
                       f"dropped {value['dropped']}/{value['captured']}, stages "
                       f"{value['stages_median_ms']}, load {value['load_average']}")
        else:
            click.echo(f"{key:>12}: {value}")


def _echo_figures(result: dict[str, Any], as_json: bool, width: int) -> None:
    """A benchmark's flat result: JSON, or one aligned `key: value` line each (3 digits)."""
    import json

    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        shown = f"{value:.3g}" if isinstance(value, float) else value
        click.echo(f"{key:>{width}}: {shown}")


@bench.command("fit")
@click.option("--frames", type=count(), default=20_000, show_default=True,
              help="Frames fitted per measurement.")
@click.option("--repeats", type=count(), default=3, show_default=True,
              help="Measurements; the median is shown.")
@click.option("--busy", type=count(), default=None,
              help="Spinning processes during the loaded measurement (default: cores - 1).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bench_fit_cmd(frames: int, repeats: int, busy: int | None, as_json: bool) -> None:
    """Seconds of the rigid-bone ray fit, quiet and with the other cores kept busy."""
    from dynapose.bench.fit import bench_fit

    result = bench_fit(frames=frames, repeats=repeats, busy=busy)
    _echo_figures(result, as_json, width=15)


@bench.command("synth")
@click.option("--size", type=count(), default=224, show_default=True,
              help="Side of the rendered frames, px.")
@click.option("--frames", type=count(), default=800, show_default=True,
              help="Frames per measurement.")
@click.option("--workers", type=count(), default=None, help="Processes (default: all cores).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bench_synth_cmd(size: int, frames: int, workers: int | None, as_json: bool) -> None:
    """Rendered frames/s of synthetic video, end to end (motion + render + crop)."""
    from dynapose.bench.synth import bench_synth

    result = bench_synth(size=size, frames=frames, workers=workers)
    _echo_figures(result, as_json, width=22)


@bench.command("train")
@click.option("--batch", default=80, show_default=True, type=click.IntRange(min=1),
              help="Clips per optimizer step.")
@click.option("--size", default=224, show_default=True, type=click.IntRange(min=193),
              help="Side of the square frames, px (the model needs at least 193).")
@click.option("--steps", default=10, show_default=True, type=click.IntRange(min=1),
              help="Timed steps (after warm-up).")
@click.option("--warmup", default=2, show_default=True, type=click.IntRange(min=0),
              help="Untimed steps first.")
@click.option("--threads", type=count(), default=None, help="Torch threads (default: torch's).")
@click.option("--huge-pages/--no-huge-pages", default=True, show_default=True,
              help="THP_MEM_ALLOC_ENABLE=1 in the measuring process (fewer page faults).")
@device_option()
@click.option("--precision", type=click.Choice(["fp32", "bf16"]), default="fp32",
              show_default=True, help="bf16: the step under bfloat16 autocast.")
@click.option("--compile", "compile_model", is_flag=True, help="torch.compile the model.")
@click.option("--stem", type=click.Choice(["auto", "chunked", "plain"]), default="auto",
              show_default=True,
              help="First stage: as the model picks it (chunked on CPUs), or forced.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bench_train_cmd(batch: int, size: int, steps: int, warmup: int, threads: int | None,
                    huge_pages: bool, device: str, precision: str, compile_model: bool,
                    stem: str, as_json: bool) -> None:
    """Training step of the seed model: clips/s and peak resident memory (fresh process)."""
    import json

    from dynapose.bench.training import bench_train, format_table

    result = bench_train(batch=batch, size=size, steps=steps, warmup=warmup, threads=threads,
                         huge_pages=huge_pages, device=device, precision=precision,
                         compile=compile_model, stem=stem)
    click.echo(json.dumps(result, indent=2) if as_json else format_table(result))


@bench.command("memory")
@click.option("--sizes", default="500,2000,8000", show_default=True,
              help="Store sizes (clips), comma-separated.")
@click.option("--size", default=224, show_default=True, type=click.IntRange(min=193))
@click.option("--batch", default=80, show_default=True, type=click.IntRange(min=1))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=0))
@click.option("--root", default=None, help="Folder for the temporary stores (default: /tmp).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bench_memory_cmd(sizes: str, size: int, batch: int, workers: int, root: str | None,
                     as_json: bool) -> None:
    """Peak resident memory of a training epoch over stores of growing size (stays flat)."""
    import json

    from dynapose.bench.training import bench_memory

    try:
        counts = tuple(int(n) for n in sizes.split(","))
    except ValueError as exc:
        raise click.BadParameter(f"not a list of integers: {sizes}") from exc
    result = bench_memory(counts, size=size, batch=batch, workers=workers, root=root)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"{'clips':>7} {'store GB':>9} {'peak RSS MB':>12} {'+workers MB':>12} "
               f"{'epoch s':>8} {'clips/s':>8}")
    for r in result["results"]:
        click.echo(f"{r['clips']:>7} {r['store_gb']:>9} {r['peak_rss_mb']:>12} "
                   f"{r['peak_tree_rss_mb']:>12} {r['epoch_s']:>8} {r['clips_per_s']:>8}")


@bench.command("lift")
@click.option("--checkpoint", default=None, help="Lifter to time (default: random weights).")
@click.option("--receptive-field", type=click.Choice(["1", "27", "81", "243"]), default="243",
              show_default=True)
@click.option("--channels", type=count(), default=256, show_default=True)
@click.option("--batch", type=count(), default=1024, show_default=True, help="Training batch.")
@click.option("--frames", type=count(), default=2000, show_default=True,
              help="Frames per inference sequence.")
@click.option("--seconds", type=number(0, min_open=True), default=3.0, show_default=True,
              help="Time per measurement.")
@click.option("--threads", type=count(), default=None, help="Torch threads (default: torch's).")
@click.option("--precision", type=click.Choice(["auto", "bf16", "fp32"]), default="auto",
              show_default=True,
              help="Training step precision (the lift presets' auto: bf16 where the hardware "
                   "computes it, else fp32).")
@click.option("--video", default=None, type=click.Path(dir_okay=False),
              help="Also time `predict --lifter` end to end on this real video (MediaPipe).")
@device_option()
@click.option("--compile", "compile_model", is_flag=True,
              help="torch.compile the training step's model (compilation not timed).")
@click.option("--deterministic/--no-deterministic", default=True, show_default=True,
              help="Deterministic CUDA kernels, as train-lift uses them (off: their cost).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@debug_option()
def bench_lift_cmd(checkpoint: str | None, receptive_field: str, channels: int, batch: int,
                   frames: int, seconds: float, threads: int | None, precision: str,
                   video: str | None, device: str, compile_model: bool, deterministic: bool,
                   as_json: bool) -> None:
    """Lifter training samples/s and inference frames/s (batched, and causal one frame at a
    time); with --video, MediaPipe 2D and the whole `predict --lifter` in frames/s."""
    import json

    from dynapose.bench.lift import bench_lift

    result = bench_lift(checkpoint, receptive_field=int(receptive_field), channels=channels,
                        batch=batch, frames=frames, seconds=seconds, threads=threads,
                        precision=precision, video=video, device=device,
                        compile=compile_model, deterministic=deterministic)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        unit = next((u for u in ("samples_per_s", "frames_per_s")
                     if isinstance(value, dict) and u in value), None)
        if unit is not None:
            click.echo(f"{key:>20}: {value[unit]:10.1f} {unit.replace('_per_s', '/s')}")
        else:
            click.echo(f"{key:>20}: {value}")
