"""StarGAN (Choi et al., 2018): Morpho-MNIST's perturbations as domains (default: none,
thin, thick, swell, fracture), its measured attributes as domains (thin/thick x
upright/slanted, ``morpho_attributes``), or the glyph fonts as domains.

    python train.py --config configs/stargan.py --workdir runs/stargan
    python train.py --config configs/stargan.py:morpho_attributes --workdir runs/stargan_attr
    python train.py --config configs/stargan.py:glyphs --workdir runs/stargan_glyphs

Settings from the paper (§3, §4, appendix) and the official code (yunjey/stargan
``main.py``, ``solver.py``, ``model.py``): a ResNet generator with the target
domain tiled into its input (4x4 stride-2 convolutions, 6 residual blocks, affine
InstanceNorm), a discriminator of stride-2 convolutions with LeakyReLU 0.01, a
patch source head and a domain head; WGAN-GP with λ_gp 10, λ_cls 1, λ_rec 10;
target domains the batch's own, shuffled; 5 discriminator steps per generator
step (``n_critic 5``: here D moves every step and G every 5th); Adam 1e-4 with
β = (0.5, 0.999), batch 16, learning rates decayed linearly to 0 over the second
half. Changed for 28 px: the discriminator has 3 stride-2 convolutions (6 at
128 px); the official code keeps PyTorch's default initialisation, here N(0, 0.02).
"""

from jaxgen.config import adam_linear_decay, base_config


def get_config(arg: str | None = None):
    c = base_config()
    c.num_steps = 10000
    c.batch_size = 16
    c.log_every = 100
    c.sample_every = 1000
    c.checkpoint_every = 1000
    c.data.name = arg or 'morpho_perturbed'
    c.data.classifier_target = 'domain'
    c.model.name = 'stargan'
    c.model.features = 64
    c.model.d_features = 64
    c.model.blocks = 6
    c.objective.name = 'stargan'
    c.objective.loss = 'wasserstein'
    c.objective.gradient_penalty = 10.0
    c.objective.classification = 1.0
    c.objective.reconstruction = 10.0
    c.rule.name = 'phased'
    c.rule.phases = (('discriminator',), ('generator',))
    c.rule.every = (1, 5)
    c.optimizers.generator = adam_linear_decay(c, 1e-4)
    c.optimizers.discriminator = adam_linear_decay(c, 1e-4)
    return c
