"""Train-step throughput, jaxgen vs a PyTorch eager reference, same machine, same run.

    pip install -r benchmarks/throughput/requirements.txt
    python benchmarks/throughput/run.py --out runs/throughput
    python benchmarks/throughput/run.py --models pix2pix cyclegan --out runs/throughput_translation
    python benchmarks/throughput/run.py --models progan stylegan --out runs/throughput_progressive

For each model (InfoGAN and DCGAN on 28x28 MNIST, pix2pix on edges2fashion,
CycleGAN on thin_thick, Progressive GAN and StyleGAN on fashion_mnist32, as in
``configs/``; ``CONFIG_ARGS`` gives a model's config argument and overrides: the
progressive models at 32x32 only, ``grow=0``, and the CPU widths of
``docs/results/progressive.md``, 128 feature maps, latents and w, or with
``--widths paper`` their configs' 512) and batch size (by
default 64 and 256 for the first two, the config's for the others), times jaxgen's
compiled train step (exactly the one ``train.py`` runs: batch drawn on device,
data-parallel over every visible device) and the PyTorch reference
(``torch_reference.py``, ``torch_translation.py``, ``torch_progressive.py``: identical
layers, optimizers and update order; for the translation and progressive models the
parameter counts per network are asserted equal, and the GFLOP of a step and of each
network's forward pass are recorded, XLA's cost analysis against PyTorch's
``FlopCounterMode``), alternating between the two in rounds so that a slow phase of
the machine hits both. Compilation is timed separately and excluded from the
steady-state figures. ``--cpu-speedups`` times jaxgen's step with
``config.cpu_speedups`` off (the default of training), on (XLA:CPU gradient layouts
and batch chunks, ``jaxgen/models/layers/conv.py``) or both, alternating with the rest.
A round covers whole cycles of a model's lazy phases (``lazy_cycle``: StyleGAN's R1
every 16 steps), so that a lazy step costs what it does in training.
``--torch-threads`` sets PyTorch's intra-op threads (on a machine that other jobs load,
its default of one per core waits on descheduled threads).
Writes ``results.json`` and ``table.md`` into ``--out``.

The process keeps freed host memory, as ``train.py`` does (``jaxgen/host_memory.py``),
for both frameworks; ``JAXGEN_KEEP_FREED_MEMORY=0`` measures glibc's defaults.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from jaxgen.host_memory import keep_freed_memory  # noqa: E402

# As train.py does, before any thread starts; it applies to PyTorch in this process too.
KEPT_FREED_MEMORY = keep_freed_memory()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks import report  # noqa: E402
from configs import cyclegan, dcgan, infogan, pix2pix, progan, stylegan  # noqa: E402
from jaxgen import config as config_lib, data  # noqa: E402
from jaxgen.training import experiment, lazy, parallel  # noqa: E402

CONFIGS = {'infogan': infogan, 'dcgan': dcgan, 'pix2pix': pix2pix, 'cyclegan': cyclegan,
           'progan': progan, 'stylegan': stylegan}
CPU_WIDTHS = {'model.fmap_max': 128, 'model.latent_dim': 128}
# model -> (config argument, {dotted key: value}); others: the config's defaults
CONFIG_ARGS = {'progan': ('fashion_mnist32,kimg=60,batch=32,grow=0', CPU_WIDTHS),
               'stylegan': ('fashion_mnist32,kimg=60,batch=32',
                            {**CPU_WIDTHS, 'model.w_dim': 128})}
DEFAULT_BATCH_SIZES = {'infogan': [64, 256], 'dcgan': [64, 256]}  # others: the config's
SPEEDUPS = {'off': (False,), 'on': (True,), 'both': (False, True)}


# --widths paper: the progressive models at their configs' (the papers') widths, 512
# feature maps, latents and w, instead of CPU_WIDTHS (what a GPU trains)
PAPER_WIDTHS = {'value': False}


def get_config(model: str):
    """``model``'s config with its ``CONFIG_ARGS`` argument and overrides (without the
    width overrides under ``--widths paper``)."""
    arg, overrides = CONFIG_ARGS.get(model, (None, {}))
    c = CONFIGS[model].get_config(arg)
    if PAPER_WIDTHS['value']:
        overrides = {k: v for k, v in overrides.items()
                     if k not in CPU_WIDTHS and k != 'model.w_dim'}
    for key, value in overrides.items():
        *path, leaf = key.split('.')
        node = c
        for part in path:
            node = node[part]
        node[leaf] = value
    return c


def contender(speedups: bool) -> str:
    """The name of jaxgen's step with the CPU speed-ups off or on."""
    return 'jaxgen_cpu_speedups' if speedups else 'jaxgen'


