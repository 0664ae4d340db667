"""InfoGAN on MNIST with the hyperparameters of Chen et al. (2016), appendix C.1.

    python train.py --config configs/infogan.py --workdir runs/infogan
    python train.py --config configs/infogan.py:fashion_mnist --workdir runs/infogan_fashion
    python train.py --config configs/infogan.py:authors --workdir runs/infogan_authors
    python train.py --config configs/infogan.py:invariant --workdir runs/infogan_invariant

62 Uniform(-1, 1) noise dimensions, one Cat(10) code and two Uniform(-1, 1) codes; Adam with
beta1 0.5, learning rate 2e-4 for D and 1e-3 for G and Q; lambda = 1; batch 128.

``authors`` (alone or as ``authors,fashion_mnist``) follows the authors' code
(openai/InfoGAN) where it departs from the paper's text: leaky ReLU slope 0.01
(``leaky_rectify``'s default, the paper says 0.1), pixels in [0, 1] with a sigmoid output
(``MeanBernoulli``), and Q's head trained in D's phase with D's optimizer (its variables
live in D's scope there).

``invariant`` (combinable with a dataset or ``authors``) departs from the paper to make the
categorical code find the digits more reliably (docs/RESULTS.md): noise z ~ Uniform(-0.3,
0.3), and Q also reads the categorical code from fakes turned by up to 15 degrees,
rescaled by up to 10% and shifted by up to 2 pixels, with lambda_invariant 1.
"""

from jaxgen.config import adam, base_config
from jaxgen.errors import JaxgenError

DATASETS = ('mnist', 'fashion_mnist', 'digits')


def get_config(arg: str | None = None):
    words = arg.split(',') if arg else []
    authors, invariant = 'authors' in words, 'invariant' in words
    data = [w for w in words if w not in ('authors', 'invariant')]
    if len(data) > 1 or any(w not in DATASETS for w in data):
        raise JaxgenError(f'configs/infogan.py:{arg}: write [authors,][invariant,]<dataset> '
                          f'with the dataset one of {DATASETS}')
    c = base_config()
    c.num_steps = 5000
    c.batch_size = 128
    c.log_every = 100
    c.sample_every = 500
    c.checkpoint_every = 500
    c.eval_every = 500
    c.data.name = data[0] if data else 'mnist'
    c.model.name = 'infogan'
    c.model.noise_dim = 62
    c.model.noise = 'uniform'      # z ~ Uniform(-1, 1) as in the authors' code; or 'normal'
    c.model.noise_scale = 1.0      # z is multiplied by this (1: the authors' Uniform(-1, 1))
    c.model.categorical = (10,)
    c.model.continuous = 2
    # Not in the paper (0: off): Q also reads the code from fakes rotated by up to this
    # many degrees, rescaled by up to this fraction and shifted by up to this many pixels,
    # with weight objective.lambda_invariant (jaxgen/objectives/infogan.py).
    c.model.augment_rotate = 0.0
    c.model.augment_scale = 0.0
    c.model.augment_shift = 0.0
    c.objective.name = 'infogan'
    c.objective.generator_loss = 'non_saturating'
    c.objective.label_smoothing = 0.0
    c.objective.lambda_categorical = 1.0
    c.objective.lambda_continuous = 1.0
    c.objective.learn_std = False   # Q's Gaussian over continuous codes: fixed std ...
    c.objective.fixed_std = 1.0     # ... of this value, or learned when learn_std
    c.objective.train_trunk = True  # the information term also trains D's shared trunk
    c.objective.info_start = 0      # the lambdas are 0 before this step ...
    c.objective.info_ramp = 0       # ... then rise linearly over this many steps (0: at once)
    c.objective.lambda_invariant = 0.0  # weight of the categorical bound on transformed fakes
    c.rule.name = 'alternating'
    c.rule.d_steps = 1
    c.rule.first = ('discriminator',)   # then generator and q together
    c.optimizers.discriminator = adam(2e-4, b1=0.5)
    c.optimizers.generator = adam(1e-3, b1=0.5)
    c.optimizers.q = adam(1e-3, b1=0.5)
    c.model.leak = 0.1             # leaky ReLU slope in D and Q (the paper's appendix)
    if authors:
        c.model.leak = 0.01
        c.data.scale = 'unit'
        c.rule.first = ('discriminator', 'q')
        c.optimizers.q = adam(2e-4, b1=0.5)
    if invariant:
        c.model.noise_scale = 0.3
        c.model.augment_rotate, c.model.augment_scale, c.model.augment_shift = 15.0, 0.1, 2.0
        c.objective.lambda_invariant = 1.0
    return c
