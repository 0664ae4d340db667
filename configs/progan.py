"""Progressive GAN (Karras et al., 2018) growing 4 -> 8 -> 16 -> 32 on 32x32 images.

    python train.py --config configs/progan.py --workdir runs/progan            # mnist32
    python train.py --config configs/progan.py:fashion_mnist32 --workdir runs/progan_fashion
    python train.py --config configs/progan.py:glyphs,kimg=60,batch=32 --workdir runs/pg_glyphs
    python train.py --config configs/progan.py:tfds:celeb_a,resolution=64 --workdir runs/pg_celeba
    python train.py --config configs/progan.py:mnist32,grow=0 ...   # 32x32 only, same images

The argument is ``dataset[,key=value...]``: ``resolution`` (final, default 32; every set but
the 32x32 mnist32, fashion_mnist32 and colour_mnist is resized to it, e.g. the 28x28
glyphs), ``kimg`` (thousands of images per stabilisation and per fade-in, default 600),
``batch`` (one batch size for every resolution instead of the
official ``minibatch_dict``), ``grow=0`` (the same network trained at the final resolution
only for as many images as the whole growth: the paper's Table 1 baseline).

Settings from the paper (§2-4, appendix A) and the official code
(tkarras/progressive_growing_of_gans: ``networks.py`` G_paper/D_paper, ``loss.py``,
``config.py`` preset-v2-1gpu, ``train.py`` TrainingSchedule): equalised learning rate,
pixel norm (ε 1e-8, latents too), minibatch stddev (group 4) in D's 4x4 block, leaky
ReLU 0.2, nearest upsampling and average pooling, nf = min(8192 / 2^stage, 512),
latents 512; WGAN-GP λ 10 with drift ε 1e-3; Adam 1e-3, β = (0, 0.99), ε 1e-8, reset at
each new fade-in and stabilisation; G EMA 0.999 (``G_smoothing``); 600k images to
stabilise and 600k to fade in per resolution (``lod_training_kimg``,
``lod_transition_kimg``; the paper says 800k); batch 128 at 4-16 px and 64 at 32 px
(``minibatch_dict``); D and G alternate one step each (``D_repeats`` 1). Not done:
``minibatch_repeats`` 4 (the official code reuses each batch four times).

On a CPU ``--config.cpu_speedups=True`` (Winograd gradients, the same forward values)
trains 1.3x (AMD EPYC) to 1.6x (Intel Xeon) as many images per second at 32x32
(docs/results/progressive.md). Off by
default, as for every config: the runs recorded so far were made without it.
"""

import ml_collections

from jaxgen.config import adam, base_config
from jaxgen.errors import JaxgenError
from jaxgen.models.progressive.progan import log2_resolution
from jaxgen.models.progressive.schedule import growth_stages

BATCH_SIZES = {4: 128, 8: 128, 16: 128, 32: 64, 64: 32, 128: 16, 256: 8, 512: 4, 1024: 4}
SIDE_32 = ('mnist32', 'fashion_mnist32', 'colour_mnist')  # already 32x32
SETTINGS = {'resolution': 32, 'kimg': 600, 'batch': 0, 'grow': 1}


def parse_arg(arg: str | None) -> tuple[str, dict]:
    name, *pairs = (arg or 'mnist32').split(',')
    settings = dict(SETTINGS)
    for pair in pairs:
        key, _, value = pair.partition('=')
        if key not in settings or not value.lstrip('-').isdigit():
            raise JaxgenError(f'configs/progan.py takes dataset[,key=value...] with integer '
                              f'values for {sorted(settings)}; got {pair!r}')
        settings[key] = int(value)
    return name, settings


def get_config(arg: str | None = None):
    name, s = parse_arg(arg)
    c = base_config()
    c.log_every = 100
    c.sample_every = 1000
    c.checkpoint_every = 1000
    c.data.name = name
    final = s['resolution']
    if name not in SIDE_32 or final != 32:  # glyphs, mnist, tfds:, folder: ... resized
        c.data.resize = final
    log2_resolution(final, 'the final resolution (configs/progan.py:<data>,resolution=N)')
    batches = {r: s['batch'] or b for r, b in BATCH_SIZES.items()}
    c.model = ml_collections.ConfigDict({
        'name': 'progan', 'latent_dim': 512, 'fmap_base': 8192, 'fmap_max': 512,
        'group_size': 4, 'final_resolution': final, 'resolution': final,
        'fade_start': 0, 'fade_steps': 0})
    c.objective = ml_collections.ConfigDict(
        {'name': 'progan', 'loss': 'wasserstein', 'gradient_penalty': 10.0, 'drift': 1e-3})
    c.rule.name = 'alternating'
    c.rule.d_steps = 1
    c.optimizers.generator = {**adam(1e-3, b1=0.0, b2=0.99), 'eps': 1e-8}
    c.optimizers.discriminator = {**adam(1e-3, b1=0.0, b2=0.99), 'eps': 1e-8}
    c.ema.decay = 0.999
    c.ema.players = ('generator',)
    if s['grow']:
        c.stages, c.num_steps = growth_stages(final, batches, s['kimg'] * 1000,
                                              s['kimg'] * 1000)
        c.batch_size = batches[4]
    else:  # as many images as the growth shows (a stabilisation per resolution and a
        # fade-in per resolution above 4), all at the final resolution
        c.batch_size = batches[final]
        phases = 2 * len(range(3, final.bit_length())) + 1
        c.num_steps = max(1, -(-s['kimg'] * 1000 * phases // c.batch_size))
    return c
