#!/usr/bin/env bash
# One InfoGAN run of benchmarks/gpu/jobs.txt, sharing the GPU with the other jobs:
#
#   bash benchmarks/gpu/infogan_job.sh NAME SEED [--config.<field>=<value> ...]
#
# configs/infogan.py with seed SEED for ${INFOGAN_STEPS:-10000} steps into $W/NAME,
# evaluated every 250 steps (categorical-code accuracy; wall_s in eval.jsonl), 50 steps
# fused per call, pictures every 2,500 steps, a checkpoint only at the end; further
# arguments are config overrides.
set -euo pipefail
name=${1:?usage: infogan_job.sh NAME SEED [overrides...]}
seed=${2:?usage: infogan_job.sh NAME SEED [overrides...]}
shift 2
XLA_PYTHON_CLIENT_MEM_FRACTION=0.05 exec python3 train.py --config configs/infogan.py \
  --workdir "$W/$name" --config.seed="$seed" --config.num_steps="${INFOGAN_STEPS:-10000}" \
  --config.eval_every=250 --config.steps_per_call=50 --config.sample_every=2500 \
  --config.checkpoint_every=100000 "$@"
