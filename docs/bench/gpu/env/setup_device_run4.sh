# device-side setup (sourced): wheels into /tmp/site, faiss-gpu-cu12 1.14.1 into /tmp/sitegpu,
# cuBLAS-12 shim forwarding to the machine's cuBLAS 13 (test environment only)
rm -rf /tmp/site /tmp/sitegpu
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl || { echo SETUP FAILED; return 1; }
mkdir -p /tmp/sitegpu && cat .whl/fg115.part.* .whl2/fg115.part.* | xz -dc | tar -xf - -C /tmp/sitegpu || { echo SETUP FAILED; return 1; }
export CUBLAS13=$(find / -name 'libcublas.so.13*' -not -path '/proc/*' 2>/dev/null | head -1)
echo "cublas13: $CUBLAS13"
export LD_PRELOAD= _FAISS_WHEEL_DISABLE_CUDA_PRELOAD=1
export LD_LIBRARY_PATH=$PWD/.whl/shim:/tmp/site/nvidia/cuda_runtime/lib:$(dirname "$CUBLAS13"):${LD_LIBRARY_PATH:-}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
export PYTHONPATH=/tmp/sitegpu:/tmp/site:$PWD:$PWD/.whl/gtpkg
