"""The fields every experiment config has, and helpers for config files.

A config file in ``configs/`` defines ``get_config(arg=None)`` returning an
``ml_collections.ConfigDict`` built on ``base_config()``. ``train.py`` locks
it, so overriding a key that does not exist (``--config.batch_sise=64``) is an
error rather than a silent no-op, and ml_collections rejects values of the
wrong type (``--config.batch_size=abc``).
"""

from __future__ import annotations

import json
from typing import Any

import ml_collections
from ml_collections import config_dict

from jaxgen.errors import JaxgenError

LAZY_PHASES = ('auto', 'host', 'cond')  # config.lazy_phases (training/lazy.py)


def adam(learning_rate: float, b1: float = 0.5, b2: float = 0.999) -> dict:
    """An optimizer entry: ``optax.adam(learning_rate, b1, b2)``."""
    return {'name': 'adam', 'learning_rate': learning_rate, 'b1': b1, 'b2': b2}


def adam_linear_decay(config: ml_collections.ConfigDict, learning_rate: float,
                      b1: float = 0.5, b2: float = 0.999) -> dict:
    """Adam whose learning rate is constant for the first half of ``config.num_steps``
    and then falls linearly to 0: pix2pix/CycleGAN's ``--n_epochs N --n_epochs_decay N``
    (``--lr_policy linear``) and StarGAN's decay over the second half. The steps are
    references to ``config.num_steps``, so overriding it moves the decay too."""
    steps = config.get_ref('num_steps')
    schedule = {'name': 'linear_schedule', 'init_value': learning_rate, 'end_value': 0.0,
                'transition_begin': steps // 2, 'transition_steps': steps - steps // 2}
    return {'name': 'adam', 'learning_rate': schedule, 'b1': b1, 'b2': b2}


def base_config() -> ml_collections.ConfigDict:
    """Trainer fields shared by all experiments, with their defaults."""
    c = ml_collections.ConfigDict()
    c.seed = 0
    c.num_seeds = 1           # >1: seeds seed .. seed+N-1 in one program (training/seeds.py)
    c.seeds_program = 'loop'  # how: 'loop' (bit-exact), 'map' or 'vmap' (training/seeds.py)
    c.vmap_seeds = False      # older spelling of seeds_program='vmap'
    c.num_steps = 1000
    c.batch_size = 64
    c.log_every = 100         # progress line and TensorBoard scalars
    c.sample_every = 500      # pictures (PNG in <workdir>/pictures and TensorBoard)
    c.pictures_at_start = True  # also draw them before the first step (False: skip)
    c.checkpoint_every = 1000
    c.keep_checkpoints = 3
    c.eval_every = 0          # the model's own metrics on the test split; 0: never
    # FD, KID, classifier score, precision/recall of this many samples vs the test
    # split, in the domain classifier's features, every metrics_every steps (0: never).
    c.metrics_every = 0
    c.metrics_samples = 2000
    c.steps_per_call = 1      # train steps fused into one compiled call (lax.scan)
    c.scan_unroll = 1         # steps per iteration of that scan's loop (fewer loop trips)
    c.num_devices = 0         # data-parallel over this many devices; 0: all of them
    c.precision = 'float32'   # or 'bfloat16': compute in bf16, float32 params and optimizer
    # XLA:CPU speed-ups of the convolutions (models/conv.py): gradients in the layout
    # its fast kernels run, also inside fused steps, and large batches in chunks.
    # Opt-in; forward-mode autodiff works either way.
    c.cpu_speedups = False
    # Phases run every k steps (config.rule.every) chosen inside the step by lax.cond
    # ('cond') or by the host, one program each way ('host'); 'auto': 'host' on a CPU,
    # where convolutions inside a conditional run slowly (training/lazy.py).
    c.lazy_phases = 'auto'
    c.data = ml_collections.ConfigDict({
        'name': 'mnist',
        # Folder with the original .gz files (or with <name>/ subfolders); when
        # unset, the JAXGEN_DATA_DIR environment variable is used.
        'data_dir': config_dict.placeholder(str),
        # Where prepared arrays are cached; default $JAXGEN_CACHE_DIR or ~/.cache/jaxgen.
        'cache_dir': config_dict.placeholder(str),
        # With no data folder and no cache, try TFDS's standard download of MNIST first
        # (False, or JAXGEN_DOWNLOAD=0: never, for CI and air-gapped machines).
        'download': True,
        # Use sklearn's bundled digits, loudly, when MNIST cannot be found.
        'fallback': True,
        'scale': 'tanh',          # pixels in [-1, 1]; 'unit' for [0, 1]
        'binarize': '',           # '' | 'dynamic' (fresh Bernoulli draw each epoch) | 'static'
        # 'device': the split in device memory, drawn in the step; 'stream': read on the
        # host by grain, for sets that do not fit (identical batches either way).
        'path': 'device',
        'resize': 0,              # resize images to resize x resize when loaded (0: keep)
        'crop': 0,                # crop x crop crops in the step: random in train, centred in test
        'flip': False,            # random horizontal flips in train
        'channels': 0,            # 1 or 3 (greyscale replicated, colour to luminance); 0: keep
        'image_field': '',        # train image models on this field ('image_b' of pairs)
        # Two domains of a dataset with domains (glyph fonts, Morpho-MNIST perturbations)
        # as unpaired streams a and b, by name: ('DejaVuSans', 'DejaVuSerif').
        'pair_domains': (),
        'patches': 0,             # key patches per image (patches, boxes); 0: none
        'patch_size': 8,
        # What the domain classifier behind the metrics predicts: 'label', 'domain',
        # 'attributes'; '' picks the first the dataset has.
        'classifier_target': '',
        # tfds:<name>[/<config>]: feature keys ('' for none) and splits; domains ('A', 'B')
        # reads two unpaired splits <split>A and <split>B (cycle_gan's trainA/trainB).
        'tfds': ml_collections.ConfigDict({
            'image_key': 'image', 'label_key': 'label', 'attributes_key': '',
            'train_split': 'train', 'test_split': 'test', 'domains': ()}),
        # folder:<path>: layout 'auto' | 'classes' | 'aligned' (pix2pix) | 'unpaired'
        # (CycleGAN's trainA/trainB); direction 'AtoB' or 'BtoA' (which side is image_a).
        'folder': ml_collections.ConfigDict({'layout': 'auto', 'direction': 'AtoB'}),
        # Each dataset family's own options, in its own sub-dict:
        # 2-D mixtures (ring, grid): modes on a circle of this radius (a grid's spacing).
        'mixture': ml_collections.ConfigDict({'radius': 2.0, 'std': 0.02, 'num_modes': 8}),
        # edges2fashion: classes 'all' or 'shoes_bags' (pix2pix's own subjects).
        'edges': ml_collections.ConfigDict({'classes': 'all'}),
    })
    c.model = ml_collections.ConfigDict({'name': 'dcgan'})
    c.objective = ml_collections.ConfigDict({'name': 'gan'})
    c.rule = ml_collections.ConfigDict({'name': 'alternating', 'd_steps': 1})
    c.optimizers = ml_collections.ConfigDict()
    # Players that never train (a pretrained feature network, a text encoder): no
    # optimizer entry, no gradient, parameters fixed but in the state and checkpoints.
    c.frozen = ()
    # Players whose variables start from another run's latest checkpoint, e.g.
    # {'text_encoder': 'runs/t2i/text_encoder'} (jaxgen/training/pretrained.py).
    c.init_from = ml_collections.ConfigDict()
    # An exponential moving average of these players' weights, used for sampling
    # and evaluation (Karras et al., 2018; Yazici et al., 2019); decay 0: off.
    c.ema = ml_collections.ConfigDict({'decay': 0.0, 'players': ('generator',)})
    return c


def check(config: ml_collections.ConfigDict) -> None:
    """One-line errors for values no override type check can catch."""
    for field in ('num_steps', 'batch_size', 'log_every', 'sample_every',
                  'checkpoint_every', 'keep_checkpoints', 'steps_per_call', 'scan_unroll'):
        value = config[field]
        if not isinstance(value, int) or value < 1:
            raise JaxgenError(f'config.{field} must be a positive integer, got {value!r}')
    for field in ('eval_every', 'metrics_every', 'metrics_samples'):
        value = config.get(field, 0)
        if not isinstance(value, int) or value < 0:
            raise JaxgenError(f'config.{field} must be 0 or a positive integer, got {value!r}')
    if not isinstance(config.get('cpu_speedups', False), bool):
        raise JaxgenError(f'config.cpu_speedups must be True or False, got '
                          f'{config.cpu_speedups!r}')
    if config.get('lazy_phases', 'auto') not in LAZY_PHASES:
        raise JaxgenError(f"config.lazy_phases={config.lazy_phases!r}; use 'auto', 'host' "
                          "or 'cond' ('auto': 'host' on a CPU, 'cond' elsewhere)")
    seed = config.seed  # a 32-bit key seed: jax.random.key reads no more bits than that
    if isinstance(seed, bool) or not isinstance(seed, int) or not -2**31 <= seed < 2**32:
        raise JaxgenError(f'config.seed must be an integer from -2**31 to 2**32 - 1, '
                          f'got {seed!r}')
    devices = config.get('num_devices', 0)
    if not isinstance(devices, int) or devices < 0:
        raise JaxgenError(f'config.num_devices must be 0 (all) or a positive integer, '
                          f'got {devices!r}')


def to_json(config: ml_collections.ConfigDict, **extra: Any) -> str:
    return json.dumps({'config': config.to_dict(), **extra}, indent=2, sort_keys=True,
                      default=str)


# Flat config.data fields of workdirs written before each dataset family had its own
# sub-dict: old name -> (sub-dict, new name). ``from_json`` moves them.
MOVED_DATA_FIELDS = {'radius': ('mixture', 'radius'), 'std': ('mixture', 'std'),
                     'num_modes': ('mixture', 'num_modes'), 'edges_classes': ('edges', 'classes')}


def from_json(text: str) -> tuple[ml_collections.ConfigDict, dict]:
    """Inverse of ``to_json``: the config and the extra entries (an older workdir's
    flat data fields moved into their sub-dicts)."""
    blob = json.loads(text)
    config = blob.pop('config')
    data = config.get('data', {})
    for old, (family, new) in MOVED_DATA_FIELDS.items():
        if old in data:
            data.setdefault(family, {})[new] = data.pop(old)
    return ml_collections.ConfigDict(config), blob


def changed_keys(old: ml_collections.ConfigDict, new: ml_collections.ConfigDict) -> list[str]:
    """Dotted keys whose values differ between two configs (tuples equal lists, at
    any depth: a config read back from JSON has lists where it had tuples)."""
    def plain(v):
        return [plain(x) for x in v] if isinstance(v, (list, tuple)) else v

    def flat(d, prefix=''):
        out = {}
        for k, v in d.items():
            if isinstance(v, dict):
                out.update(flat(v, f'{prefix}{k}.'))
            else:
                out[f'{prefix}{k}'] = plain(v)
        return out
    a, b = flat(old.to_dict()), flat(new.to_dict())
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
