"""qagen's output read by its real consumers; prints one JSON report of what each accepted.

Opt-in: it needs heavy installs, in an environment of its own (qagen itself is not imported):
    python -m venv consumers && consumers/bin/pip install "llamafactory==0.9.5" "datasets<=4.0.0" \
        opencv-python-headless
    consumers/bin/python benchmarks/consumers.py OUT --data DATA_ROOT \
        [--spar-draw-marker SPAR_CHECKOUT/datasets/draw_marker.py] > consumers.json
OUT is a `qagen generate --format all` (or `qagen convert`) output folder, DATA_ROOT the folder its
image paths are relative to (the scenes' root; for the built-in demo scenes, the cache folder).

- sharegpt, qwen: LLaMA-Factory's own loading. For every entry of `<fmt>/dataset_info.json`:
  its parser (get_dataset_list), its `_load_single_dataset` (datasets' json builder, then
  align_dataset with its shareGPT converter) with media_dir = DATA_ROOT. A record is accepted
  when the converter keeps it (non-empty prompt and response), its multimodal plugin's
  `_validate_messages` accepts the <image>/<video> counts (the check that stops training), and
  every media path the converter resolved is a file (the first --open records' images are also
  opened with PIL). A torchaudio whose binary does not match torch is stubbed (audio is unused)
  and the report says so.
- internvl: InternVL's finetuning rules, replicated (InternVL's training code is not a package):
  meta entries with root, annotation (a .jsonl), data_augment, repeat_time and a length equal to
  the line count; per line, `image` as a string takes the single-image path (`<image>` prepended
  when missing), as a list the multi-image path; the `<image>` replaced in human turns must equal
  the image count; no `video` key (read only through Ceph); every image is a file under root.
- spar: SPAR's toy loader rules (data_json entries; image a list; placeholders added by the
  loader, video frames past 10 images or for nav). With --spar-draw-marker, SPAR's own
  DRAW_FUNCTIONS run on the loaded images as its loader calls them, and every marker of the
  record's meta must show its colour afterwards (a dot's centre; a pixel 12 px outside a box
  edge, inside both SPAR's PIL and cv2 strokes, moved onto the image when that lies outside).
  Types without a draw function are counted apart: SPAR's loader raises for them.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.machinery
import importlib.util
import json
import os
import sys
import tempfile
import types
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

IMAGE, VIDEO = "<image>", "<video>"


def stub_torchaudio() -> list[str]:
    """LLaMA-Factory imports torchaudio at start; a CPU torch with PyPI's torchaudio cannot load it."""
    try:
        import torchaudio
    except (ImportError, OSError):
        torchaudio = types.ModuleType("torchaudio")
        torchaudio.__spec__ = importlib.machinery.ModuleSpec("torchaudio", None)
        sys.modules["torchaudio"] = torchaudio
    return [] if getattr(torchaudio, "__file__", None) else ["torchaudio"]


def check_llamafactory(out: Path, data_root: Path, fmt: str, open_first: int) -> dict:
    """Every dataset_info.json entry loaded by LLaMA-Factory's own code (module docstring)."""
    stubbed = stub_torchaudio()
    import datasets
    import llamafactory
    from llamafactory.data.loader import _load_single_dataset
    from llamafactory.data.mm_plugin import BasePlugin
    from llamafactory.data.parser import get_dataset_list
    from llamafactory.hparams import DataArguments
    from PIL import Image

    dataset_dir = out / fmt
    names = sorted(json.loads((dataset_dir / "dataset_info.json").read_text(encoding="utf-8")))
    plugin = BasePlugin(image_token=None, video_token=None, audio_token=None)
    model_args = SimpleNamespace(cache_dir=None, hf_hub_token=None, ms_hub_token=None, om_hub_token=None)
    training_args = SimpleNamespace(local_process_index=0, dataloader_num_workers=0, seed=0)
    report = {"llamafactory": llamafactory.__version__, "datasets": datasets.__version__, "stubbed": stubbed,
              "entries": {}}
    opened = 0
    for name in names:
        data_args = DataArguments(dataset=name, dataset_dir=str(dataset_dir), media_dir=str(data_root),
                                  overwrite_cache=True)
        [attr] = get_dataset_list([name], data_args.dataset_dir)
        dataset = _load_single_dataset(attr, model_args, data_args, training_args)
        seen, accepted, reasons = 0, 0, Counter()
        for example in dataset:
            seen += 1
            images, videos = example["_images"] or [], example["_videos"] or []
            if not example["_prompt"] or not example["_response"]:
                reasons["dropped_by_converter"] += 1
                continue
            try:
                plugin._validate_messages(example["_prompt"] + example["_response"], images, videos, [])
            except ValueError:
                reasons["placeholder_count"] += 1
                continue
            paths = list(images) + [frame for video in videos for frame in video]
            if not all(os.path.isfile(p) for p in paths):
                reasons["missing_media"] += 1
                continue
            if opened < open_first:
                for path in paths:
                    with Image.open(path) as image:
                        image.convert("RGB")
                opened += 1
            accepted += 1
        report["entries"][name] = {"records": seen, "accepted": accepted, "rejected": dict(reasons)}
    return report


