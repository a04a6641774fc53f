"""The `qagen` command line: a thin typer app over qagen's Python API (no logic of its own)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from qagen.errors import QagenError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Spatial QA generation from 3D ground truth.")


def _fail(exc: Exception) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


@app.command()
def generate(
    data: Optional[Path] = typer.Option(None, help="Scene folder or root of scene folders (default: built-in demo scenes)."),
    loader: str = typer.Option("native", help="Input layout: native, scannet, ..."),
    tasks: str = typer.Option("all", help="all, or comma-separated task names (see `qagen tasks`)."),
    qa_format: str = typer.Option("all", "--qa-format", help="Question formats: all or fill,select,sentence,judge."),
    format: str = typer.Option("sharegpt,internvl", "--format",
                               help="Output formats, comma-separated: sharegpt, internvl, spar, qwen, or all."),
    mix: Optional[Path] = typer.Option(None, help="Mixing YAML: weights, caps, total, split."),
    out: Path = typer.Option(Path("qagen_out"), help="Output folder."),
    seed: int = typer.Option(0, help="Global seed."),
    workers: int = typer.Option(1, help="Scenes processed in parallel (local executor)."),
    task_workers: Optional[int] = typer.Option(None, help="Processes sharing each scene's tasks (default: the "
                                                         "cores --workers leaves free; 1 on Ray)."),
    device: str = typer.Option("auto", help="Lifting device: auto, cpu or cuda."),
    executor: str = typer.Option("local", help="local or ray."),
    address: Optional[str] = typer.Option(None, help="Ray cluster address (ray executor)."),
    gpus_per_scene: float = typer.Option(0.0, help="GPU fraction Ray reserves per scene."),
    resume: bool = typer.Option(False, help="Skip scenes whose shards are complete."),
    strip_meta: bool = typer.Option(False, help="Leave the meta block out of records."),
    sharegpt_style: str = typer.Option("sharegpt", help="sharegpt (from/value) or openai (role/content)."),
    burn_markers: bool = typer.Option(False, help="Draw markers into copies of the images under <out>/marked."),
    specs: list[Path] = typer.Option([], help="Extra folder of task specs (repeatable)."),
    templates: list[Path] = typer.Option([], help="Extra folder of templates (repeatable)."),
    limit: Optional[int] = typer.Option(None, help="Process at most this many scenes."),
    frame_stride: str = typer.Option("auto", help="Keep every Nth frame of each scene, or auto: keep a frame once the "
                                                  "camera has moved 5 cm or turned 5 degrees since the last one kept "
                                                  "(thins captures exported at every frame, like ScanNet's, and stops; "
                                                  "sparse captures keep every frame)."),
) -> None:
    """Generate QA shards and a manifest."""
    from qagen.pipeline.mix import load_mix
    from qagen.pipeline.run import generate_dataset, plan_from_options

    try:
        plan = plan_from_options(tasks, qa_format, format, out, seed, load_mix(mix), device, resume, strip_meta,
                                 sharegpt_style, specs, templates, burn_markers, frame_stride)
        manifest = generate_dataset(plan, data, loader, workers=workers, executor=executor, address=address,
                                    gpus_per_scene=gpus_per_scene, scene_limit=limit, task_workers=task_workers)
    except QagenError as exc:
        _fail(exc)
        return
    totals = manifest["totals"]
    typer.echo(f"wrote {totals['records']} QA from {totals['scenes']} scenes to {out} (see {out / 'manifest.json'})")
    for task, why in manifest["tasks_not_run"].items():
        typer.echo(f"  not run: {task}: {why}")
    if manifest["shortfall"]:
        typer.echo(f"  {len(manifest['shortfall'])} task(s) produced fewer QA than asked; see 'shortfall' in the manifest")


@app.command()
def convert(
    input_path: Path = typer.Argument(..., metavar="INPUT", help="A file, or a folder of files, in the source format."),
    source: str = typer.Option(..., "--from", help="Source format: spar, spacevista or spatialforge."),
    format: str = typer.Option("sharegpt", "--format",
                               help="Output formats, comma-separated: sharegpt, internvl, spar, qwen, or all."),
    out: Path = typer.Option(Path("qagen_out"), help="Output folder."),
    root: Optional[Path] = typer.Option(None, help="Folder the image paths are relative to (default: per source)."),
    point_order: str = typer.Option("auto", help="SpaceVista points: auto (decided by image bounds), xy or yx."),
    strip_meta: bool = typer.Option(False, help="Leave the meta block out of records."),
    sharegpt_style: str = typer.Option("sharegpt", help="sharegpt (from/value) or openai (role/content)."),
    burn_markers: bool = typer.Option(False, help="Draw markers into copies of the images under <out>/marked."),
) -> None:
    """Convert a released QA set (SPAR, SpaceVista, SpatialForge) into qagen's output formats."""
    from qagen.convert import convert as run_convert
    from qagen.pipeline.run import writer_names

    try:
        report = run_convert(source, input_path, out, writer_names(format), root, strip_meta, sharegpt_style,
                             burn_markers, point_order=point_order)
    except (QagenError, ValueError) as exc:
        _fail(exc)
        return
    typer.echo(f"converted {report['records']} records from {report['files']} file(s) to {out}")
    for name, counts in report["formats"].items():
        refused = ", ".join(f"{reason} {n}" for reason, n in sorted(counts["refused"].items()))
        typer.echo(f"  {name}: {counts['written']} written" + (f"; refused: {refused}" if refused else ""))


