"""CycleGAN (Zhu et al., 2017): thin <-> thick Morpho-MNIST (default), MNIST <->
scikit-learn's digits, or glyphs in font A <-> font B (DejaVu Sans <-> DejaVu Serif).

    python train.py --config configs/cyclegan.py --workdir runs/cyclegan
    python train.py --config configs/cyclegan.py:mnist2digits --workdir runs/mnist2digits
    python train.py --config configs/cyclegan.py:glyph_fonts --workdir runs/glyph_fonts \
        --config.data.pair_domains="('cmr10', 'cmss10')"   # any two of glyphs' fonts
    python train.py --config configs/cyclegan.py --config.data.name=tfds:cycle_gan/horse2zebra \\
        --config.data.tfds.domains="('A', 'B')" --config.data.resize=64   # a TFDS pair
    python train.py --config configs/cyclegan.py --config.data.name=folder:/data/apple2orange
    python train.py --config configs/cyclegan.py --config.objective.cycle_b=0  # forward cycle only

Settings from the paper (§4, §5.2, appendix 7) and the official code
(junyanz/pytorch-CycleGAN-and-pix2pix ``models/cycle_gan_model.py``,
``models/networks.py``, ``options/train_options.py``): ResNet generators with 6
blocks (``resnet_6blocks``, the official choice at 128 px) and InstanceNorm,
70x70 PatchGANs, least-squares GAN loss (``--gan_mode lsgan``), λ_A = λ_B = 10,
identity 0.5 λ, a pool of 50 fakes per discriminator, Adam 2e-4 with β = (0.5,
0.999), weights N(0, 0.02), generators updated before discriminators, learning
rate constant for half the run and then decayed linearly to 0. Changed for 28 px
on a CPU: batch 8 (the paper uses 1); at 28 px a 70x70 PatchGAN sees the whole
image.
"""

from jaxgen.config import adam_linear_decay, base_config


def get_config(arg: str | None = None):
    c = base_config()
    c.num_steps = 4000
    c.batch_size = 8
    c.log_every = 100
    c.sample_every = 500
    c.checkpoint_every = 500
    c.data.name = arg or 'thin_thick'
    if arg == 'glyph_fonts':  # two of the glyph set's fonts as the unpaired domains
        c.data.name = 'glyphs'
        c.data.pair_domains = ('DejaVuSans', 'DejaVuSerif')
    c.model.name = 'cyclegan'
    c.model.features = 64
    c.model.blocks = 6
    c.model.receptive_field = 70
    c.model.norm = 'instance'
    c.model.history_size = 50
    c.ema.players = ('generator_ab', 'generator_ba')  # with --config.ema.decay > 0
    c.objective.name = 'cyclegan'
    c.objective.loss = 'least_squares'
    c.objective.cycle_a = 10.0
    c.objective.cycle_b = 10.0
    c.objective.identity = 0.5
    c.objective.gan_weight = 1.0
    c.rule.name = 'phased'
    c.rule.phases = (('generator_ab:generators', 'generator_ba:generators'),
                     ('discriminator_a', 'discriminator_b'))
    for player in ('generator_ab', 'generator_ba', 'discriminator_a', 'discriminator_b'):
        c.optimizers[player] = adam_linear_decay(c, 2e-4)
    return c
