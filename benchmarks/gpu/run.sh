#!/usr/bin/env bash
# The GPU measurements of issues 3 and 6, one part per device call (each under
# the tool's 10-minute limit). Later sessions batch parts into one call with a
# driver: issues_28_30_31.sh, then issues_28_31.sh (the 16 InfoGAN seeds and the
# Progressive GAN's growth at the papers' widths). Prepare .gpu/ first (benchmarks/gpu/prepare.sh),
# then call the device tool with carry ['.gpu'] and one of:
#
#   bash benchmarks/gpu/run.sh infogan      # 3 seeds x 5,000 steps, eval every 100 steps:
#                                           # accuracy and wall_s (time to 95%) per eval
#   bash benchmarks/gpu/run.sh throughput   # jaxgen vs PyTorch eager and torch.compile,
#                                           # MODELS (default InfoGAN and DCGAN, batch 64
#                                           # and 256; also pix2pix cyclegan progan stylegan);
#                                           # TORCH_COMPILE=0 leaves torch.compile out;
#                                           # SPC=<n> fuses n jaxgen steps per call;
#                                           # WIDTHS=paper: ProGAN/StyleGAN at 512
#   bash benchmarks/gpu/run.sh seeds        # NUM_SEEDS (16) InfoGAN seeds at the paper's
#                                           # settings in one program (num_seeds, vmap),
#                                           # 5,000 steps: the success rate (final
#                                           # categorical accuracy >= 95%); SEPARATE=1 also
#                                           # times seed 0 alone for the wall-time ratio
#                                           # (MANY=0: only that)
#   bash benchmarks/gpu/run.sh probe        # steps/s of the VAE and IWAE (k = 50) alone
#   bash benchmarks/gpu/run.sh vaeprobe     # steps/s of CONFIG (default the VAE at batch
#                                           # 20, configs/vae.py:burda_b20) per VARIANTS
#                                           # line 'XLA_FLAGS|scan_unroll'
#   bash benchmarks/gpu/run.sh train NAME ARGS  # one resumable run: train.py ARGS into
#                                           # NAME; starts from .gpu/state/NAME.tar.gz when
#                                           # carried, and packs its latest checkpoint back
#                                           # (LIMIT cuts it: SIGTERM saves a checkpoint);
#                                           # EVAL_K=5000 evaluates it once it is complete
#   bash benchmarks/gpu/run.sh launch JOBS  # each line of the file JOBS as a background
#                                           # job (setsid: it outlives the call while the
#                                           # machine stays held); no-op if already launched
#   bash benchmarks/gpu/run.sh wait SECONDS # until the launched jobs end or SECONDS pass,
#                                           # then pack what they wrote so far
#
# LIMIT=<seconds> bounds the part's training or timing command (it is killed, the rest
# of the part still packs what it wrote).
#
# Parts run one after another in one call share the GPU with nothing else; launched
# jobs share it with each other (XLA_PYTHON_CLIENT_MEM_FRACTION per job). Sharing is
# slow for small steps: on an H100 the VAE ran at 880 steps/s beside other processes and
# 6,000 alone (the GPU time-slices between processes), so launch only what must overlap
# and time nothing while jobs run. The machine goes back 30 s after a call returns,
# taking launched jobs with it: call `wait` at once.
#
# Everything lands in $OUT/<RUN>.tar.gz (the tool brings back at most 8 files)
# plus $OUT/<RUN>.log; RUN defaults to the part's name.
set -uo pipefail
part=${1:?usage: run.sh infogan|throughput|probe|launch JOBS|wait SECONDS}
STEPS=${STEPS:-5000}    # the paper's 5,000 InfoGAN steps; fewer for a smoke test
SEEDS=${SEEDS:-"0 1 2"}
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/gpu_out}
name=${RUN:-$part}                               # RUN names a part's folder and files
case $part in launch|wait) name=jobs ;; esac   # launch and wait share one folder
work=/tmp/gpu_work/$name
mkdir -p "$OUT" "$work"
if [ -z "${LOCAL:-}" ]; then   # LOCAL=1: a dry run with this machine's own packages
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .gpu/whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONUNBUFFERED=1 JAXGEN_CACHE_DIR=$PWD/.gpu/cache
exec > >(tee "$OUT/$name.log") 2>&1
date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
python3 -c 'import jax, flax, optax, torch; print("jax", jax.__version__, jax.devices(), "flax", flax.__version__, "optax", optax.__version__, "torch", torch.__version__)'
# every import of jaxgen's that a part needs, before any device time goes into one
python3 -c 'import grain, ml_collections, dm_pix; from jaxgen.training import experiment, checkpoint, seeds' || exit 1
case $part in
  infogan)
    for seed in $SEEDS; do
      start=$(date +%s.%N)
      # TAG names a variant, EXTRA holds its config overrides
      timeout ${LIMIT:-0} python3 train.py --config configs/infogan.py --workdir "$work/infogan${TAG:-}_s$seed" \
        --config.seed=$seed --config.num_steps=$STEPS --config.eval_every=${EVAL_EVERY:-100} \
        --config.steps_per_call=50 --config.sample_every=$STEPS --config.checkpoint_every=$STEPS ${EXTRA:-}
      python3 -c "print('seed $seed${TAG:-}: process wall', round($(date +%s.%N) - $start, 1), 's')"
      tail -n 3 "$work/infogan${TAG:-}_s$seed/eval.jsonl"
    done ;;
  throughput)
    # --no-layout-optimization: with it on, torch.compile crashed on the InfoGAN step's
    # backward pass on an H100 (PyTorch 2.11; docs/RESULTS.md). The CPU speed-ups are for
    # XLA:CPU: off, as training has them by default.
    compile=--torch-compile
    [ "${TORCH_COMPILE:-1}" = 0 ] && compile=
    timeout ${LIMIT:-0} python3 benchmarks/throughput/run.py --out "$work" --seconds ${SECONDS_PER_ROUND:-5} \
      --rounds ${ROUNDS:-2} $compile --no-layout-optimization --cpu-speedups ${CPU_SPEEDUPS:-off} \
      --models ${MODELS:-infogan dcgan} --steps-per-call ${SPC:-1} --widths ${WIDTHS:-cpu} ;;
  seeds)
    # the paper's settings (configs/infogan.py), every seed in one vmapped program; each
    # seed evaluates into its own seed_<i>/eval.jsonl
    n=${NUM_SEEDS:-16}
    if [ "${MANY:-1}" = 1 ]; then
      start=$(date +%s.%N)
      timeout ${LIMIT:-0} python3 train.py --config configs/infogan.py --workdir "$work/many" \
        --config.num_seeds=$n --config.vmap_seeds=True --config.num_steps=$STEPS \
        --config.eval_every=${EVAL_EVERY:-1000} --config.steps_per_call=50 \
        --config.sample_every=$STEPS --config.checkpoint_every=$STEPS --config.pictures_at_start=False
      python3 -c "print('$n seeds in one program: process wall', round($(date +%s.%N) - $start, 1), 's')"
    fi
    if [ "${SEPARATE:-0}" = 1 ]; then
      start=$(date +%s.%N)
      timeout ${LIMIT:-0} python3 train.py --config configs/infogan.py --workdir "$work/seed0" \
        --config.num_steps=$STEPS --config.eval_every=${EVAL_EVERY:-1000} --config.steps_per_call=50 \
        --config.sample_every=$STEPS --config.checkpoint_every=$STEPS --config.pictures_at_start=False
      python3 -c "print('seed 0 alone: process wall', round($(date +%s.%N) - $start, 1), 's')"
    fi
    python3 - "$work" "$n" <<'PY'
