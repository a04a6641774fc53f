"""`qagen convert`: released QA sets as qagen records, written by any writer.

One module per source format (spar, spacevista, spatialforge), each with
`files(input) -> [paths]`, `default_root(input) -> Path` (where its image paths start) and
`read(path, root, shard, **options) -> Iterator[QA]`, which raises InputError naming the file and
line (or record) of anything malformed: wrong keys, coordinates that do not fit the image,
missing images. `convert` writes one shard per input file and writer,
`<out>/<format>/<source>/<file id>.jsonl` (file id: its path under the input folder with "/" as
"__", or its stem), checks every line as the writer's consumer would (refusals are counted, as
in `qagen generate`), writes the writers' side files and `<out>/conversion.json` (the counts).
A malformed input stops the conversion; the shards of files already converted stay complete.
"""
from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from types import ModuleType
from typing import Optional, Sequence

from qagen.convert import spacevista, spar, spatialforge
from qagen.errors import QagenError
from qagen.registry import Registry
from qagen.writers.base import write_json_atomic

CONVERTERS: Registry[ModuleType] = Registry("source format")
for _module in (spar, spacevista, spatialforge):
    CONVERTERS.register(_module.NAME)(_module)

DATASET_NAME = "qagen"


def shard_name(path: Path, input_path: Path) -> str:
    """A shard file name for one input file, unique among the input's files."""
    relative = path.relative_to(input_path) if input_path.is_dir() else Path(path.name)
    return "__".join(relative.with_suffix("").parts).lstrip(".") or "input"


def convert(source: str, input_path: Path, out: Path, formats: Sequence[str], root: Optional[Path] = None,
            strip_meta: bool = False, sharegpt_style: str = "sharegpt", burn_markers: bool = False,
            **options) -> dict:
    """Convert `input_path` (a file or folder of `source` format) into `formats` under `out`."""
    from qagen.writers import MarkerBurner, make_writer
    from qagen.writers.shards import ShardWriter

    reader = CONVERTERS.get(source)
    input_path = Path(input_path)
    if not input_path.exists():
        raise QagenError(f"{input_path}: input does not exist")
    paths = reader.files(input_path)
    if not paths:
        raise QagenError(f"{input_path}: no {source} files found")
    root = Path(root) if root is not None else reader.default_root(input_path)
    if not root.is_dir():
        raise QagenError(f"{root}: image root is not a folder (pass --root)")
    out = Path(out)
    writers = [make_writer(name, root, strip_meta, sharegpt_style) for name in formats]
    burner = MarkerBurner(root, out) if burn_markers else None
    report = {"source": source, "input": input_path.name, "files": len(paths), "records": 0,
              "formats": {w.name: {"written": 0, "refused": {}} for w in writers}}
    infos = {w.name: [] for w in writers}
    for path in paths:
        shard = shard_name(path, input_path)
        with ExitStack() as stack:
            shards = [stack.enter_context(ShardWriter(out, w, source, shard)) for w in writers]
            for qa in reader.read(path, root, shard, **options):
                report["records"] += 1
                qa = burner.burn(qa) if burner else qa
                for shard_writer in shards:
                    shard_writer.write(qa)
        for shard_writer in shards:
            counts = report["formats"][shard_writer.writer.name]
            counts["written"] += shard_writer.count
            for reason, n in shard_writer.rejected.items():
                counts["refused"][reason] = counts["refused"].get(reason, 0) + n
            infos[shard_writer.writer.name].append(shard_writer.info)
    for writer in writers:
        writer.write_meta(out, infos[writer.name], DATASET_NAME)
    write_json_atomic(out / "conversion.json", report)
    return report


__all__ = ["CONVERTERS", "convert", "shard_name"]
