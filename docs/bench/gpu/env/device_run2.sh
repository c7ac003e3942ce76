. .whl2/setup_device.sh > $OUT/setup.log 2>&1 || { grep -v "already exists" $OUT/setup.log | tail -8; exit 1; }
echo "== gpu tests"; PYTHONPATH=$GPUPATH python3 -m pytest -m gpu -q -p no:cacheprovider -rs tests/test_gpu.py tests/test_index.py tests/test_planner.py 2>&1 | tail -3
echo "== full default suite on the GPU machine (device auto = cuda)"
PYTHONPATH=$GPUPATH timeout 400 python3 -m pytest -q -m "not slow" -p no:cacheprovider --ignore tests/test_browser.py -rfEs 2>&1 | tee $OUT/full_suite.log | tail -30
