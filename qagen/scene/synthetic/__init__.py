"""The procedural synthetic world: build a room, render it, write it in the native layout."""
from qagen.scene.synthetic.build import build_world
from qagen.scene.synthetic.native_writer import write_demo_scenes, write_native
from qagen.scene.synthetic.render import WorldRenderer, render_frame
from qagen.scene.synthetic.world import Structure, World, WorldObject

__all__ = ["Structure", "World", "WorldObject", "WorldRenderer", "build_world", "render_frame", "write_demo_scenes",
           "write_native"]