import json, os, sys
work, n = sys.argv[1], int(sys.argv[2])
final = {}
for i in range(n):
    path = os.path.join(work, 'many', f'seed_{i}', 'eval.jsonl')
    if os.path.exists(path):
        rows = [json.loads(l) for l in open(path)]
        final[i] = rows[-1]
for i, row in final.items():
    print(f"seed {i}: step {row['step']} cat_accuracy {row['cat_accuracy']:.4f}")
if final:
    last = max(r['step'] for r in final.values())
    done = [r for r in final.values() if r['step'] == last]
    wins = sum(r['cat_accuracy'] >= 0.95 for r in done)
    print(f'success (cat_accuracy >= 0.95 at step {last}): {wins} of {len(done)} seeds')
alone = os.path.join(work, 'seed0', 'eval.jsonl')
if os.path.exists(alone):
    print('seed 0 alone:', open(alone).read().splitlines()[-1])
PY
    ;;
  probe)
    for model in vae iwae; do
      timeout ${LIMIT:-0} python3 train.py --config configs/$model.py --workdir "$work/$model" --config.num_steps=20000 \
        --config.steps_per_call=500 --config.log_every=5000 --config.eval_every=0 \
        --config.sample_every=20000 --config.checkpoint_every=20000
      grep -h steps_per_sec "$work/$model/tensorboard/metrics.jsonl" | tail -n 2
    done ;;
  vaeprobe)
    # Burda et al.'s batch of 20 has 5x the steps of batch 100: how much of a step is the
    # fused loop's overhead? Default variants: as is; 10 steps per loop trip (scan_unroll);
    # XLA's command buffers (CUDA graphs) allowed to take loops too; both. On the H100:
    # 7,900, (compile > 25 s), 9,520 and 10,670 steps/s (docs/RESULTS.md).
    cb=--xla_gpu_enable_command_buffer=FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL,CUDNN,CONDITIONAL,WHILE
    n=0
    while IFS='|' read -r flags unroll; do
      [ -z "$unroll" ] && continue
      n=$((n + 1))
      XLA_FLAGS="$flags" timeout ${LIMIT:-60} python3 train.py --config ${CONFIG:-configs/vae.py:burda_b20} \
        --workdir "$work/v$n" --config.num_steps=60000 --config.steps_per_call=1000 \
        --config.scan_unroll=$unroll --config.log_every=10000 --config.eval_every=0 \
        --config.sample_every=60000 --config.checkpoint_every=60000 > "$work/v$n.log" 2>&1
      echo "variant $n: XLA_FLAGS='$flags' scan_unroll=$unroll: exit $?"
      tail -n 2 "$work/v$n.log"
      grep -h steps_per_sec "$work/v$n/tensorboard/metrics.jsonl" | tail -n 2
    done <<< "${VARIANTS:-|1
