"""VAE on dynamically binarized MNIST: the 784-200-200-50 tanh MLP of Burda et al. (2016).

    python train.py --config configs/vae.py --workdir runs/vae
    python train.py --config configs/vae.py:conv --workdir runs/vae_conv
    python train.py --config configs/vae.py:latent2 --workdir runs/vae2d   # 2-D latent space

The loss is the negative ELBO = reconstruction + KL(q(z|x) || N(0, I)), both
logged; --config.objective.beta and --config.objective.warmup_steps give a
beta-VAE and linear KL warm-up. Every eval_every steps the test NLL is
estimated with the IWAE bound (k = model.eval_samples).
"""

from jaxgen.config import base_config


def vae_base(arg: str | None = None):
    c = base_config()
    c.num_steps = 60000          # 100 epochs at batch 100
    c.batch_size = 100
    c.log_every = 500
    c.sample_every = 5000
    c.checkpoint_every = 5000
    c.eval_every = 10000
    c.data.name = 'mnist'
    c.data.scale = 'unit'
    c.data.binarize = 'dynamic'
    c.model.name = 'vae'
    c.model.architecture = 'conv' if arg == 'conv' else 'mlp'
    c.model.hidden = (200, 200)
    c.model.latent_dim = 2 if arg == 'latent2' else 50
    c.model.likelihood = 'bernoulli'
    c.model.stochastic = True
    c.model.num_samples = 1
    c.model.eval_samples = 100
    c.objective.name = 'vae'
    c.objective.beta = 1.0
    c.objective.warmup_steps = 0
    c.rule.name = 'simultaneous'
    c.optimizers.encoder = {'name': 'adam', 'learning_rate': 1e-3, 'b1': 0.9, 'b2': 0.999,
                            'eps': 1e-4}
    c.optimizers.decoder = dict(c.optimizers.encoder)
    return c


def get_config(arg: str | None = None):
    return vae_base(arg)
