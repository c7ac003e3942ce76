"""Save time of a 1M index after a small feed (a checkpoint's work): python /tmp/s32/save_ab.py DATA_DIR SEED"""
import random, sys, time
import engine
from engine.catalog import Catalog
from engine.config import EngineConfig
from engine.engine import SearchEngine
print("engine from", engine.__file__)
d, seed = sys.argv[1], int(sys.argv[2])
e = SearchEngine.open(EngineConfig(data_dir=d))
feed = Catalog(e.config.path / "catalog.db")
ids = random.Random(seed).sample(feed.ids(), 1000)
for r in range(3):
    feed.upsert([p.with_(price=round(1 + r + seed / 100, 2)) for p in feed.get_many(ids).values()])
    e.sync()
    t = time.perf_counter(); e.save(); print(f"save {r}: {time.perf_counter() - t:.2f} s")
