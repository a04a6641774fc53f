"""The one place pixel and text files are read.

Every reader validates what it reads and turns any failure into `InputError(path, problem)`, so a
bad file among thousands of scenes is named with its problem instead of surfacing as a numpy or
PIL traceback. Loaders read headers here at load time; lifting reads pixels here later.
"""
from __future__ import annotations

import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional, TypeVar

import numpy as np
import pydantic
from PIL import Image

from qagen.errors import InputError

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
    return (stored.astype(np.float32) / np.float32(scale)).astype(np.float32)


def read_instance(
    path: str | Path, offset: int, expected_size: Optional[Size] = None, *, expected_from: str = "the depth image"
) -> np.ndarray:
    """Object ids, int32 (H, W), -1 where no object: stored 0 means none, stored v means id v - offset."""
    path = Path(path)
    with _open_image(path, "instance mask") as image:
        if image.mode not in _INSTANCE_MODES:
            raise InputError(
                path, f"instance mask must be an 8- or 16-bit single-channel PNG, found PIL mode {image.mode!r}"
            )
        _check_size(path, "instance mask", image.size, expected_size, expected_from)
        stored = _pixels(image, path, "instance mask").astype(np.int32)
    return np.where(stored == 0, -1, stored - offset).astype(np.int32)


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