class JaxStep:
    """jaxgen's train step for ``model`` at ``batch_size``, ``steps`` fused per call,
    with ``config.cpu_speedups`` set to ``cpu_speedups``; single steps choose lazy
    phases as the trainer does (``config.lazy_phases``, ``lazy_phases`` here: on a CPU
    by default the host, one program per schedule, all compiled here)."""

    def __init__(self, model: str, batch_size: int, dataset, steps: int = 1, seed: int = 0,
                 cpu_speedups: bool = False, lazy_phases: str = 'auto'):
        c = get_config(model)
        c.batch_size, c.seed, c.steps_per_call = batch_size, seed, steps
        c.cpu_speedups, c.lazy_phases = cpu_speedups, lazy_phases
        self.steps, self.step = steps, 0
        self.exp = experiment.build(c, dataset.info)
        mesh = parallel.make_mesh(0)
        self.arrays = parallel.put_replicated(dataset.arrays, mesh)
        self.state = parallel.put_replicated(self.exp.init_state(), mesh)
        start = time.perf_counter()
        if steps == 1:
            self.programs = lazy.SingleSteps.build(
                lambda schedule: self.exp.make_train_step(
                    dataset.draw, batch_size, mesh, schedule=schedule).lower(
                        self.state, self.arrays),
                self.exp.rule.every, lazy.mode(c) == 'host')
            self.programs.compile_all()
        else:
            self.fn = self.exp.make_train_step(dataset.draw, batch_size, mesh, steps=steps)
        self._call()
        self.compile_seconds = time.perf_counter() - start

    def lowered(self):
        """The lowered program of the next call (its cost analysis)."""
        if self.steps == 1:
            return self.programs.lowered[self.programs.schedule(self.step)]
        return self.fn.lower(self.state, self.arrays)

    def _call(self):
        fn = self.programs(self.step) if self.steps == 1 else self.fn
        self.state, metrics = fn(self.state, self.arrays)
        self.step += self.steps
        jax.block_until_ready(metrics)

    def __call__(self):
        self._call()


def torch_step(model: str, dataset, batch_size: int, device: str):
    """The PyTorch reference of ``model``, reading the same uint8 images (as NCHW)."""
    import torch  # pylint: disable=import-outside-toplevel
    import torch_progressive  # pylint: disable=import-outside-toplevel
    import torch_reference  # pylint: disable=import-outside-toplevel
    import torch_translation  # pylint: disable=import-outside-toplevel

    def nchw(name):
        return torch.from_numpy(np.ascontiguousarray(
            np.transpose(dataset.arrays[name], (0, 3, 1, 2))))
    if model in torch_translation.STEPS:
        return torch_translation.STEPS[model](
            {f: nchw(f) for f in ('image_a', 'image_b')}, batch_size,
            get_config(model), device=device)
    if model in torch_progressive.STEPS:
        return torch_progressive.STEPS[model](nchw('image'), batch_size, get_config(model),
                                              device=device)
    return torch_reference.STEPS[model](nchw('image'), batch_size, device=device)


def gflop(cost) -> float | None:
    """GFLOP of XLA's cost analysis; None where the backend gives none (jax 0.11's GPU
    lowering returned None on an H200)."""
    cost = cost[0] if isinstance(cost, list) and cost else cost
    return round(cost['flops'] / 1e9, 2) if cost and 'flops' in cost else None


def input_shape(tstep, player: str, module) -> tuple[int, ...]:
    """A player's input per example (images CHW): the step's ``input_shapes`` entry (a
    generator's latents), else the first convolution's channels at the data's side."""
    import torch  # pylint: disable=import-outside-toplevel
    if player in getattr(tstep, 'input_shapes', {}):
        return tuple(tstep.input_shapes[player])
    first = next(m for m in module.modules() if isinstance(m, torch.nn.Conv2d))
    return (first.in_channels, tstep.a.shape[2], tstep.a.shape[2])


