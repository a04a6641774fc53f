"""Output writers, registered by format name: `WRITERS.get("sharegpt")(data_root=..., ...)`.

Each writer encodes a `QA` as one JSON line for its consumer, validates it as that consumer
would, and writes the consumer's side file; `shards` writes per-scene shards atomically.
Formats: sharegpt (LLaMA-Factory), internvl, spar (SPAR-7M's jsonl), qwen (shareGPT with
Qwen-VL `bbox_2d` box answers). `MarkerBurner` (--burn-markers) draws markers into image copies.
"""
from pathlib import Path
from typing import Optional

from qagen.registry import Registry
from qagen.writers.base import InvalidLine, Writer
from qagen.writers.burn import MarkerBurner
from qagen.writers.internvl import InternVLWriter
from qagen.writers.qwen import QwenWriter
from qagen.writers.sharegpt import ShareGPTWriter
from qagen.writers.shards import ShardInfo, ShardWriter, read_shard_info, shard_is_complete, shard_path
from qagen.writers.spar import SparWriter

WRITERS: Registry[type[Writer]] = Registry("writer")
for _writer in (ShareGPTWriter, InternVLWriter, SparWriter, QwenWriter):
    WRITERS.register(_writer.name)(_writer)


def make_writer(name: str, data_root: Optional[Path] = None, strip_meta: bool = False,
                sharegpt_style: str = "sharegpt") -> Writer:
    """The writer registered as `name`; `sharegpt_style` (sharegpt | openai) applies to the shareGPT writers."""
    cls = WRITERS.get(name)
    if issubclass(cls, ShareGPTWriter):
        return cls(data_root, strip_meta, style=sharegpt_style)
    return cls(data_root, strip_meta)


__all__ = ["WRITERS", "make_writer", "InvalidLine", "Writer", "InternVLWriter", "MarkerBurner", "QwenWriter",
           "ShareGPTWriter", "ShardInfo", "ShardWriter", "SparWriter", "read_shard_info", "shard_is_complete",
           "shard_path"]
