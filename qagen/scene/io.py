"""The one place pixel and text files are read.

Every reader validates what it reads and turns any failure into `InputError(path, problem)`, so a
bad file among thousands of scenes is named with its problem instead of surfacing as a numpy or
PIL traceback. Loaders read headers here at load time; lifting reads pixels here later.
"""
from __future__ import annotations

import functools

import importlib
import os
import zipfile
import zlib
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import Callable, Iterator, Optional, TypeVar

import numpy as np
import pydantic
from PIL import Image

from qagen.errors import InputError
from qagen.scene.model import Frame

RIGID_TOLERANCE = 1e-3  # max |R^T R - I| and |det R - 1| accepted for a rotation read from text
_DEPTH_MODES = ("I;16", "I;16L", "I;16B")  # how PIL opens a 16-bit single-channel PNG
_INSTANCE_MODES = ("L",) + _DEPTH_MODES  # ScanNet's instance masks are 8-bit, ours 16-bit
_COLOR_MODES = ("RGB", "RGBA", "L", "P")
# What PIL raises for undecodable data, depending on where in the file it breaks.
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, zlib.error)

Size = tuple[int, int]  # (W, H)
Model = TypeVar("Model", bound=pydantic.BaseModel)


class InvalidPose(InputError):
    """A pose with non-finite entries: ScanNet marks frames with lost tracking this way.

    Loaders catch it to skip and count the frame; anything else wrong with a pose is a plain
    InputError that stops the load.
    """


# ---------------------------------------------------------------- images


@contextmanager
def _open_image(path: str | Path, kind: str) -> Iterator[Image.Image]:
    path = Path(path)
    if not path.is_file():
        raise InputError(path, f"{kind} file is missing")
    try:
        image = Image.open(path)
    except _DECODE_ERRORS as exc:
        raise InputError(path, f"{kind} file is not a readable image ({exc})") from None
    with image:
        yield image


def _pixels(image: Image.Image, path: Path, kind: str) -> np.ndarray:
    try:
        return np.asarray(image)
    except _DECODE_ERRORS as exc:
        raise InputError(path, f"{kind} file is truncated or corrupt ({exc})") from None


def _check_size(path: Path, kind: str, actual: Size, expected: Optional[Size], expected_from: str) -> None:
    if expected is not None and tuple(actual) != tuple(expected):
        raise InputError(
            path,
            f"{kind} is {actual[0]}x{actual[1]} but {expected_from} says {expected[0]}x{expected[1]}",
        )


def image_size(path: str | Path) -> Size:
    """(W, H) from the file header, without decoding pixels."""
    with _open_image(path, "image") as image:
        return image.size


def read_depth(
    path: str | Path, scale: float, expected_size: Optional[Size] = None, *, expected_from: str = "the scene"
) -> np.ndarray:
    """Depth in metres, float32 (H, W), 0 where invalid, from a 16-bit PNG storing metres * `scale`.

    `expected_from` names what fixes the expected (W, H) (a file, usually), for the error message.
    """
    path = Path(path)
    if not (np.isfinite(scale) and scale > 0):
        raise InputError(path, f"depth scale must be a positive number, got {scale!r}")
    with _open_image(path, "depth") as image:
        if image.mode not in _DEPTH_MODES:
            raise InputError(path, f"depth must be a 16-bit single-channel PNG, found PIL mode {image.mode!r}")
        _check_size(path, "depth", image.size, expected_size, expected_from)
        stored = _pixels(image, path, "depth")
    return np.divide(stored, np.float32(scale), dtype=np.float32)


def read_instance(
    path: str | Path, offset: int, expected_size: Optional[Size] = None, *, expected_from: str = "the depth image"
) -> np.ndarray:
    """Object ids, int32 (H, W), -1 where no object: stored 0 means none, stored v means id v - offset."""
    stored = read_instance_values(path, expected_size, expected_from=expected_from)
    return instance_table(offset, stored.dtype.itemsize)[stored]