def equivalence(jstep: JaxStep, tstep, batch_size: int) -> dict:
    """Parameters per network (asserted equal) and GFLOP per step and per network's
    forward pass in train mode, jaxgen (XLA's count, elementwise operations included)
    against the reference (``FlopCounterMode``: convolutions and matmuls)."""
    import torch  # pylint: disable=import-outside-toplevel
    from torch.utils.flop_counter import FlopCounterMode  # pylint: disable=import-outside-toplevel
    out = {'parameters': {}, 'forward_gflop': {}}
    params, model_state = jstep.state.params, jstep.state.model_state
    for player, module in tstep.players.items():
        ours = sum(int(np.prod(x.shape)) for x in jax.tree.leaves(params[player]))
        theirs = sum(p.numel() for p in module.parameters())
        assert ours == theirs, f'{player}: jaxgen has {ours} parameters, PyTorch {theirs}'
        out['parameters'][player] = ours
        shape = input_shape(tstep, player, module)
        with FlopCounterMode(display=False) as counter:
            module(torch.zeros(batch_size, *shape, device=tstep.a.device))
        variables = {'params': params[player], **{k: v for k, v in model_state[player].items()
                                                  if k == 'batch_stats'}}
        net = jstep.exp.model.players[player]
        lowered = jax.jit(lambda v, x, net=net: net.apply(
            v, x, train=True, rngs={'dropout': jax.random.key(0)}, mutable=True)).lower(
                variables, jnp.zeros((batch_size, *shape[1:], shape[0]) if len(shape) == 3
                                     else (batch_size, *shape)))
        out['forward_gflop'][player] = {'jaxgen': gflop(lowered.cost_analysis()),
                                        'torch': round(counter.get_total_flops() / 1e9, 2)}
    with FlopCounterMode(display=False) as counter:
        tstep()
    out['step_gflop'] = {'jaxgen': gflop(jstep.lowered().cost_analysis()),
                         'torch': round(counter.get_total_flops() / 1e9, 2)}
    return out


def lazy_cycle(model: str) -> int:
    """The longest period of the config's lazy phases (``rule.every``; 1 without): a
    timed round covers whole cycles of it, so that a phase run every k steps (StyleGAN's
    R1 every 16) counts once per k steps, as in training, in both frameworks."""
    every = get_config(model).rule.get('every') or (1,)
    return max(int(k) for k in every)


