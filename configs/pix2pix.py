"""pix2pix (Isola et al., 2017): edges -> Fashion-MNIST (default) or edges -> MNIST.

    python train.py --config configs/pix2pix.py --workdir runs/pix2pix
    python train.py --config configs/pix2pix.py:edges2mnist --workdir runs/pix2pix_mnist
    python train.py --config configs/pix2pix.py --config.data.name=folder:/data/facades \\
        --config.data.folder.direction=BtoA --config.data.resize=64   # your own pairs
    python train.py --config configs/pix2pix.py --config.objective.l1=0        # cGAN alone
    python train.py --config configs/pix2pix.py --config.objective.gan_weight=0  # L1 alone
    python train.py --config configs/pix2pix.py --config.model.receptive_field=16
    python train.py --config configs/pix2pix.py --config.model.receptive_field=0  # ImageGAN

Settings from the paper (§3, §4, Table 1-2) and the official code
(junyanz/pytorch-CycleGAN-and-pix2pix: ``models/pix2pix_model.py``,
``models/networks.py``, ``options/train_options.py``): U-Net generator with
dropout 0.5 as the noise, BatchNorm, 70x70 PatchGAN on (input, output) pairs,
vanilla GAN loss with D's loss halved, λ_L1 = 100, Adam 2e-4 with β = (0.5, 0.999),
weights N(0, 0.02), D updated before G, learning rate constant for half the run
and then decayed linearly to 0 (``--n_epochs 100 --n_epochs_decay 100``). Changed
for 28x28 images on a CPU: batch 16 (the paper uses 1 to 10), and the U-Net has 5
levels (``unet_256`` has 8; see ``models/translation/networks.py``).
"""

from jaxgen.config import adam_linear_decay, base_config


def get_config(arg: str | None = None):
    c = base_config()
    c.num_steps = 4000
    c.batch_size = 16
    c.log_every = 100
    c.sample_every = 500
    c.checkpoint_every = 500
    c.data.name = arg or 'edges2fashion'
    c.model.name = 'pix2pix'
    c.model.features = 64
    c.model.receptive_field = 70     # 1 (PixelGAN), 16, 34, 70, 142, 286; 0: the full image
    c.model.norm = 'batch'
    c.model.dropout_blocks = 3
    c.model.sample_dropout = False
    c.objective.name = 'pix2pix'
    c.objective.loss = 'minimax'     # the official gan_mode vanilla; or least_squares
    c.objective.l1 = 100.0
    c.objective.gan_weight = 1.0
    c.rule.name = 'alternating'      # D first, then G, as optimize_parameters does
    c.rule.d_steps = 1
    c.optimizers.generator = adam_linear_decay(c, 2e-4)
    c.optimizers.discriminator = adam_linear_decay(c, 2e-4)
    return c
