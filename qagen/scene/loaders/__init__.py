"""Scene loaders behind one registry: each source format is one module, named by `--loader`.

A registered loader is callable as `(scene_dir, **options) -> Scene` and also knows which folders
under a root are its scenes, so `discover_scenes` works for every format the same way. A scene
pointer is a folder for most formats; meta-info names a scene inside a file (`<file>.json#<id>`,
see `metainfo.py`), so its loader checks its own pointers.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from qagen.errors import InputError
from qagen.registry import Registry
from qagen.scene.loaders import metainfo, native, scannet, spar, spatialvid
from qagen.scene.model import Scene


@dataclass(frozen=True)
class Loader:
    load: Callable[..., Scene]  # (scene_dir: Path, **options) -> Scene
    find_scenes: Callable[[Path], list[Path]]  # root -> scene folders, sorted
    pointers_are_folders: bool = True  # False: pointers name scenes inside files and the loader checks them

    def __call__(self, scene_dir: Path, **options) -> Scene:
        return self.load(Path(scene_dir), **options)


LOADERS: Registry[Loader] = Registry("loader")
LOADERS.register("native")(Loader(load=native.load_native, find_scenes=native.find_native_scenes))
LOADERS.register("scannet")(Loader(load=scannet.load_scannet, find_scenes=scannet.find_scannet_scenes))
LOADERS.register("spar")(Loader(load=spar.load_spar, find_scenes=spar.find_spar_scenes))
LOADERS.register("metainfo")(
    Loader(load=metainfo.load_metainfo, find_scenes=metainfo.find_metainfo_scenes, pointers_are_folders=False)
)
LOADERS.register("spatialvid")(
    Loader(load=spatialvid.load_spatialvid, find_scenes=spatialvid.find_spatialvid_clips)
)


def load_scene(path: str | Path, loader: str = "native", **options) -> Scene:
    """Load one scene folder with the named loader."""
    chosen = LOADERS.get(loader)
    path = Path(path)
    if chosen.pointers_are_folders and not path.is_dir():
        raise InputError(path, "scene folder does not exist")
    return chosen(path, **options)


def discover_scenes(root: str | Path, loader: str = "native") -> list[Path]:
    """Scene folders under `root` (or `root` itself when it is one), sorted, for the named loader."""
    chosen = LOADERS.get(loader)
    root = Path(root)
    if not (root.is_dir() or (root.is_file() and not chosen.pointers_are_folders)):
        raise InputError(root, "scene root folder does not exist")
    scenes = chosen.find_scenes(root)
    if not scenes:
        raise InputError(root, f"no {loader} scenes found here")
    return scenes
