"""Probe: a colour reader on look + palette (an MLP like the type reader) now that the type reader reads kinds.

The engine's colour reader is a logistic regression on the photo's palette (``colour_reader.py``, gallery
accuracy ~0.55). The eighteenth session's ``colour_mlp_probe`` found an MLP on look + palette reads colour
better (0.635) and lifted photos-only P@10 a little, before the type reader existed; the type reader now
gets the kind right for most of the top 10, so what is left of fashion "<colour> <type>" is colour.
Readers learnt on the fashion training split's first photos (colour values the bundle's colour words
know), looks standardised with the training photos' own statistics (as ``type_reader_of`` does) and the
gallery's looks with the gallery's (as its index does). Candidates: the engine's photos-only answers
(``--base`` bundle, colour reader off, 60 candidates), re-scored by w x a reader's score (``log p``: the
engine's mapping, ``p``: probability), with or without the engine's reader at its weight (``keep``);
chosen on one half of the queries (seeded by product), shown on the other.

    .venv/bin/python docs/eval/experiments/colour_reader_mlp_probe.py --cache out/cold23/features.db \
        --base reports/full_cold23/bundle
"""
import argparse, sys, time
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np
import torch
import engine  # noqa: F401
from engine.config import IndexConfig
from engine.encoders.bundle import ModelBundle
from engine.encoders.colour_reader import FLOOR
from engine.encoders.colour_words import words_of
from engine.encoders.embedder import look_statistics
from engine.types import Query
from eval import datasets, runner
from eval.__main__ import eval_config

ap = argparse.ArgumentParser()
ap.add_argument("--cache", required=True)
ap.add_argument("--base", required=True)
ap.add_argument("--hidden", type=int, nargs="+", default=[512])
ap.add_argument("--epochs", type=int, default=15)
args = ap.parse_args()
K = 60
out = Path("out/probes/colour_reader_mlp")
cfg = eval_config(out, args.cache)
bundle = ModelBundle.load(Path(args.base))
gallery, train = datasets.fashion_split(2000, 42072)
row = {r["id"]: r for r in gallery}
task = next(t for t in datasets.fashion_tasks(gallery) if "type + colour" in t.name and t.kind == "text")
photos_only = replace(cfg, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0, w_colour_class=0.0))
eng, _ = runner.build_engine(task, bundle, photos_only, out / "idx")
emb = eng.embedder
reader = bundle.colours.reader
names = reader.names
cid = {c: i for i, c in enumerate(names)}
colour_of = lambda r: " ".join(words_of(r["base_colour"]))  # noqa: E731
weight = IndexConfig().look_colour_weight


def feats(rows):
    paths = [str(datasets.DATA / "fashion" / r["image"]) for r in rows]
    f = emb.image_features(paths)
    head = emb.bundle.heads.image
    kept = emb.look_stats, emb.look_colour_weight
    emb.look_stats = look_statistics(f, (head.mean.numpy(), head.std.numpy()))
    emb.look_colour_weight = weight
    looks = emb.looks(f)
    emb.look_stats, emb.look_colour_weight = kept
    return looks, emb.photo_extras("palette", paths)


t0 = time.time()
gids = sorted(row)
TL, TP = feats(train)
GL, GP = feats([row[i] for i in gids])
ty = np.array([cid.get(colour_of(r), -1) for r in train]); gy = np.array([cid.get(colour_of(row[i]), -1) for i in gids])
print(f"{len(names)} colours; {int((ty >= 0).sum())} training photos; features {TL.shape} {TP.shape} in {time.time() - t0:.0f} s", flush=True)


def log_p(lg):
    lg = lg - lg.max(1, keepdims=True)
    return lg - np.log(np.exp(lg).sum(1, keepdims=True))


