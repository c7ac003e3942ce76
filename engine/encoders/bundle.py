"""The model bundle: tower specs + trained heads, saved as safetensors + JSON.

A bundle directory holds ``bundle.json`` (towers, dimensions, preprocessing, version, training
metrics) and ``heads.safetensors`` (one head set, or several kept side by side: ``head_sets``), and optionally ``bridge.safetensors`` (the ImageNet bridge) and
``prototypes.safetensors`` (the catalogue bridge), ``colours.safetensors`` (colour words) and ``types.safetensors``
(the type reader). Its ``fingerprint`` is stored in every index built with it, so
loading an index with another bundle fails with a message naming both.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from .. import __version__
from ..config import ImageTowerSpec, SpaceConfig, TextTowerSpec
from ..errors import IncompatibleModelError
from .colour_words import ColourWords
from .heads import HeadSets, SharedSpace, head_sets, n_head_sets
from .prototypes import Prototypes
from .type_reader import TypeReader

FORMAT_VERSION = 1


@dataclass
class ModelBundle:
    image_tower: ImageTowerSpec
    text_tower: TextTowerSpec
    space: SpaceConfig
    image_dim: int  # tower feature size fed to the image head
    text_dim: int  # tower feature size fed to the text head
    heads: SharedSpace | HeadSets  # one head set, or several side by side (heads.py)
    metrics: dict = field(default_factory=dict)  # training metrics (held-out recall...)
    name: str = "custom"
    bridge_classes: np.ndarray | None = None  # (1000, text_dim) class-name embeddings, see bridge.py
    prototypes: Prototypes | None = None  # the catalogue bridge's vocabulary, see prototypes.py
    colours: ColourWords | None = None  # colour words and what they look like, see colour_words.py
    types: TypeReader | None = None  # the photo's kind of product as the training catalogue names it, see type_reader.py

    @classmethod
    def new(cls, image_tower, text_tower, space, image_dim, text_dim, name="custom") -> "ModelBundle":
        return cls(image_tower, text_tower, space, image_dim, text_dim,
                   SharedSpace(image_dim, text_dim, space), name=name)

    @property
    def space_dim(self) -> int:
        """Width of the shared-space vectors the index stores: ``space.dim`` per head set."""
        return self.space.dim * n_head_sets(self.heads)

    def describe(self) -> dict:
        desc = {"format": FORMAT_VERSION, "shopsight": __version__, "name": self.name,
                "image_tower": asdict(self.image_tower), "text_tower": asdict(self.text_tower),
                "space": asdict(self.space), "image_dim": self.image_dim, "text_dim": self.text_dim,
                "bridge": self.bridge_classes is not None, "metrics": self.metrics}
        if n_head_sets(self.heads) > 1:  # absent for one, so older bundles keep their fingerprints
            desc["head_sets"] = n_head_sets(self.heads)
        if self.prototypes is not None:  # absent otherwise, so older bundles keep their fingerprints
            desc["prototypes"] = self.prototypes.meta()
        if self.colours is not None:
            desc["colours"] = self.colours.meta()
        if self.types is not None:
            desc["types"] = self.types.meta()
        return desc

    @property
    def fingerprint(self) -> str:
        """SHA-256 (16 hex) over the description (minus metrics) and the head weights."""
        desc = {k: v for k, v in self.describe().items() if k not in ("metrics", "shopsight")}
        h = hashlib.sha256(json.dumps(desc, sort_keys=True).encode())
        for key, tensor in sorted(self.heads.state_dict().items()):
            h.update(key.encode())
            h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        if self.bridge_classes is not None:
            h.update(self.bridge_classes.astype(np.float16).tobytes())
        if self.prototypes is not None:
            h.update(self.prototypes.fingerprint_bytes())
        if self.colours is not None:
            h.update(self.colours.fingerprint_bytes())
        if self.types is not None:
            h.update(self.types.fingerprint_bytes())
        return f"{self.name}-{h.hexdigest()[:16]}"

    def to_half_precision(self) -> "ModelBundle":
        """Round the head weights to float16 (in place) so a half-precision save loads back with the
        same fingerprint; halves the bundle's size."""
        with torch.no_grad():
            for tensor in self.heads.state_dict().values():
                if tensor.is_floating_point():
                    tensor.copy_(tensor.half().float())
        return self

    def save(self, path: str | Path, half: bool = False) -> Path:
        """Write atomically: a temporary sibling directory renamed over ``path``. ``half`` stores the
        weights as float16 (after ``to_half_precision``; loading restores float32)."""
        if half:
            self.to_half_precision()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".bundle-", dir=path.parent))
        state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
                 for k, v in self.heads.state_dict().items()}
        save_file(state, str(tmp / "heads.safetensors"))
        if self.bridge_classes is not None:
            save_file({"classes": torch.from_numpy(self.bridge_classes.astype(np.float16))},
                      str(tmp / "bridge.safetensors"))
        if self.prototypes is not None:
            save_file(self.prototypes.tensors(), str(tmp / "prototypes.safetensors"))
        if self.colours is not None:
            save_file(self.colours.tensors(), str(tmp / "colours.safetensors"))
        if self.types is not None:
            save_file(self.types.tensors(), str(tmp / "types.safetensors"))
        (tmp / "bundle.json").write_text(json.dumps({**self.describe(), "fingerprint": self.fingerprint},
                                                    indent=2, ensure_ascii=False))
        _fsync_dir(tmp)
        os.chmod(tmp, 0o755)
        for child in tmp.iterdir():
            os.chmod(child, 0o644)
        old = None
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "ModelBundle":
        path = Path(path)
        if not (path / "bundle.json").exists():
            raise IncompatibleModelError(f"{path} is not a model bundle (no bundle.json)")
        desc = json.loads((path / "bundle.json").read_text())
        if desc.get("format") != FORMAT_VERSION:
            raise IncompatibleModelError(
                f"bundle {path} has format {desc.get('format')}, this shopsight reads {FORMAT_VERSION}")
        bundle = cls.new(ImageTowerSpec(**desc["image_tower"]), TextTowerSpec(**desc["text_tower"]),
                         SpaceConfig(**desc["space"]), desc["image_dim"], desc["text_dim"],
                         name=desc.get("name", "custom"))
        if desc.get("head_sets", 1) > 1:
            bundle.heads = head_sets([SharedSpace(bundle.image_dim, bundle.text_dim, bundle.space)
                                      for _ in range(desc["head_sets"])])
        state = {k: v.float() if v.is_floating_point() else v
                 for k, v in load_file(str(path / "heads.safetensors")).items()}
        bundle.heads.load_state_dict(state)
        if desc.get("bridge"):
            bundle.bridge_classes = load_file(str(path / "bridge.safetensors"))["classes"].float().numpy()
        if desc.get("prototypes"):
            bundle.prototypes = Prototypes.from_tensors(load_file(str(path / "prototypes.safetensors")),
                                                        desc["prototypes"])
        if desc.get("colours"):
            bundle.colours = ColourWords.from_tensors(load_file(str(path / "colours.safetensors")), desc["colours"])
        if desc.get("types"):
            bundle.types = TypeReader.from_tensors(load_file(str(path / "types.safetensors")), desc["types"])
        bundle.heads.eval()
        bundle.metrics = desc.get("metrics", {})
        return bundle


def _fsync_dir(path: Path) -> None:
    for child in path.iterdir():
        with open(child, "rb") as fp:
            os.fsync(fp.fileno())


# the general bundles shipped inside the package (trained by scripts/train_default_bundle.py), by name:
# "default" for all-MiniLM-L6-v2 (the library's text tower), "default-e5" for multilingual-e5-small
PACKAGED = {"default": "default_bundle", "default-e5": "default_bundle_e5"}


def default_bundle_path(name: str = "default") -> Path:
    """The folder of the packaged bundle ``name`` (a key of ``PACKAGED``)."""
    return Path(__file__).resolve().parents[1] / PACKAGED[name]


def packaged_bundles() -> dict[str, Path]:
    """The packaged bundles present in this installation, by name."""
    return {name: default_bundle_path(name) for name in PACKAGED
            if (default_bundle_path(name) / "bundle.json").exists()}


def resolve_bundle_path(name: str | Path) -> Path:
    """"default" / "default-e5" -> the packaged bundle; anything else is a folder path."""
    return default_bundle_path(str(name)) if str(name) in PACKAGED else Path(name)
