"""InfoGAN on MNIST with the hyperparameters of Chen et al. (2016), appendix C.1.

    python train.py --config configs/infogan.py --workdir runs/infogan
    python train.py --config configs/infogan.py:fashion_mnist --workdir runs/infogan_fashion

62 Uniform(-1, 1) noise dimensions, one Cat(10) code and two Uniform(-1, 1) codes; Adam with
beta1 0.5, learning rate 2e-4 for D and 1e-3 for G and Q; lambda = 1; batch 128.
"""

from jaxgen.config import adam, base_config


def get_config(arg: str | None = None):
    c = base_config()
    c.num_steps = 5000
    c.batch_size = 128
    c.log_every = 100
    c.sample_every = 500
    c.checkpoint_every = 500
    c.eval_every = 500
    c.data.name = arg or 'mnist'
    c.model.name = 'infogan'
    c.model.noise_dim = 62
    c.model.noise = 'uniform'      # z ~ Uniform(-1, 1) as in the authors' code; or 'normal'
    c.model.categorical = (10,)
    c.model.continuous = 2
    c.objective.name = 'infogan'
    c.objective.generator_loss = 'non_saturating'
    c.objective.label_smoothing = 0.0
    c.objective.lambda_categorical = 1.0
    c.objective.lambda_continuous = 1.0
    c.objective.learn_std = False   # Q's Gaussian over continuous codes: fixed std ...
    c.objective.fixed_std = 1.0     # ... of this value, or learned when learn_std
    c.objective.train_trunk = True  # the information term also trains D's shared trunk
    c.rule.name = 'alternating'
    c.rule.d_steps = 1
    c.rule.first = ('discriminator',)   # then generator and q together
    c.optimizers.discriminator = adam(2e-4, b1=0.5)
    c.optimizers.generator = adam(1e-3, b1=0.5)
    c.optimizers.q = adam(1e-3, b1=0.5)
    return c
