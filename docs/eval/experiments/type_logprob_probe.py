"""Probe: the type reader's part as a floored log-probability (like the colour reader's), so type and colour
add up to a joint log-probability; tuned with eval.tune_fusion --weight w_type_class on half the queries."""
import sys
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[3]))
import numpy as np
import engine  # noqa
from engine import query_encoding
from engine.encoders.colour_reader import FLOOR
def log_chance(probabilities, ids):
    p = np.asarray(probabilities)[:, list(ids)].sum(axis=1)
    return (np.maximum(np.log(np.maximum(p, 1e-30)), FLOOR) / -FLOOR + 1.0).astype(np.float32)
query_encoding.kind_chance = log_chance
from eval import tune_fusion
tune_fusion.GRIDS["w_type_class"] = (0.0, 0.1, 0.2, 0.4, 0.8, 1.6)
sys.exit(tune_fusion.main(sys.argv[1:]))
