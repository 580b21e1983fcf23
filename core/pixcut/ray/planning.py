"""Which outputs a Ray run writes: ``pixcut remove --out-dir`` naming, for local folders and URIs alike.

The rule is the plain batch's (``pixcut.batch.plan_outputs``): a file given by name
goes to ``OUT/STEM.EXT``; a folder's images keep their sub-folder below ``OUT``.
Every output is decided up front, so an output that would overwrite an input, or
two inputs that would share an output, fail before any work is scheduled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from posixpath import splitext

from pixcut.batch import IMAGE_SUFFIXES, refuse_collisions
from pixcut.errors import OptionsError
from pixcut.ray.fs import Place, kind, list_files, resolve


@dataclass(frozen=True)
class RayItem:
    """One input and the output it becomes, as locations (absolute local paths or URIs)."""

    input: str
    output: str


def plan_items(inputs: Iterable[str], out: str, extension: str, recursive: bool = False) -> list[RayItem]:
    """Expand folders to their image files and name every output below ``out``."""
    out_place = resolve(out)
    items: list[RayItem] = []
    inputs_seen: set[str] = set()
    for raw in inputs:
        place = resolve(raw)
        found = kind(place)
        if found == "dir":
            base = place.path.rstrip("/\\")
            for child in list_files(place, recursive):
                stem, suffix = splitext(child.path.replace("\\", "/")[len(base) :].lstrip("/"))
                if suffix.lower() in IMAGE_SUFFIXES:
                    items.append(RayItem(child.location, out_place.child(stem + extension).location))
                    inputs_seen.add(_key(child))
        else:  # a missing file becomes that item's error row, as in the plain batch
            name = place.path.replace("\\", "/").rsplit("/", 1)[-1]
            items.append(RayItem(place.location, out_place.child(splitext(name)[0] + extension).location))
            inputs_seen.add(_key(place))
    if not items:
        raise OptionsError("no input images found")
    refuse_collisions([(item.input, item.output, _key(resolve(item.output))) for item in items], inputs_seen)
    return items


def _key(place: Place) -> str:
    return f"{place.fs.type_name}:{place.path}"
