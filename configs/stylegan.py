"""StyleGAN (Karras et al., 2019) on 32x32 images; StyleGAN2's demodulation by override.

    python train.py --config configs/stylegan.py --workdir runs/stylegan          # mnist32
    python train.py --config configs/stylegan.py:glyphs --workdir runs/stylegan_glyphs
    python train.py --config configs/stylegan.py:colour_mnist,grow=1 ...   # grown as ProGAN
    python train.py --config configs/stylegan.py --config.model.style_mixing=0 ...  # no mixing
    python train.py --config configs/stylegan.py --config.model.demodulate=True ...  # StyleGAN2
    python train.py --config configs/stylegan.py:tfds:celeb_a,resolution=64 ...

The argument is configs/progan.py's (``dataset[,resolution=,kimg=,batch=,grow=]``), with
``grow=0`` by default: trained at the final resolution for as many images as the growth
would show; ``grow=1`` grows it by Progressive GAN's schedule.

Settings from the paper (§2-3, appendix C) and the official code (NVlabs/stylegan
``training/networks_stylegan.py`` G_style/G_mapping/G_synthesis, ``training/loss.py``,
``train.py``): mapping 8 x 512 dense layers, leaky ReLU 0.2, learning-rate multiplier 0.01,
normalised z (512); learned 4x4 constant; per layer noise (strengths init 0), bias, leaky
ReLU, instance norm, style ``x (1 + y_s) + y_b``; style mixing probability 0.9; w_avg
EMA 0.995; truncation psi 0.7 on layers < 8 for pictures (``truncation_psi``: 1 for
metrics, as the official FID); non-saturating logistic loss with R1 gamma 10; Adam 1e-3,
beta = (0, 0.99), eps 1e-8; G EMA (``G_smoothing_kimg`` 10: 0.999 here); feature maps
min(8192 / 2^stage, 512). R1 is lazy, every 16 steps with its weight times 16 (StyleGAN2's
``D_reg_interval``; StyleGAN ran it every step: ``--config.objective.r1_every=1`` with
``--config.rule.every='(1, 1, 1)'``). Not done: the [1, 2, 1] blur of up- and
downsampling, StyleGAN2's Adam adjustment for lazy steps and path-length regularisation.

On a CPU add ``--config.cpu_speedups=True`` (Winograd gradients, the same forward
values): 1.6x as many images per second on an Intel Xeon (docs/results/progressive.md).
Off by default, as for every config: the runs recorded so far were made without them.
On a CPU the lazy R1 step runs as a program of its own (``config.lazy_phases``, default
``'auto'``): inside a ``lax.cond`` (``--config.lazy_phases=cond``) XLA:CPU runs its
convolutions on a generic loop, 140 s against 3.7 s.
"""

from configs import progan


def get_config(arg: str | None = None):
    arg = arg or 'mnist32'
    c = progan.get_config(arg if 'grow=' in arg else f'{arg},grow=0')
    c.model.name = 'stylegan'
    c.model.w_dim = 512
    c.model.mapping_layers = 8
    c.model.mapping_lr = 0.01
    c.model.style_mixing = 0.9
    c.model.w_avg_beta = 0.995
    c.model.truncation_psi = 1.0
    c.model.truncation_cutoff = 8
    c.model.demodulate = False
    c.objective = c.objective.__class__({'name': 'stylegan', 'loss': 'minimax', 'r1': 10.0,
                                         'r1_every': 16})
    c.rule = c.rule.__class__({'name': 'phased',
                               'phases': (('discriminator',), ('generator',),
                                          ('discriminator:r1',)),
                               'every': (1, 1, 16)})
    return c