|10
$cb|1
$cb|10}" ;;
  train)
    run=${2:?usage: run.sh train NAME train.py-args...}; shift 2
    [ -f ".gpu/state/$run.tar.gz" ] && tar xzf ".gpu/state/$run.tar.gz" -C "$work" && echo "resuming $run"
    start=$(date +%s.%N)
    timeout ${LIMIT:-0} python3 train.py --workdir "$work/$run" "$@"
    status=$?
    python3 -c "print('$run: exit $status, process wall', round($(date +%s.%N) - $start, 1), 's')"
    if [ $status = 0 ] && [ -n "${EVAL_K:-}" ]; then
      python3 -m jaxgen.evaluate --workdir "$work/$run" --set num_samples=$EVAL_K --samples 0
    fi
    # the latest checkpoint comes back (to carry into the next call as .gpu/state/NAME.tar.gz)
    latest=$(ls "$work/$run/checkpoints" | sort -n | tail -n 1)
    tar czf "$OUT/$run.tar.gz" --exclude='events.out*' --exclude=pictures \
      $(ls "$work/$run/checkpoints" | grep -vx "$latest" | sed "s|^|--exclude=$run/checkpoints/|") \
      -C "$work" "$run"
    ls -l "$OUT"; exit 0 ;;
  launch)
    jobs=${2:?usage: run.sh launch JOBS_FILE}
    if [ -e "$work/pids" ]; then echo "already launched: $(cat "$work/pids")"; else
      n=0
      while IFS= read -r line; do
        case $line in ''|'#'*) continue ;; esac
        n=$((n + 1)); job=${line%%:*}; cmd=${line#*:}
        W=$work setsid bash -c "cd $PWD && $cmd" > "$work/$job.log" 2>&1 < /dev/null &
        echo "$! $job" >> "$work/pids"
      done < "$jobs"
      echo "launched $n jobs:"; cat "$work/pids"
    fi ;;
  wait)
    deadline=$(( $(date +%s) + ${2:?usage: run.sh wait SECONDS} ))
    while :; do
      alive=$(while read -r pid job; do kill -0 $pid 2>/dev/null && echo $job; done < "$work/pids")
      { [ -z "$alive" ] || [ "$(date +%s)" -ge $deadline ]; } && break
      sleep 10
    done
    echo "still running: ${alive:-none}"
    for f in "$work"/*.log; do echo "== $f"; tail -n 4 "$f"; done ;;
  *) echo "unknown part $part"; exit 1 ;;
esac
date -u
[ $part = launch ] && exit 0
# what comes back is at most 16 MB a file: no checkpoints, event files or per-step pictures
tar czf "$OUT/$name.tar.gz" --exclude=checkpoints --exclude='events.out*' --exclude=pictures \
  -C /tmp/gpu_work "$name"
# the small VAE checkpoints (not InfoGAN's 170 MB ones) come back for evaluation here
vae=$(cd /tmp/gpu_work && ls -d "$name"/*vae*/checkpoints "$name"/*iwae*/checkpoints 2>/dev/null)
[ -n "$vae" ] && tar czf "$OUT/$name-vae-checkpoints.tar.gz" -C /tmp/gpu_work $vae
exit 0