def mlp(Xt, Xg, hidden, epochs=args.epochs, seed=0):
    torch.manual_seed(seed)
    keep = ty >= 0
    x = torch.from_numpy(np.asarray(Xt[keep], np.float32)); y = torch.from_numpy(ty[keep])
    mu, sd = x.mean(0), x.std(0).clamp_min(1e-6)
    x = (x - mu) / sd
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.GELU(approximate="tanh"),
                              torch.nn.Dropout(0.2), torch.nn.Linear(hidden, len(names)))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-2)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        net.train()
        perm = torch.randperm(len(x), generator=gen)
        for b in range(0, len(x), 512):
            i = perm[b:b + 512]
            loss = torch.nn.functional.cross_entropy(net(x[i]), y[i], label_smoothing=0.1)
            opt.zero_grad(); loss.backward(); opt.step()
    net.eval()
    with torch.no_grad():
        return log_p(net((torch.from_numpy(np.asarray(Xg, np.float32)) - mu) / sd).numpy())


LP = {"lr pal (engine)": log_p(GP @ reader.weight.T + reader.bias)}
for h in args.hidden:
    t0 = time.time()
    LP[f"mlp pal h{h}"] = mlp(TP, GP, h)
    LP[f"mlp look+pal h{h}"] = mlp(np.hstack([TL, TP]), np.hstack([GL, GP]), h)
    print(f"hidden {h}: two MLPs in {time.time() - t0:.0f} s", flush=True)
for name, lp in LP.items():
    m = gy >= 0
    top3 = np.argsort(-lp[m], 1)[:, :3]
    print(f"{name}: gallery top-1 {np.mean(top3[:, 0] == gy[m]):.3f} top-3 {np.mean((top3 == gy[m][:, None]).any(1)):.3f}", flush=True)

gpos = {g: i for i, g in enumerate(gids)}
res = []
for q in task.queries:
    r = eng.search(Query(text=q.text, k=K)).results
    ids = [x.product.id for x in r]; sc = np.array([x.score for x in r])
    c = cid.get(colour_of(row[next(iter(q.relevant))]))
    res.append(([gpos[i] for i in ids], sc, c, np.array([i in q.relevant for i in ids])))
rng = np.random.default_rng(0); half = dict(zip(gids, rng.permutation(len(gids)) % 2))
qh = np.array([half[next(iter(q.relevant))] for q in task.queries])
READER = lambda lp, c: np.maximum(lp[:, c], FLOOR) / -FLOOR + 1.0  # noqa: E731
KINDS = {"log p": READER, "p": lambda lp, c: np.exp(lp[:, c])}
ENGINE_W = 0.2  # w_colour_class 0.8 x the floor 0.25 on fashion (fit high)


def p10s(extra):
    v = np.array([rel[np.argsort(-(sc + (extra(pos, c) if c is not None else 0)), kind="stable")[:10]].mean()
                  for pos, sc, c, rel in res])
    return v[qh == 0].mean(), v[qh == 1].mean(), v.mean()


print("reader off: halves %.3f / %.3f, all %.3f" % p10s(lambda pos, c: 0.0))
print("engine reader (w 0.2): halves %.3f / %.3f, all %.3f" % p10s(lambda pos, c: ENGINE_W * READER(LP["lr pal (engine)"][pos], c)))
best = {}
for name, lp in LP.items():
    for kind, f in KINDS.items():
        for w in (0.05, 0.1, 0.15, 0.2, 0.3, 0.4):
            for keep in (0.0, ENGINE_W):
                best[(name, kind, w, keep)] = p10s(lambda pos, c: w * f(lp[pos], c) + keep * READER(LP["lr pal (engine)"][pos], c))
for h in (0, 1):
    print(f"chosen on half {h}:")
    for key, ab in sorted(best.items(), key=lambda kv: -kv[1][h])[:6]:
        print(f"  {key}: tune half {ab[h]:.3f}, other half {ab[1 - h]:.3f}, all {ab[2]:.3f}")
for name in LP:
    for kind in KINDS:
        row_ = [f"{w}:{best[(name, kind, w, 0.0)][2]:.3f}" for w in (0.05, 0.1, 0.15, 0.2, 0.3, 0.4)]
        print(f"{name} [{kind}] alone, all queries: " + " ".join(row_))
