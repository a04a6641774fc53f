"""The procedural synthetic world: build a room, render it, write it in the native layout.

Names load from their modules when first used: a run over cached demo scenes checks them with
build_world and never renders, so open3d (render's ray caster) is imported only by what renders."""
from __future__ import annotations

import importlib

_MODULES = {"Structure": "world", "World": "world", "WorldObject": "world", "build_world": "build",
            "WorldRenderer": "render", "render_frame": "render", "write_demo_scenes": "native_writer",
            "write_native": "native_writer"}
__all__ = sorted(_MODULES)


def __getattr__(name: str):
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
