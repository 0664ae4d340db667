#!/usr/bin/env bash
# The GPU measurements still open in issues 28, 30 and 31, in one device call (the
# session's 15 minutes of device time allow one call of about 10), each part bounded by
# what is left of BUDGET seconds (default 560) so that every part's log and results come
# back. Prepare .gpu/ first (benchmarks/gpu/prepare.sh), then call the device tool with
# command `bash benchmarks/gpu/issues_28_30_31.sh` and carry ['.gpu']:
#
# 1. issue 30: pix2pix and CycleGAN train steps against the PyTorch eager reference
#    (benchmarks/throughput/run.py --models pix2pix cyclegan; goal at least 3x);
# 2. issue 28: 16 InfoGAN seeds at the paper's settings in one program (num_seeds=16,
#    vmap_seeds): the success rate;
# 3. issue 31: Progressive GAN and StyleGAN train steps against PyTorch at the configs'
#    (the papers') widths, 512, at 32x32 (time per thousand images shown);
# 4. issue 28: InfoGAN seed 0 alone, for the wall-time ratio of part 2 (if time is left).
#
# Each part leaves <part>.log and <part>.tar.gz in $OUT (8 files at most come back).
set -uo pipefail
cd "$(dirname "$0")/../.."
deadline=$(( $(date +%s) + ${BUDGET:-560} ))
left() {  # seconds left, at most $1
  local s=$(( deadline - $(date +%s) )); [ $s -gt $1 ] && s=$1; echo $s
}
run() {  # run NAME MAX_SECONDS ENV... -- PART: the part, killed after min(MAX, left)
  local name=$1 max=$2; shift 2
  local limit; limit=$(left $max)
  if [ "$limit" -lt 30 ]; then echo "== $name: skipped, $limit s left"; return 0; fi
  echo "== $name: up to $limit s ($(date -u +%T))"
  env RUN=$name LIMIT=$limit "$@"
}
run translation 170 MODELS="pix2pix cyclegan" TORCH_COMPILE=0 bash benchmarks/gpu/run.sh throughput \
  || exit 1   # the imports failed: nothing else would run either
run seeds 230 NUM_SEEDS=16 STEPS=5000 EVAL_EVERY=1000 bash benchmarks/gpu/run.sh seeds
run progressive 150 MODELS="progan stylegan" TORCH_COMPILE=0 WIDTHS=paper bash benchmarks/gpu/run.sh throughput
run seed0 80 MANY=0 SEPARATE=1 STEPS=5000 EVAL_EVERY=1000 bash benchmarks/gpu/run.sh seeds
echo "== done ($(date -u +%T))"
