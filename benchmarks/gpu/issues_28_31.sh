#!/usr/bin/env bash
# The GPU measurements still open in issues 31 and 28, in one device call (a session's
# 15 minutes of device time allow one call of about 10), each part bounded by what is
# left of BUDGET seconds (default 580) so that every part's log and results come back:
#
# 1. issue 28: 16 InfoGAN seeds at the paper's settings, 5,000 steps, in one vmapped
#    program: the success rate (benchmarks/gpu/run.sh seeds);
# 2. issue 31: the Progressive GAN's growth against the final resolution alone at the
#    configs' (the papers') widths, 512 feature maps: fashion_mnist32 grown 4 -> 32 and
#    trained at 32x32 only (grow=0) for the same images, KIMG thousand images per phase
#    (default 15: 105k images each), batch 32, seed 0, both runs at once, then each
#    evaluated at its end as the CPU tables are (--noema, 2,000 samples, 200 pairs,
#    200 PPL paths; training stops 60 s early to leave time for that);
#
# Prepare .gpu/ first (`PROGRESSIVE=1 bash benchmarks/gpu/prepare.sh`: the MNIST and
# Fashion-MNIST caches, both domain classifiers, the wheels), then call the device tool
# with command `bash benchmarks/gpu/issues_28_31.sh` and carry ['.gpu']. SEEDS_PART=0
# skips part 1 (with BUDGET=330: part 2 alone). LOCAL=1 is a dry run with this machine's
# packages (add KIMG=1 and W=<width overrides>).
set -uo pipefail
cd "$(dirname "$0")/../.."
deadline=$(( $(date +%s) + ${BUDGET:-580} ))
left() {  # seconds left, at most $1
  local s=$(( deadline - $(date +%s) )); [ $s -gt $1 ] && s=$1; echo $s
}
OUT=${OUT:-/tmp/gpu_out}
work=/tmp/gpu_work/growth
mkdir -p "$OUT" "$work"
if [ -z "${LOCAL:-}" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .gpu/whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
  export JAXGEN_CACHE_DIR=$PWD/.gpu/cache   # the prepared caches; no data folder there
fi
export PYTHONUNBUFFERED=1
limit=$(left 330)
if [ "$limit" -ge 60 ] && [ "${SEEDS_PART:-1}" = 1 ]; then
  RUN=seeds LIMIT=$limit NUM_SEEDS=16 STEPS=5000 EVAL_EVERY=1000 bash benchmarks/gpu/run.sh seeds
else
  echo "== seeds: skipped, $limit s left"
fi
K=${KIMG:-15}
W=${W:-}   # width overrides for a dry run; empty: the config's 512
{
  echo "== growth: KIMG=$K, up to $(left 300) s ($(date -u +%T))"
  [ "$(left 300)" -lt 120 ] && { echo "== growth: skipped"; exit 0; }
  # two processes on one GPU: each takes under half its memory (XLA's default is 75%:
  # the second's first allocation failed, 2026-12-04, and XLA fell back to growing)
  export XLA_PYTHON_CLIENT_MEM_FRACTION=0.45
  common="--config.seed=0 --config.log_every=100 --config.pictures_at_start=False $W"
  pids=()
  for variant in grown:1 flat:0; do
    name=${variant%%:*} grow=${variant#*:}
    ( start=$(date +%s.%N)
      timeout $(( $(left 300) - 60 )) python3 train.py \
        --config configs/progan.py:fashion_mnist32,kimg=$K,batch=32,grow=$grow \
        --workdir "$work/$name" $common --config.sample_every=100000 \
        --config.checkpoint_every=100000 > "$work/$name.log" 2>&1
      echo "$name: train exit $?, process wall $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s"
      start=$(date +%s.%N)
      timeout $(left 150) python3 -m jaxgen.evaluate --workdir "$work/$name" --samples 2000 \
        --pairs 200 --ppl_samples 200 --noema >> "$work/$name.log" 2>&1
      echo "$name: evaluate exit $?, process wall $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s"
    ) &
    pids+=($!)
  done
  wait "${pids[@]}"
  for name in grown flat; do
    echo "== $name"; grep -E "stage|steps_per_sec|Error|error" "$work/$name.log" | tail -n 12
    tail -n 25 "$work/$name.log"
  done
  tar czf "$OUT/growth.tar.gz" --exclude=checkpoints --exclude='events.out*' -C /tmp/gpu_work growth
} 2>&1 | tee "$OUT/growth.log"
echo "== done ($(date -u +%T))"
