#!/usr/bin/env bash
# The GPU measurements of issues 3 and 6, one part per device call (each under
# the tool's 10-minute limit). Prepare .gpu/ first (benchmarks/gpu/prepare.sh),
# then call the device tool with carry ['.gpu'] and one of:
#
#   bash benchmarks/gpu/run.sh infogan      # 3 seeds x 5,000 steps, eval every 100 steps:
#                                           # accuracy and wall_s (time to 95%) per eval
#   bash benchmarks/gpu/run.sh throughput   # jaxgen vs PyTorch eager and torch.compile,
#                                           # InfoGAN and DCGAN, batch 64 and 256
#
# Everything lands in $OUT/<part>.tar.gz (the tool brings back at most 8 files)
# plus $OUT/<part>.log.
set -uo pipefail
part=${1:?usage: run.sh infogan|throughput}
STEPS=${STEPS:-5000}    # the paper's 5,000 InfoGAN steps; fewer for a smoke test
SEEDS=${SEEDS:-"0 1 2"}
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/gpu_out}
work=/tmp/gpu_work/$part
mkdir -p "$OUT" "$work"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .gpu/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 JAXGEN_CACHE_DIR=$PWD/.gpu/cache
exec > >(tee "$OUT/$part.log") 2>&1
date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
python3 -c 'import jax, flax, optax, torch; print("jax", jax.__version__, jax.devices(), "flax", flax.__version__, "optax", optax.__version__, "torch", torch.__version__)'
case $part in
  infogan)
    for seed in $SEEDS; do
      start=$(date +%s.%N)
      python3 train.py --config configs/infogan.py --workdir "$work/infogan_s$seed" \
        --config.seed=$seed --config.num_steps=$STEPS --config.eval_every=100 \
        --config.steps_per_call=50 --config.sample_every=$STEPS --config.checkpoint_every=$STEPS
      python3 -c "print('seed $seed: process wall', round($(date +%s.%N) - $start, 1), 's')"
      tail -n 3 "$work/infogan_s$seed/eval.jsonl"
    done ;;
  throughput)
    python3 benchmarks/throughput/run.py --out "$work" --seconds 5 --rounds 2 --torch-compile ;;
  *) echo "unknown part $part"; exit 1 ;;
esac
date -u
tar czf "$OUT/$part.tar.gz" --exclude=checkpoints -C /tmp/gpu_work "$part"