def time_steps(step, steps_per_call: int, seconds: float, cycle: int = 1
               ) -> tuple[float, int]:
    """Steps per second over at least ``seconds`` and a whole number of ``cycle``-step
    cycles (after 2 warm-up calls)."""
    for _ in range(2):
        step()
    calls, start = 0, time.perf_counter()
    while True:
        step()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and calls * steps_per_call % cycle == 0:
            return calls * steps_per_call / elapsed, calls * steps_per_call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='runs/throughput')
    parser.add_argument('--models', nargs='+', default=['infogan', 'dcgan'])
    parser.add_argument('--batch-sizes', nargs='+', type=int, default=None,
                        help='default: 64 and 256 for infogan and dcgan, the config\'s '
                             'batch size for the others')
    parser.add_argument('--seconds', type=float, default=15.0,
                        help='timed seconds per framework per round')
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--steps-per-call', type=int, default=1,
                        help='jaxgen steps fused per compiled call')
    parser.add_argument('--cpu-speedups', choices=sorted(SPEEDUPS), default='both',
                        help="jaxgen's step with config.cpu_speedups off, on, or both")
    parser.add_argument('--torch-compile', action='store_true',
                        help='also time the reference under torch.compile')
    parser.add_argument('--no-layout-optimization', action='store_true',
                        help="torch.compile without Inductor's layout optimization (which "
                             'failed on the InfoGAN step on an H100, torch 2.11)')
    parser.add_argument('--torch-threads', type=int, default=None,
                        help="PyTorch's intra-op threads (default: PyTorch's, one per core; "
                             'on a machine that other jobs load, its threads wait for each '
                             'other: 1 can be 2x faster on 2 busy cores)')
    parser.add_argument('--widths', choices=['cpu', 'paper'], default='cpu',
                        help="the progressive models' widths: 'cpu' (128, "
                             "docs/results/progressive.md) or 'paper' (their configs', 512)")
    parser.add_argument('--torch-device', default=None,
                        help="the reference's device (default: 'cuda' when PyTorch sees a GPU)")
    parser.add_argument('--lazy-phases', choices=config_lib.LAZY_PHASES, default='auto',
                        help="config.lazy_phases of jaxgen's single steps (training/lazy.py)")
    args = parser.parse_args()
    PAPER_WIDTHS['value'] = args.widths == 'paper'

    import torch  # pylint: disable=import-outside-toplevel
    import torch_reference  # pylint: disable=import-outside-toplevel

    if args.no_layout_optimization:
        import torch._inductor.config  # pylint: disable=import-outside-toplevel
        torch._inductor.config.layout_optimization = False
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    torch_device = args.torch_device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if torch_device.startswith('cuda'):
        # XLA's default float32 precision on GPUs uses TF32 for matmuls and convolutions;
        # give the reference the same (PyTorch's cuDNN convolutions already use it).
        torch.set_float32_matmul_precision('high')

    datasets = {}
    os.makedirs(args.out, exist_ok=True)
    device = jax.devices()[0]
    results = {'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
               'machine': f'{platform.processor() or platform.machine()}, '
                          f'{os.cpu_count()} cores',
               'jax_device': f'{jax.device_count()} x {device.device_kind}',
               'jax': jax.__version__, 'torch': torch.__version__,
               'torch_threads': torch.get_num_threads(), 'torch_device': torch_device,
               'torch_float32_matmul_precision': torch.get_float32_matmul_precision(),
               'steps_per_call': args.steps_per_call, 'widths': args.widths,
               'cpu_speedups': args.cpu_speedups, 'lazy_phases': args.lazy_phases,
               'keep_freed_memory': KEPT_FREED_MEMORY, 'runs': []}
    for model in args.models:
        data_config = get_config(model).data
        if data_config.name not in datasets:
            datasets[data_config.name] = data.load(data_config, 'train')
        dataset = datasets[data_config.name]
        batch_sizes = args.batch_sizes or DEFAULT_BATCH_SIZES.get(
            model, [get_config(model).batch_size])
        for batch in batch_sizes:
            jsteps = {contender(on): JaxStep(model, batch, dataset, args.steps_per_call,
                                             cpu_speedups=on, lazy_phases=args.lazy_phases)
                      for on in SPEEDUPS[args.cpu_speedups]}
            tstep = torch_step(model, dataset, batch, torch_device)
            checks = (equivalence(next(iter(jsteps.values())), tstep, batch)
                      if hasattr(tstep, 'players') else {})
            contenders = {**{name: (step, args.steps_per_call) for name, step in jsteps.items()},
                          'torch': (tstep, 1)}
            errors = {}
            if args.torch_compile:
                compiled = torch_step(model, dataset, batch, torch_device)
                torch_reference.compile_modules(compiled)
                try:  # compiles forward and backward: a failure is a result, not a crash
                    compiled()
                    contenders['torch.compile'] = (compiled, 1)
                except Exception as e:  # pylint: disable=broad-except
                    errors['torch.compile_error'] = f'{type(e).__name__}: {str(e).splitlines()[0]}'
            rates = {name: [] for name in contenders}
            cycle = lazy_cycle(model)
            for _ in range(args.rounds):
                for name, (step, n) in contenders.items():
                    rate, _ = time_steps(step, n, args.seconds, cycle)
                    rates[name].append(rate * batch)
            run = {'model': model, 'data': dataset.name, 'batch_size': batch, **checks,
                   **{f'{name}_compile_s': round(step.compile_seconds, 2)
                      for name, step in jsteps.items()},
                   **{f'{name}_images_per_s': round(float(np.median(r)), 2)
                      for name, r in rates.items()},
                   'rounds': {name: [round(x, 2) for x in r] for name, r in rates.items()},
                   **errors}
            for name in jsteps:  # 'ratio' (speed-ups off), 'ratio_cpu_speedups' (on)
                run['ratio' + name[len('jaxgen'):]] = round(   # from unrounded medians
                    float(np.median(rates[name]) / np.median(rates['torch'])), 3)
            results['runs'].append(run)
            print(json.dumps(run), flush=True)
    report.write_json(args.out, results)
    compile_column = ['torch.compile images/s'] if args.torch_compile else []
    names = [contender(on) for on in SPEEDUPS[args.cpu_speedups]]
    titles = {'jaxgen': 'jaxgen', 'jaxgen_cpu_speedups': 'jaxgen + CPU speed-ups'}
    report.write_table(
        args.out, ['model', 'batch', *[f'{titles[n]} images/s' for n in names],
                   'PyTorch eager images/s', *[f'ratio ({titles[n]})' for n in names],
                   *compile_column, *[f'{titles[n]} compile s' for n in names]],
        [[r['model'], r['batch_size'], *[r[f'{n}_images_per_s'] for n in names],
          r['torch_images_per_s'], *[r['ratio' + n[len('jaxgen'):]] for n in names],
          *([r.get('torch.compile_images_per_s', r.get('torch.compile_error'))]
            if compile_column else []),
          *[r[f'{n}_compile_s'] for n in names]] for r in results['runs']])


if __name__ == '__main__':
    main()