def read_instance_values(
    path: str | Path, expected_size: Optional[Size] = None, *, expected_from: str = "the depth image"
) -> np.ndarray:
    """The stored values of an 8- or 16-bit instance mask (H, W), checked like `read_instance`:
    for callers that map them through their own table (`instance_table` composed with theirs)."""
    path = Path(path)
    with _open_image(path, "instance mask") as image:
        if image.mode not in _INSTANCE_MODES:
            raise InputError(
                path, f"instance mask must be an 8- or 16-bit single-channel PNG, found PIL mode {image.mode!r}"
            )
        _check_size(path, "instance mask", image.size, expected_size, expected_from)
        return _pixels(image, path, "instance mask")


@functools.lru_cache(maxsize=8)
def instance_table(offset: int, itemsize: int) -> np.ndarray:
    """Object id of every value an 8- or 16-bit mask can store (0 -> -1, v -> v - offset), int32:
    one gather decodes a whole mask."""
    table = np.arange(1 << (8 * itemsize), dtype=np.int32) - np.int32(offset)
    table[0] = -1
    table.setflags(write=False)
    return table


def read_color(
    path: str | Path, expected_size: Optional[Size] = None, *, expected_from: str = "the scene"
) -> np.ndarray:
    """Colour image as uint8 (H, W, 3) RGB."""
    path = Path(path)
    with _open_image(path, "colour image") as image:
        if image.mode not in _COLOR_MODES:
            raise InputError(path, f"colour image must be 8-bit RGB or grey, found PIL mode {image.mode!r}")
        _check_size(path, "colour image", image.size, expected_size, expected_from)
        try:
            rgb = image.convert("RGB")
        except _DECODE_ERRORS as exc:
            raise InputError(path, f"colour image file is truncated or corrupt ({exc})") from None
        return _pixels(rgb, path, "colour image").copy()


# ---------------------------------------------------------------- text


def read_text(path: str | Path, kind: str) -> str:
    path = Path(path)
    if not path.is_file():
        raise InputError(path, f"{kind} file is missing")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(path, f"{kind} file is not UTF-8 text") from None
    except OSError as exc:
        raise InputError(path, f"{kind} file is unreadable ({exc.strerror or exc})") from None


def read_json_model(path: str | Path, model: type[Model], kind: str) -> Model:
    """Parse a JSON file into a pydantic model; JSON and schema errors name the offending key."""
    path = Path(path)
    text = read_text(path, kind)
    try:
        return model.model_validate_json(text)
    except pydantic.ValidationError as exc:
        raise InputError(path, describe_validation_error(exc)) from None


def describe_validation_error(exc: pydantic.ValidationError, limit: int = 3) -> str:
    """Short, key-naming sentences for the first few problems pydantic found."""
    problems = []
    for error in exc.errors()[:limit]:
        loc = error["loc"]
        parent = _key_path(loc[:-1]) or "the top level"
        if error["type"] == "extra_forbidden":
            problems.append(f"unknown key {loc[-1]!r} in {parent}")
        elif error["type"] == "missing":
            problems.append(f"missing required key {loc[-1]!r} in {parent}")
        elif error["type"] == "json_invalid":
            problems.append(f"invalid JSON ({error['msg']})")
        else:
            message = error["msg"].removeprefix("Value error, ")
            got = error.get("input")
            if got is None or isinstance(got, (str, int, float, bool)):
                message += f" (got {got!r})"
            problems.append(f"{_key_path(loc) or 'the top level'}: {message}")
    more = exc.error_count() - len(problems)
    return "; ".join(problems) + (f" (and {more} more problems)" if more > 0 else "")


