"""Puzzle-GAN (Lee et al., 2017, arXiv 1703.10730): whole images from 3 key patches, on
MNIST (default), Fashion-MNIST, or the glyphs resized to 32x32.

    python train.py --config configs/puzzlegan.py --workdir runs/puzzlegan
    python train.py --config configs/puzzlegan.py:fashion_mnist --workdir runs/puzzle_fashion
    python train.py --config configs/puzzlegan.py:glyphs --workdir runs/puzzle_glyphs
    python train.py --config configs/puzzlegan.py --config.model.extra_negatives=False ...
    python train.py --config configs/puzzlegan.py --config.model.parts=canvas ...  # not official

Settings from the official code, hellbell/KeyPatchGan (``options/options.py``,
``main.py``, ``models/model.py``, ``models/networks.py``): the U-Net structure
(``--model_structure unet``: ``PartEncoderU``, ``MaskGeneratorU``, ``ImageGeneratorU``,
``DiscriminatorU``) with ``--conv_dim 64``, ``--part_embed_dim 128``, ``--z_dim 128``;
3 key patches; Adam 2e-4, beta1 0.5 (``--learning_rate 0.0002 --beta1 0.5``) for D and
for G + part encoder + mask network; batch 64; D every step and G every second step
(``main.py`` line 111: ``if i % 2 == 1``); the mask and appearance L1 weights
``np.logspace(-2, -4, num=25)`` over the 25 epochs (``--epoch 25``, ``main.py`` lines
63-64), times 64 here because the official L1s are summed over the batch of 64 and ours
are averaged over it. Changed for digits on a CPU: the official key patches come from
EdgeBoxes on 64 px CelebA/CompCars; here ``config.data.patches`` draws 3 square 8 px
boxes biased to ink (``data/derived/patches.py``); the official 25 epochs of MNIST are
25 x 937 steps, which ``num_steps`` keeps; ``schedule_steps`` follows ``num_steps``.
"""

from jaxgen.config import adam, base_config

DATASETS = ('mnist', 'fashion_mnist', 'glyphs')


def get_config(arg: str | None = None):
    name = arg or 'mnist'
    if name not in DATASETS:
        raise ValueError(f'configs/puzzlegan.py takes one of {DATASETS}, got {arg!r}')
    c = base_config()
    c.num_steps = 25 * 937  # 25 epochs of MNIST's 60k images at batch 64
    c.batch_size = 64
    c.log_every = 100
    c.sample_every = 1000
    c.checkpoint_every = 1000
    c.data.name = name
    c.data.patches = 3
    c.data.patch_size = 8
    if name == 'glyphs':
        c.data.resize = 32
    c.model.name = 'puzzlegan'
    c.model.features = 64
    c.model.code_dim = 128
    c.model.latent_dim = 128
    c.model.extra_negatives = True
    c.model.parts = 'crops'  # the official; 'canvas': each part at its box (docs/results)
    c.objective.name = 'puzzlegan'
    c.objective.mask_weight = (1e-2 * 64, 1e-4 * 64)
    c.objective.appearance_weight = (1e-2 * 64, 1e-4 * 64)
    c.objective.schedule_epochs = 25
    c.objective.schedule_steps = c.get_ref('num_steps')
    c.rule.name = 'phased'
    c.rule.phases = (('discriminator',),
                     ('generator', 'part_encoder:generator', 'mask_net:generator'))
    c.rule.every = (1, 2)
    for player in ('part_encoder', 'mask_net', 'generator', 'discriminator'):
        c.optimizers[player] = adam(2e-4, b1=0.5)
    c.ema.players = ('generator', 'part_encoder', 'mask_net')  # with --config.ema.decay > 0
    return c
