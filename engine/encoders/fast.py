"""The fast runtime: the frozen towers exported once to ONNX and run by ONNX Runtime.

``EngineConfig.runtime = "onnx"`` (the default when onnxruntime is installed) makes the towers run
their forward pass through an ``onnxruntime.InferenceSession`` instead of torch: on the 2-core CPU
machines this project is measured on it is the faster path (README, ``python -m eval.tower_bench``).
The export is made from the very torch module the tower loaded, written to
``<cache>/onnx/<name>-<hash>.onnx`` (atomically; reused by later processes) and checked against torch
on a probe batch before it is used: outputs must agree to ``MAX_REL_ERROR`` or the tower stays on torch
(``RuntimeFallback`` logged, never silent).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import warnings
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
MAX_REL_ERROR = 1e-3
RUNTIMES = ("torch", "onnx", "auto")
SPIN = os.environ.get("SHOPSIGHT_ORT_SPIN", "0") == "1"  # let ONNX Runtime's idle threads spin (off)


def onnx_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_runtime(runtime: str, device: str) -> str:
    """'auto' -> 'onnx' on the CPU when onnxruntime is installed, else 'torch' (GPUs stay on torch)."""
    from ..errors import UnknownComponentError

    if runtime not in RUNTIMES:
        raise UnknownComponentError("runtime", runtime, RUNTIMES)
    if runtime == "auto":
        return "onnx" if device == "cpu" and onnx_available() else "torch"
    return runtime


def cache_dir() -> Path:
    return Path(os.environ.get("SHOPSIGHT_CACHE", "~/.cache/shopsight")).expanduser() / "onnx"


def _state_hash(module) -> str:
    """A short hash of a module's weights, so a changed model never reuses a stale export."""
    h = hashlib.sha1()
    for name, tensor in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().float().cpu().numpy()[:4].tobytes() if tensor.dim() else
                 tensor.detach().float().cpu().numpy().tobytes())
        h.update(str(tuple(tensor.shape)).encode())
    return h.hexdigest()[:12]


_EXPORTING = threading.Lock()


class OnnxModule:
    """An exported torch module run by ONNX Runtime: ``run(**numpy inputs) -> first output``."""

    def __init__(self, module, name: str, example: dict, dynamic: dict, threads: int | None = None):
        import onnxruntime as ort

        path = cache_dir() / f"{name}-{_state_hash(module)}.onnx"
        with _EXPORTING:  # torch's exporter keeps global state: two threads exporting at once abort the process
            if not path.exists():
                _export(module, example, dynamic, path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or max(1, os.cpu_count() or 1)
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if not SPIN:  # idle ORT workers spinning starve torch (the heads) and numpy on small machines
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.path = path

    def run(self, **inputs) -> np.ndarray:
        return self.session.run(None, {k: inputs[k] for k in self.inputs})[0]


def _export(module, example: dict, dynamic: dict, path: Path) -> None:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
        # the TorchScript exporter is deprecated in favour of torch.export (which needs onnxscript); it
        # still writes a correct graph for these towers, and every export is checked against torch
        warnings.simplefilter("ignore")
        torch.onnx.export(module, tuple(torch.from_numpy(v) for v in example.values()), str(tmp),
                          input_names=list(example), output_names=["out"], dynamic_axes=dynamic,
                          opset_version=17, dynamo=False)
    os.replace(tmp, path)


def checked(onnx: OnnxModule, reference: np.ndarray, **inputs) -> bool:
    """True when the ONNX output matches the torch ``reference`` to ``MAX_REL_ERROR``."""
    got = onnx.run(**inputs)
    err = float(np.abs(got - reference).max() / max(np.abs(reference).max(), 1e-12))
    if err > MAX_REL_ERROR:
        log.warning("ONNX export %s differs from torch by %.2e (relative); staying on torch", onnx.path, err)
        return False
    return True