def _key_path(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def read_matrix(path: str | Path, kind: str) -> np.ndarray:
    """A whitespace-separated numeric matrix (blank lines ignored), float64, non-finite values kept."""
    path = Path(path)
    rows = [line.split() for line in read_text(path, kind).splitlines() if line.strip()]
    try:
        values = [[float(token) for token in row] for row in rows]
    except ValueError as exc:
        raise InputError(path, f"{kind} must contain only numbers ({exc})") from None
    if not values:
        raise InputError(path, f"{kind} file is empty")
    widths = sorted({len(row) for row in values})
    if len(widths) != 1:
        raise InputError(path, f"{kind} rows have different numbers of values: {widths}")
    return np.array(values, dtype=np.float64)


def rotation_problem(rotation: np.ndarray) -> Optional[str]:
    """Why a 3x3 matrix is not a proper rotation, or None when it is (within RIGID_TOLERANCE)."""
    error = float(np.abs(rotation.T @ rotation - np.eye(3)).max())
    if error > RIGID_TOLERANCE:
        return f"rotation is not orthonormal (max |R^T R - I| = {error:.3g} > {RIGID_TOLERANCE:g})"
    det = float(np.linalg.det(rotation))
    if abs(det - 1.0) > RIGID_TOLERANCE:
        return f"rotation has determinant {det:.3g}, not +1 (a reflection)"
    return None


def check_rigid(matrix: np.ndarray, path: str | Path, kind: str) -> None:
    """Raise unless `matrix` is a finite 4x4 rigid transform (rotation + translation, last row 0 0 0 1)."""
    if matrix.shape != (4, 4):
        raise InputError(path, f"{kind} must be a 4x4 matrix, found {matrix.shape[0]}x{matrix.shape[1]}")
    if not np.isfinite(matrix).all():
        raise InputError(path, f"{kind} has non-finite values")
    if not np.allclose(matrix[3], (0.0, 0.0, 0.0, 1.0), rtol=0.0, atol=1e-6):
        raise InputError(path, f"{kind} is not rigid: last row is {matrix[3].tolist()} instead of 0 0 0 1")
    problem = rotation_problem(matrix[:3, :3])
    if problem is not None:
        raise InputError(path, f"{kind} is not rigid: {problem}")


def read_pose(path: str | Path) -> np.ndarray:
    """A 4x4 camera-to-world pose. Non-finite entries raise InvalidPose (skip the frame)."""
    matrix = read_matrix(path, "pose")
    if matrix.shape == (4, 4) and not np.isfinite(matrix).all():
        raise InvalidPose(path, "pose has non-finite values (-inf/nan): the source marks this frame invalid")
    check_rigid(matrix, path, "pose")
    return matrix


def read_intrinsics(path: str | Path) -> np.ndarray:
    """3x3 K from a 3x3 matrix or the top-left of a 4x4 one (ScanNet style), validated."""
    path = Path(path)
    matrix = read_matrix(path, "intrinsics")
    if matrix.shape not in ((3, 3), (4, 4)):
        raise InputError(path, f"intrinsics must be a 3x3 or 4x4 matrix, found {matrix.shape[0]}x{matrix.shape[1]}")
    K = matrix[:3, :3].copy()
    if not np.isfinite(K).all():
        raise InputError(path, "intrinsics have non-finite values")
    if not (K[0, 0] > 0 and K[1, 1] > 0):
        raise InputError(path, f"intrinsics need fx > 0 and fy > 0, found fx={K[0, 0]:g}, fy={K[1, 1]:g}")
    if abs(K[0, 1]) > 1e-9:
        raise InputError(path, f"intrinsics have non-zero skew K[0,1]={K[0, 1]:g}, which qagen does not model")
    if not np.allclose([K[1, 0], K[2, 0], K[2, 1], K[2, 2]], (0.0, 0.0, 0.0, 1.0), rtol=0.0, atol=1e-9):
        raise InputError(path, "intrinsics are not of the form [[fx 0 cx] [0 fy cy] [0 0 1]]")
    return K


# ---------------------------------------------------------------- depth in other formats (SpatialVID)

SPATIALVID_EXTRA = "pip install 'qagen[spatialvid]'"
_ARCHIVE_ERRORS = (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error)


def _optional_module(name: str, path: Path, purpose: str):
    """Import a dependency of an optional extra, or say which extra brings it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise InputError(path, f"{purpose} needs the optional dependency {name}: {SPATIALVID_EXTRA}") from None


def zip_members(path: str | Path, kind: str) -> list[str]:
    """Names of the files in a zip archive, in archive order."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, f"{kind} archive is missing")
    try:
        with zipfile.ZipFile(path) as archive:
            return [info.filename for info in archive.infolist() if not info.is_dir()]
    except _ARCHIVE_ERRORS as exc:
        raise InputError(path, f"{kind} archive is not a readable zip file ({exc})") from None


def _archive_member(path: Path, member: str, kind: str) -> bytes:
    if not path.is_file():
        raise InputError(path, f"{kind} archive is missing")
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.read(member)
    except KeyError:
        raise InputError(path, f"{kind} archive has no member {member!r}") from None
    except _ARCHIVE_ERRORS as exc:
        raise InputError(path, f"{kind} archive is not a readable zip file ({exc})") from None


def _exr_in_archive(path: Path, member: str, header_only: bool):
    OpenEXR = _optional_module("OpenEXR", path, "reading EXR depth")
    data = _archive_member(path, member, "depth")
    try:
        return OpenEXR.File(BytesIO(data), separate_channels=True, header_only=header_only)
    except (RuntimeError, ValueError, OSError) as exc:
        raise InputError(path, f"{member} is not a readable EXR image ({exc})") from None


def exr_size(path: str | Path, member: str) -> Size:
    """(W, H) of an EXR image inside a zip archive, from its header."""
    path = Path(path)
    low, high = _exr_in_archive(path, member, header_only=True).header()["dataWindow"]
    return int(high[0] - low[0] + 1), int(high[1] - low[1] + 1)


def read_exr_disparity(
    path: str | Path, member: str, expected_size: Optional[Size] = None, *, expected_from: str = "the scene"
) -> np.ndarray:
    """Depth = 1 / disparity from channel Z of an EXR inside a zip, float32 (H, W), 0 where invalid.

    Disparity that is negative, zero, NaN or infinite marks an invalid pixel (SpatialVID's convention).
    """
    path = Path(path)
    channels = _exr_in_archive(path, member, header_only=False).channels()
    if "Z" not in channels:
        raise InputError(path, f"{member} has no channel 'Z' (channels: {', '.join(sorted(channels)) or 'none'})")
    disparity = np.asarray(channels["Z"].pixels)
    if disparity.dtype not in (np.float16, np.float32) or disparity.ndim != 2:
        raise InputError(path, f"{member}: channel Z must be a half or float image, found {disparity.dtype}")
    _check_size(path, f"depth {member}", (disparity.shape[1], disparity.shape[0]), expected_size, expected_from)
    disparity = disparity.astype(np.float32)
    valid = np.isfinite(disparity) & (disparity > 0)
    depth = np.zeros(disparity.shape, dtype=np.float32)
    with np.errstate(over="ignore"):
        np.divide(np.float32(1.0), disparity, out=depth, where=valid)
    depth[~np.isfinite(depth)] = 0.0  # disparities too small for float32 to invert
    return depth


def read_float_table(path: str | Path, kind: str, columns: int) -> np.ndarray:
    """An (N, columns) array of finite floats from a .npy file, as float64, N >= 1."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, f"{kind} file is missing")
    try:
        table = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise InputError(path, f"{kind} file is not a readable .npy array ({exc})") from None
    if table.ndim != 2 or table.shape[1] != columns or table.dtype.kind != "f" or len(table) == 0:
        raise InputError(path, f"{kind} must be an (N, {columns}) float array, found {table.dtype} {table.shape}")
    finite = np.isfinite(table).all(axis=1)
    if not finite.all():
        raise InputError(path, f"{kind} row {int(np.argmin(finite))} has non-finite values")
    return table.astype(np.float64)


# ---------------------------------------------------------------- dynamic masks (CSR per frame, SpatialVID)


@contextmanager
def _open_npz(path: Path, kind: str) -> Iterator:
    if not path.is_file():
        raise InputError(path, f"{kind} file is missing")
    try:
        with np.load(path, allow_pickle=False) as archive:
            yield archive
    except _ARCHIVE_ERRORS as exc:
        raise InputError(path, f"{kind} file is not a readable .npz archive ({exc})") from None


def _mask_shape(archive, path: Path) -> tuple[int, int]:
    """(H, W) stored under 'shape'."""
    if "shape" not in archive.files:
        raise InputError(path, "dynamic masks have no 'shape' entry ([H, W] of the masks)")
    shape = np.asarray(archive["shape"])
    if shape.shape != (2,) or shape.dtype.kind not in "iu" or (shape <= 0).any():
        raise InputError(path, f"'shape' must be two positive integers [H, W], found {shape.tolist()}")
    return int(shape[0]), int(shape[1])


def _mask_parts(index: int) -> tuple[str, str, str]:
    return f"f_{index}_data", f"f_{index}_indices", f"f_{index}_indptr"


def dynamic_mask_layout(path: str | Path) -> tuple[Size, int]:
    """(W, H) of the masks and the number of frames in a CSR mask file, every frame's three arrays present."""
    path = Path(path)
    with _open_npz(path, "dynamic mask") as archive:
        height, width = _mask_shape(archive, path)
        keys = set(archive.files)
    count = 0
    while any(part in keys for part in _mask_parts(count)):
        missing = [part for part in _mask_parts(count) if part not in keys]
        if missing:
            raise InputError(path, f"frame {count} of the dynamic masks lacks {', '.join(missing)}")
        count += 1
    return (width, height), count


def _csr_to_dense(data, indices, indptr, shape: tuple[int, int], path: Path, index: int) -> np.ndarray:
    height, width = shape
    data, indices, indptr = (np.asarray(a) for a in (data, indices, indptr))
    where = f"dynamic mask of frame {index}"
    if indptr.ndim != 1 or len(indptr) != height + 1 or indptr.dtype.kind not in "iu":
        raise InputError(path, f"{where}: indptr must hold H + 1 = {height + 1} integers, found shape {indptr.shape}")
    if indptr[0] != 0 or (np.diff(indptr) < 0).any() or indptr[-1] != len(indices) or len(indices) != len(data):
        raise InputError(path, f"{where}: indptr, indices and data do not form a CSR matrix")
    if indices.dtype.kind not in "iu" or (indices.size and (indices.min() < 0 or indices.max() >= width)):
        raise InputError(path, f"{where}: column indices must be integers in [0, {width})")
    dense = np.zeros(shape, dtype=bool)
    rows = np.repeat(np.arange(height), np.diff(indptr))
    dense[rows, indices] = data != 0
    return dense


def resize_nearest(mask: np.ndarray, size: Size) -> np.ndarray:
    """Nearest-neighbour resize of an (H, W) array to (W', H') by pixel centres."""
    height, width = mask.shape[:2]
    rows = np.minimum(((np.arange(size[1]) + 0.5) * height / size[1]).astype(np.int64), height - 1)
    cols = np.minimum(((np.arange(size[0]) + 0.5) * width / size[0]).astype(np.int64), width - 1)
    return mask[rows[:, None], cols[None, :]]


def resample_by_homography(mask: np.ndarray, homography: np.ndarray, size: Size) -> np.ndarray:
    """Nearest-neighbour resampling onto a (W, H) grid whose pixel centres map into `mask` through
    `homography` (3x3, target pixel -> source pixel). Used for masks on the colour grid of a camera
    whose depth grid has other intrinsics but the same optical centre (ScanNet's instance-filt)."""
    target, source = _resampling(np.asarray(homography, float).tobytes(), tuple(size), mask.shape[:2])
    out = np.full((size[1], size[0]), -1, dtype=mask.dtype)
    out.ravel()[target] = mask.ravel()[source]
    return out


@functools.lru_cache(maxsize=8)
def _resampling(homography: bytes, size: Size, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(target, source) flat pixel indices of `resample_by_homography`: the target pixels whose
    centre maps inside the source grid, and where. The frames of a capture share them."""
    u, v = np.meshgrid(np.arange(size[0]) + 0.5, np.arange(size[1]) + 0.5)
    src = np.stack([u, v, np.ones_like(u)], axis=-1) @ np.frombuffer(homography).reshape(3, 3).T
    cols = np.floor(src[..., 0] / src[..., 2]).astype(np.int64).ravel()
    rows = np.floor(src[..., 1] / src[..., 2]).astype(np.int64).ravel()
    inside = (cols >= 0) & (cols < shape[1]) & (rows >= 0) & (rows < shape[0])
    return np.flatnonzero(inside), rows[inside] * shape[1] + cols[inside]


def read_dynamic_mask(path: str | Path, index: int, size: Size) -> np.ndarray:
    """Frame `index` of a CSR mask file (True = moving), bool (H, W), resized (nearest) to `size` (W, H)."""
    path = Path(path)
    with _open_npz(path, "dynamic mask") as archive:
        shape = _mask_shape(archive, path)
        names = _mask_parts(index)
        if not set(names) <= set(archive.files):
            raise InputError(path, f"dynamic masks have no frame {index} ({', '.join(names)})")
        data, indices, indptr = (archive[name] for name in names)
    return resize_nearest(_csr_to_dense(data, indices, indptr, shape, path, index), size)


# ---------------------------------------------------------------- a frame's depth, whatever its format


def _png16_frame_depth(frame: Frame, depth_scale: float, expected_size: Optional[Size]) -> np.ndarray:
    return read_depth(frame.depth_path, depth_scale, expected_size)


def _exr_disparity_frame_depth(frame: Frame, depth_scale: float, expected_size: Optional[Size]) -> np.ndarray:
    if frame.depth_member is None:
        raise InputError(frame.depth_path, f"frame {frame.index}: EXR depth needs the member name inside the archive")
    return read_exr_disparity(frame.depth_path, frame.depth_member, expected_size)


DEPTH_READERS: dict[str, Callable[[Frame, float, Optional[Size]], np.ndarray]] = {
    "png16": _png16_frame_depth,
    "exr_disparity": _exr_disparity_frame_depth,
}


def read_frame_depth(frame: Frame, depth_scale: float, expected_size: Optional[Size] = None) -> np.ndarray:
    """The frame's depth, float32 (H, W), 0 where invalid, decoded as `frame.depth_format` says.

    Pixels that the frame's dynamic mask marks as moving read as invalid: lifting assumes a static
    scene, and points on moving things would be placed wrongly in the world.
    """
    reader = DEPTH_READERS.get(frame.depth_format)
    if reader is None:
        raise InputError(
            frame.depth_path, f"unknown depth format {frame.depth_format!r} (known: {', '.join(DEPTH_READERS)})"
        )
    depth = reader(frame, depth_scale, expected_size)
    if frame.dynamic_mask_path is not None:
        if frame.dynamic_mask_index is None:
            raise InputError(frame.dynamic_mask_path, f"frame {frame.index}: no entry named in the dynamic masks")
        size = (depth.shape[1], depth.shape[0])
        depth[read_dynamic_mask(frame.dynamic_mask_path, frame.dynamic_mask_index, size)] = 0.0
    return depth


# ---------------------------------------------------------------- frames of a video


def extract_video_frames(video: str | Path, wanted: dict[int, Path]) -> None:
    """Decode `video` once and save each frame whose index is a key of `wanted` as a JPEG at its path.

    Each file is written under a hidden name and renamed when complete, so an interrupted run
    never leaves a truncated image that looks extracted.
    """
    video = Path(video)
    if not video.is_file():
        raise InputError(video, "video file is missing")
    imageio_ffmpeg = _optional_module("imageio_ffmpeg", video, "extracting video frames")
    last = max(wanted, default=-1)
    decoded = 0
    frames = imageio_ffmpeg.read_frames(str(video))
    try:
        width, height = next(frames)["size"]
        for index, raw in enumerate(frames):
            decoded = index + 1
            if index in wanted:
                _save_jpeg(np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3), wanted[index])
            if index >= last:
                break
    except (RuntimeError, OSError, ValueError, StopIteration) as exc:
        raise InputError(video, f"video is not decodable ({exc})") from None
    finally:
        frames.close()
    if decoded <= last:
        raise InputError(video, f"video has {decoded} frames, but frame {last} is needed")


def _save_jpeg(rgb: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp")
    Image.fromarray(rgb).save(staging, format="JPEG", quality=95)
    os.replace(staging, path)