def internvl_accepts(item: dict, root: str) -> str | None:
    """None when InternVL's dataset code would take the line, else why not."""
    turns = item.get("conversations")
    if not isinstance(turns, list) or not turns:
        return "conversations"
    if "video" in item:
        return "video_key"
    if "image" in item and len(item["image"]) != 0:
        if isinstance(item["image"], list):
            paths = item["image"]
        else:
            paths = [item["image"]]
            if IMAGE not in turns[0]["value"]:
                turns[0]["value"] = f"{IMAGE}\n" + turns[0]["value"]
        replaced = 0
        for turn in turns:
            if turn["from"] == "human":
                replaced += min(turn["value"].count(IMAGE), len(paths) - replaced)
        if replaced != len(paths) or any(IMAGE in t["value"] for t in turns if t["from"] != "human"):
            return "placeholder_count"
        if not all(os.path.isfile(os.path.join(root, p)) for p in paths):
            return "missing_image"
    elif any(IMAGE in t["value"] for t in turns):
        return "placeholder_count"
    return None


def check_internvl(out: Path) -> dict:
    report = {"entries": {}}
    for meta_file in sorted((out / "internvl").glob("*.json")):
        for name, entry in json.loads(meta_file.read_text(encoding="utf-8")).items():
            keys = ("root", "annotation", "data_augment", "repeat_time", "length")
            problems = [key for key in keys if key not in entry]
            lines = Path(entry["annotation"]).read_text(encoding="utf-8").splitlines()
            if not entry["annotation"].endswith(".jsonl") or entry.get("length") != len(lines):
                problems.append("annotation_or_length")
            reasons = Counter(internvl_accepts(json.loads(line), entry["root"]) for line in lines)
            accepted = reasons.pop(None, 0)
            report["entries"][name] = {"records": len(lines), "accepted": accepted if not problems else 0,
                                       "rejected": dict(reasons), "meta_problems": problems}
    return report


def spar_loader_images(item: dict, root: str):
    """The PIL images SPAR's toy loader builds for a line, and whether it passes them as a list."""
    from PIL import Image

    paths = item["image"]
    images = [Image.open(os.path.join(root, p)).convert("RGB") for p in paths]
    several = item.get("type") == "nav" or len(paths) > 1
    return images, several


def spar_placeholders_ok(item: dict) -> bool:
    first, n = item["conversations"][0]["value"], len(item.get("image", []))
    if n == 0:
        return IMAGE not in first
    if item.get("type") == "nav" or n > 10:
        text = first if VIDEO in first else f"{VIDEO}\n{first}"
        text = text.replace(f"{VIDEO}\n", "\n".join(f"Frame-{i}: {IMAGE}" for i in range(1, n + 1)) + "\n")
        return text.count(IMAGE) == n
    return (first.count(IMAGE) if IMAGE in first else n) == n


