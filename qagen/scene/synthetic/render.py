"""Ray-cast colour, depth and instance images of a synthetic world.

Rays are made here from `K` and the pose (through pixel centres x + 0.5, y + 0.5) so the images
match the intrinsics exactly. Each ray's direction has camera-z component 1, so the hit parameter
open3d returns is the hit's camera z, i.e. the depth, not the ray length.
"""
from __future__ import annotations

import numpy as np
import open3d as o3d

from qagen.scene.synthetic.world import World

LIGHT = (np.array([0.35, 0.55, 1.0]) / np.linalg.norm([0.35, 0.55, 1.0])).astype(np.float32)
# share of brightness from ambient light, the fixed light and a light at the camera
AMBIENT, SUN, HEADLIGHT = 0.45, 0.35, 0.2


class WorldRenderer:
    """Holds one world's ray-casting scene so that rendering many frames builds it only once."""

    def __init__(self, world: World):
        self.width, self.height = world.width, world.height
        self._scene = o3d.t.geometry.RaycastingScene()
        object_ids, colors = [], []
        meshes = [(o.id, o.color, o.vertices, o.triangles) for o in world.objects]
        meshes += [(0, s.color, s.vertices, s.triangles) for s in world.structure]
        for object_id, color, vertices, triangles in meshes:
            geometry_id = self._scene.add_triangles(
                o3d.core.Tensor(np.ascontiguousarray(vertices, dtype=np.float32)),
                o3d.core.Tensor(np.ascontiguousarray(triangles, dtype=np.uint32)),
            )
            assert geometry_id == len(object_ids), "open3d numbers geometries consecutively from 0"
            object_ids.append(object_id)
            colors.append(color)
        # one extra entry, used for rays that hit nothing: no object, black
        self._object_ids = np.array(object_ids + [0], dtype=np.uint16)
        self._colors = np.array(colors + [(0, 0, 0)], dtype=np.float32)
        u, v = np.meshgrid(np.arange(self.width) + 0.5, np.arange(self.height) + 0.5)
        K = world.K
        directions = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], axis=-1)
        self._directions = directions.reshape(-1, 3).astype(np.float32)
        self._inverse_lengths = (1.0 / np.linalg.norm(self._directions, axis=1)).astype(np.float32)

    def render(self, pose: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(colour uint8 HxWx3, depth float32 metres HxW with 0 where nothing is hit, instance uint16 HxW)."""
        rays = np.empty((len(self._directions), 6), dtype=np.float32)
        rays[:, :3] = pose[:3, 3]
        rays[:, 3:] = self._directions @ pose[:3, :3].T.astype(np.float32)
        hits = self._scene.cast_rays(o3d.core.Tensor.from_numpy(rays))
        t_hit = hits["t_hit"].numpy()
        hit = np.isfinite(t_hit)
        geometry = np.where(hit, hits["geometry_ids"].numpy(), len(self._object_ids) - 1)

        normals = hits["primitive_normals"].numpy()
        towards_camera = -np.einsum("ij,ij->i", normals, rays[:, 3:]) * self._inverse_lengths
        # both sides of a face shade alike: light it as if its normal faced the camera
        lambert = np.maximum(np.sign(towards_camera) * (normals @ LIGHT), 0.0)
        shade = AMBIENT + SUN * lambert + HEADLIGHT * np.abs(towards_camera)
        color = (self._colors[geometry] * shade[:, None] + 0.5).astype(np.uint8)

        shape = (self.height, self.width)
        depth = np.where(hit, t_hit, np.float32(0.0)).reshape(shape)
        instance = self._object_ids[geometry].reshape(shape)
        return color.reshape(*shape, 3), depth, instance


def render_frame(world: World, pose: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One frame; builds the ray-casting scene each call, so use `WorldRenderer` for many frames."""
    return WorldRenderer(world).render(pose)
