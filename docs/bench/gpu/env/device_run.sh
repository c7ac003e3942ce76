# one device call: probe faiss-gpu, GPU tests on both backends, gpu_bench, scale_bench on CUDA
. .whl/setup_device.sh || exit 1
set -o pipefail
echo "== probe"; PYTHONPATH=$GPUPATH python3 .whl/probe.py 2>&1 | tail -12
echo "== gpu tests (faiss-gpu + torch)"
PYTHONPATH=$GPUPATH python3 -m pytest -m gpu -q -p no:cacheprovider -rs tests/test_gpu.py tests/test_index.py tests/test_planner.py tests/test_gpu_backends.py 2>&1 | tee $OUT/gpu_tests.log | tail -8
echo "== gpu_bench"; PYTHONPATH=$GPUPATH python3 -m eval.gpu_bench 2>&1 | tee $OUT/gpu_bench.log | tail -5
echo "== scale_bench"; PYTHONPATH=$GPUPATH timeout ${SCALE_T:-300} python3 -m eval.scale_bench --data synthetic --skip-lancedb --only-ours --devices cpu cuda --gpu-backends faiss torch --out $OUT 2>&1 | tee $OUT/scale_bench.log | grep -v "^$" | tail -40