@app.command()
def tasks(
    specs: list[Path] = typer.Option([], help="Extra folder of task specs."),
    templates: list[Path] = typer.Option([], help="Extra folder of templates."),
) -> None:
    """List the tasks: modality, relation, level, formats, requirements."""
    from qagen.pipeline import catalogue

    try:
        cat = catalogue.load(tuple(specs), tuple(templates))
    except QagenError as exc:
        _fail(exc)
        return
    rows = [("task", "modality", "rel", "level", "formats", "requires")]
    for spec in cat.select("all"):
        rows.append((spec.name, spec.modality, spec.relation, spec.level, ",".join(spec.formats), ",".join(spec.requires)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


@app.command("demo-scenes")
def demo_scenes(
    out: Path = typer.Option(..., help="Folder to write the scenes into."),
    n: int = typer.Option(3, min=1, help="Number of rooms."),
    seed: int = typer.Option(0, help="Seed of the procedural world."),
    frames: Optional[int] = typer.Option(None, min=2, help="Frames per camera walk (default: 30-60, keyframes of a "
                                                             "short capture); more make a denser, longer capture."),
) -> None:
    """Write procedural synthetic scenes in the native layout."""
    from qagen.scene.synthetic import write_demo_scenes

    paths = write_demo_scenes(out, n=n, seed=seed, frames=frames)
    typer.echo(f"wrote {len(paths)} scenes to {out}")


@app.command()
def audit(
    out: Path = typer.Argument(..., help="Output folder of a `qagen generate` run."),
    tolerance: float = typer.Option(0.05, help="Flag a cell when a blind learner beats chance by more than this."),
    min_samples: int = typer.Option(60, help="Cells with fewer records are reported but not judged."),
) -> None:
    """Answer balance and text-only answerability per task and format (writes audit.json)."""
    import json

    from qagen.pipeline.audit import audit as run_audit

    try:
        report = run_audit(out, tolerance, min_samples)
    except QagenError as exc:
        _fail(exc)
        return
    (out / "audit.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    for name, cell in report["cells"].items():
        blind = "-" if cell["blind_accuracy"] is None else f"{cell['blind_accuracy']:.2f}"
        mark = "  FLAGGED" if cell["flagged"] else ""
        spread = f" spread={cell['option_spread']:.1f}" if "option_spread" in cell else ""
        typer.echo(f"{name:55s} n={cell['records']:6d} chance={cell['chance']:.2f} blind={blind} "
                   f"top={cell['top_answer_share']:.2f}{spread}{mark}")
    typer.echo(f"{report['judged']} cells judged, {len(report['flagged'])} flagged; sampling noise alone flags about "
               f"{report['flags_expected_from_noise']} of this many fair cells: confirm a flagged cell with more "
               "records per scene (--mix) before treating it as a leak.")
    if report["flagged"]:
        raise typer.Exit(code=1)


if __name__ == "__main__":
    app()