def marker_shows(images, marker: dict) -> bool:
    """True when the marker's colour shows where SPAR draws it (module docstring)."""
    from PIL import ImageColor

    image = images[marker["image"]]
    width, height = image.size
    colour = ImageColor.getrgb(marker["color"])
    if marker["kind"] == "point":
        x, y = (int(marker["xy"][0] / 1000 * width), int(marker["xy"][1] / 1000 * height))
        samples = [(x, y)]
    else:
        x1, y1, x2, y2 = (marker["box"][0] / 1000 * width, marker["box"][1] / 1000 * height,
                          marker["box"][2] / 1000 * width, marker["box"][3] / 1000 * height)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        samples = [(x1 - 12, cy), (x2 + 12, cy), (cx, y1 - 12), (cx, y2 + 12)]
    inside = {(min(max(int(x), 0), width - 1), min(max(int(y), 0), height - 1)) for x, y in samples}
    return any(max(abs(a - b) for a, b in zip(image.getpixel(p), colour)) <= 60 for p in inside)


def check_spar(out: Path, draw_marker: Path | None) -> dict:
    draw_functions = None
    if draw_marker is not None:
        spec = importlib.util.spec_from_file_location("spar_draw_marker", draw_marker)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        draw_functions = module.DRAW_FUNCTIONS
    report = {"drawer": str(draw_marker) if draw_marker else None, "entries": {}}
    for meta_file in sorted((out / "spar").glob("*.json")):
        for name, entry in json.loads(meta_file.read_text(encoding="utf-8")).items():
            lines = Path(entry["annotation"]).read_text(encoding="utf-8").splitlines()
            reasons, drawn = Counter(), Counter()
            for line in lines:
                item = json.loads(line)
                if "image" in item and not isinstance(item["image"], list):
                    reasons["image_not_a_list"] += 1
                elif not spar_placeholders_ok(item):
                    reasons["placeholder_count"] += 1
                elif not all(os.path.isfile(os.path.join(entry["root"], p)) for p in item.get("image", [])):
                    reasons["missing_image"] += 1
                else:
                    reasons[None] += 1
                    if draw_functions is not None and item.get("image"):
                        drawn[spar_draw(item, entry["root"], draw_functions)] += 1
            accepted = reasons.pop(None, 0)
            report["entries"][name] = {"records": len(lines), "accepted": accepted, "rejected": dict(reasons),
                                       "drawn": dict(drawn)}
    return report


def spar_draw(item: dict, root: str, draw_functions: dict) -> str:
    """Run SPAR's draw function as its loader does; "ok" when every meta marker shows after it."""
    fn = draw_functions.get(item.get("type"))
    if fn is None:
        return "no_draw_function_for_type"
    images, several = spar_loader_images(item, root)
    try:
        fn(images if several else images[0], item)
    except (KeyError, IndexError, TypeError, ValueError) as err:
        return f"drawer_raised_{type(err).__name__}"
    markers = item.get("meta", {}).get("markers", [])
    return "ok" if all(marker_shows(images, m) for m in markers) else "marker_not_shown"


def totals(report: dict) -> dict:
    entries = report["entries"].values()
    return {"records": sum(e["records"] for e in entries), "accepted": sum(e["accepted"] for e in entries)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="qagen output folder")
    parser.add_argument("--data", type=Path, required=True, help="folder the image paths are relative to")
    parser.add_argument("--spar-draw-marker", type=Path, help="SPAR's datasets/draw_marker.py, to run its drawer")
    parser.add_argument("--open", type=int, default=200, help="records whose images LLaMA-Factory's check opens")
    args = parser.parse_args()
    os.environ.setdefault("HF_DATASETS_CACHE", tempfile.mkdtemp(prefix="qagen-consumers-"))
    report = {}
    with contextlib.redirect_stdout(sys.stderr):  # LLaMA-Factory logs to stdout; the report goes there alone
        for fmt in ("sharegpt", "qwen"):
            if (args.out / fmt / "dataset_info.json").is_file():
                report[f"llamafactory:{fmt}"] = check_llamafactory(args.out, args.data, fmt, args.open)
        if (args.out / "internvl").is_dir():
            report["internvl"] = check_internvl(args.out)
        if (args.out / "spar").is_dir():
            report["spar"] = check_spar(args.out, args.spar_draw_marker)
    report["totals"] = {name: totals(part) for name, part in report.items()}
    json.dump(report, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
