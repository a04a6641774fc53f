"""Output writers, registered by format name: `WRITERS.get("sharegpt")(data_root=..., ...)`.

Each writer encodes a `QA` as one JSON line for its consumer, validates it as that consumer
would, and writes the consumer's side file; `shards` writes per-scene shards atomically.
"""
from pathlib import Path
from typing import Optional

from qagen.registry import Registry
from qagen.writers.base import InvalidLine, Writer
from qagen.writers.internvl import InternVLWriter
from qagen.writers.sharegpt import ShareGPTWriter
from qagen.writers.shards import ShardInfo, ShardWriter, read_shard_info, shard_is_complete, shard_path

WRITERS: Registry[type[Writer]] = Registry("writer")
WRITERS.register(ShareGPTWriter.name)(ShareGPTWriter)
WRITERS.register(InternVLWriter.name)(InternVLWriter)


def make_writer(name: str, data_root: Optional[Path] = None, strip_meta: bool = False,
                sharegpt_style: str = "sharegpt") -> Writer:
    """The writer registered as `name`; `sharegpt_style` (sharegpt | openai) applies to shareGPT only."""
    cls = WRITERS.get(name)
    if cls is ShareGPTWriter:
        return ShareGPTWriter(data_root, strip_meta, style=sharegpt_style)
    return cls(data_root, strip_meta)


__all__ = ["WRITERS", "make_writer", "InvalidLine", "Writer", "InternVLWriter", "ShareGPTWriter", "ShardInfo",
           "ShardWriter", "read_shard_info", "shard_is_complete", "shard_path"]
