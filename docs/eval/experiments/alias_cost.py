"""Cost of building the shop's category words with aliases (first text query of a worker) by catalogue size."""
import sys, time, random
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[3]))
import engine  # noqa
from engine.catalog import Catalog
from engine.types import Product
from engine.query_text import CategoryWords
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[3]))
from eval import datasets
rows = datasets.fashion_rows()
prods = [datasets.fashion_product(r) for r in rows]
cats = sorted({p.category for p in prods})
for n in (44_072, 1_000_000):
    path = f"/tmp/alias_cost_{n}.db"
    import os
    if os.path.exists(path): os.remove(path)
    cat = Catalog(path)
    batch = []
    for i in range(n):
        p = prods[i % len(prods)]
        batch.append(Product(id=f"P{i:07d}", title=p.title, description=p.description, category=p.category, price=p.price))
        if len(batch) == 20000:
            cat.upsert(batch); batch = []
    if batch: cat.upsert(batch)
    for rep in range(2):
        t0 = time.perf_counter(); texts = cat.category_texts(); t1 = time.perf_counter()
        words = CategoryWords(cats, texts); t2 = time.perf_counter()
        print(f"n={n} rep {rep}: category_texts {1000*(t1-t0):.0f} ms ({len(texts)} texts), CategoryWords {1000*(t2-t1):.0f} ms, {len(words.aliases)} aliases", flush=True)
    t0 = time.perf_counter(); CategoryWords(cats); print(f"  names only {1000*(time.perf_counter()-t0):.1f} ms")
    print("  sample aliases:", sorted(words.aliases.items())[:0], [k for k in list(words.aliases)[:25]])
