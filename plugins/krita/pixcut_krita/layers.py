"""Krita document side: export the source layer's pixels, insert the cutout layer or mask.

Everything here runs on Krita's GUI thread and touches only the new nodes, never the source.
"""

from __future__ import annotations

from dataclasses import dataclass

from krita import Krita, Selection
from PyQt5.QtCore import QByteArray
from PyQt5.QtGui import QImage

from .pixcut_hostkit import HostError, cutout_name
from .pixels import bgra_to_rgba, check_layer_format, rgba_to_bgra

MASK_NAME = "pixcut mask"


@dataclass
class Exported:
    """The source layer's pixels (straight RGBA8) and where they sit on the canvas."""

    x: int
    y: int
    width: int
    height: int
    rgba: bytes


def active_source():
    """(document, paint layer) the action works on, or a clear refusal."""
    doc = Krita.instance().activeDocument()
    if doc is None:
        raise HostError("Open an image first: there is no active document.")
    node = doc.activeNode()
    if node is None or node.type() != "paintlayer":
        kind = node.type() if node is not None else "nothing"
        raise HostError(f"Select a paint layer (the active node is {kind}).")
    check_layer_format(node.colorModel(), node.colorDepth())
    return doc, node


def export_layer(node) -> Exported:
    """The layer's pixels within its bounds: Krita stores RGBA/U8 as B,G,R,A with straight alpha."""
    bounds = node.bounds()
    if bounds.width() <= 0 or bounds.height() <= 0:
        raise HostError(f"The layer {node.name()!r} is empty.")
    data = bytes(node.pixelData(bounds.x(), bounds.y(), bounds.width(), bounds.height()))
    return Exported(bounds.x(), bounds.y(), bounds.width(), bounds.height(), bgra_to_rgba(data))


def read_result(path: str) -> tuple[int, int, bytes]:
    """pixcut's cutout PNG as ``(width, height, straight RGBA8 bytes)``.

    RGBA8888 is byte order R,G,B,A on every platform and not premultiplied, so the alpha is pixcut's.
    """
    return _decode(path, QImage.Format_RGBA8888, 4)


def read_mask(path: str) -> tuple[int, int, bytes]:
    """pixcut's mask PNG (``--output-type mask``: 8-bit grey) as ``(width, height, one byte per pixel)``."""
    return _decode(path, QImage.Format_Grayscale8, 1)


def _decode(path: str, fmt, channels: int) -> tuple[int, int, bytes]:
    """Decode with Qt's own PNG decoder (C++: a pure-Python one needed seconds for 12 MP on the GUI thread)."""
    image = QImage(path)
    if image.isNull():
        raise HostError(f"Could not read pixcut's result ({path}): not a PNG Qt can decode.")
    image = image.convertToFormat(fmt)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    bits = image.constBits()
    bits.setsize(stride * height)
    data = bytes(bits)
    row = width * channels
    if stride != row:  # Qt pads rows to 32 bits (a grey mask of odd width)
        data = b"".join(data[y * stride : y * stride + row] for y in range(height))
    return width, height, data


def is_attached(doc, node) -> bool:
    """The source may have been deleted while pixcut ran; then there is nowhere to insert."""
    parent = node.parentNode()
    return parent is not None and doc.rootNode() is not None


def insert_layer(doc, source, rgba: bytes, x: int, y: int, width: int, height: int):
    """Add the cutout as a new paint layer directly above ``source``.

    The node is filled before it is attached, so the one ``addChildNode`` is the only change
    to the document: Krita records it as a single undo step.
    """
    layer = doc.createNode(cutout_name(source.name()), "paintlayer")
    if (layer.colorModel(), layer.colorDepth()) != ("RGBA", "U8"):
        layer.setColorSpace("RGBA", "U8", source.colorProfile())
    layer.setPixelData(QByteArray(rgba_to_bgra(rgba)), x, y, width, height)
    source.parentNode().addChildNode(layer, source)
    _finish(doc, layer)
    return layer


def insert_mask(doc, source, mask: bytes, x: int, y: int, width: int, height: int):
    """Add a copy of ``source`` directly above it, carrying a transparency mask holding ``mask``."""
    selection = Selection()
    selection.setPixelData(QByteArray(mask), x, y, width, height)
    copy = source.duplicate()
    copy.setName(cutout_name(source.name()))
    if hasattr(doc, "createTransparencyMask"):  # Krita 5.2+: the whole insertion is one undo step
        node = doc.createTransparencyMask(MASK_NAME)
        node.setSelection(selection)
        copy.addChildNode(node, None)
        source.parentNode().addChildNode(copy, source)
    else:
        source.parentNode().addChildNode(copy, source)
        _mask_from_selection(doc, copy, selection)
    _finish(doc, copy)
    return copy


def select_mask(doc, mask: bytes, x: int, y: int, width: int, height: int) -> None:
    """Replace the document's selection with ``mask`` placed at (x, y)."""
    selection = Selection()
    selection.setPixelData(QByteArray(mask), x, y, width, height)
    doc.setSelection(selection)
    doc.refreshProjection()
    doc.waitForDone()


def _mask_from_selection(doc, copy, selection) -> None:
    """Krita 5.1 cannot fill a mask from Python: use its own action on a temporary selection.

    That adds a second undo step (the copy, then the mask). The user's selection is restored.
    """
    if Krita.instance().activeDocument() is not doc and Krita.instance().activeDocument() != doc:
        copy.remove()
        raise HostError("Mask mode needs the image to stay the active document while it runs.")
    previous = doc.selection()
    doc.setSelection(selection)
    doc.setActiveNode(copy)
    doc.waitForDone()
    Krita.instance().action("add_new_transparency_mask").trigger()
    doc.waitForDone()
    doc.setSelection(previous)
    masks = [child for child in copy.childNodes() if child.type() == "transparencymask"]
    if not masks:
        copy.remove()
        raise HostError("Krita did not create the transparency mask.")
    masks[-1].setName(MASK_NAME)


def _finish(doc, node) -> None:
    doc.setActiveNode(node)
    doc.refreshProjection()
    doc.waitForDone()
