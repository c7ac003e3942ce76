# device-side setup (sourced): our missing deps into /tmp/site, faiss-gpu-cu12 into /tmp/sitegpu,
# a cuBLAS-12 shim forwarding to the machine's cuBLAS 13 (test environment only).
rm -rf /tmp/site /tmp/sitegpu
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl .whl2/*.whl || { echo SETUP FAILED; return 1; }
mkdir -p /tmp/sitegpu && cat .whl/fg115.part.* .whl2/fg115.part.* | tar -xJf - -C /tmp/sitegpu || { echo SETUP FAILED; return 1; }
python3 - <<'PY'
from pathlib import Path
p = Path('/tmp/sitegpu/faiss/__init__.py')
p.write_text(p.read_text().replace('\n_preload_gpu_libs()\n', '\npass  # test env: CUDA 12 libs from LD_LIBRARY_PATH\n'))
PY
export CUBLAS13=$(find / -name 'libcublas.so.13*' -not -path '/proc/*' 2>/dev/null | head -1)
echo "cublas13: $CUBLAS13"
CUDALIB=$(dirname "$CUBLAS13")
mkdir -p /tmp/site/nvidia/cublas/lib /tmp/site/nvidia/curand/lib
cp .whl/shim/libcublas.so.12 .whl/shim/libcublasLt.so.12 /tmp/site/nvidia/cublas/lib/
ln -sf "$(ls $CUDALIB/libcurand.so.10* | head -1)" /tmp/site/nvidia/curand/lib/libcurand.so.10
touch /tmp/site/nvidia/cublas/__init__.py /tmp/site/nvidia/curand/__init__.py
ls -la /tmp/site/nvidia/*/lib
export _FAISS_WHEEL_DISABLE_CUDA_PRELOAD=1 LD_PRELOAD=
export LD_LIBRARY_PATH=$PWD/.whl/shim:/tmp/site/nvidia/cuda_runtime/lib:$(dirname "$CUBLAS13"):${LD_LIBRARY_PATH:-}
export PYTHONPATH=/tmp/site:$PWD HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
export GPUPATH=/tmp/sitegpu:/tmp/site:$PWD:$PWD/.whl2/gtpkg
