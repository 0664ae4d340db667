"""VAE on dynamically binarized MNIST: the 784-200-200-50 tanh MLP of Burda et al. (2016).

    python train.py --config configs/vae.py --workdir runs/vae
    python train.py --config configs/vae.py:conv --workdir runs/vae_conv
    python train.py --config configs/vae.py:latent2 --workdir runs/vae2d   # 2-D latent space
    python train.py --config configs/vae.py:burda --workdir runs/vae_burda # 3,280 epochs
    python train.py --config configs/vae.py:burda400 --workdir runs/vae_b400 # same, shrunk
    python train.py --config configs/vae.py:burda_b20 --workdir runs/vae_b20 # their batch

``burda`` is Burda et al.'s schedule: Adam, learning rate 1e-3 * 10^(-i/7) for 3^i
epochs, i = 0..7 (3,280 epochs in all); ``burda<E>`` shrinks every stage by the same
factor to E epochs in all. The batch is 100 unless a suffix ``_b<B>`` sets it
(``burda_b20``: their batch of 20, five times the updates per epoch). Set the batch
this way, not with --config.batch_size, which would leave the steps and the
schedule's stage boundaries counted for batch 100.

The loss is the negative ELBO = reconstruction + KL(q(z|x) || N(0, I)), both
logged; --config.objective.beta and --config.objective.warmup_steps give a
beta-VAE and linear KL warm-up. Every eval_every steps the test NLL is
estimated with the IWAE bound (k = model.eval_samples).
"""

from jaxgen.config import base_config
from jaxgen.errors import JaxgenError


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
    # --config.ema.decay=0.999 averages the decoder, the player that draws samples.
    c.ema.players = ('decoder',)
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
    learning_rate = 1e-3
    if arg and arg.startswith('burda'):
        epochs, _, batch = arg[len('burda'):].partition('_b')
        epochs = epochs or str(BURDA_EPOCHS)
        if (not epochs.isdigit() or int(epochs) < 1
                or '_b' in arg and not (batch.isdigit() and int(batch) > 0)):
            raise JaxgenError(f'configs/vae.py:{arg}: write burda[<epochs>][_b<batch>], '
                              'e.g. burda400 or burda_b20')
        c.batch_size = int(batch) if batch else c.batch_size
        c.num_steps = int(epochs) * (60000 // c.batch_size)
        learning_rate = burda_schedule(1e-3, c.num_steps)
        c.eval_every = c.checkpoint_every = c.sample_every = max(5000, c.num_steps // 10)
    elif arg not in (None, 'conv', 'latent2'):
        raise JaxgenError(f'configs/vae.py:{arg}: unknown variant; use conv, latent2, burda '
                          'or burda<epochs>')
    c.optimizers.encoder = {'name': 'adam', 'learning_rate': learning_rate, 'b1': 0.9,
                            'b2': 0.999, 'eps': 1e-4}
    c.optimizers.decoder = dict(c.optimizers.encoder)
    return c


BURDA_EPOCHS = sum(3 ** i for i in range(8))  # 3,280


def burda_schedule(init_value: float, total_steps: int) -> dict:
    """Burda et al.'s 8 stages (3^i epochs at init * 10^(-i/7)), spread over
    ``total_steps``: an ``optax.piecewise_constant_schedule`` config."""
    boundaries, epochs = {}, 0
    for i in range(7):
        epochs += 3 ** i
        boundaries[str(round(total_steps * epochs / BURDA_EPOCHS))] = 10 ** (-1 / 7)
    return {'name': 'piecewise_constant_schedule', 'init_value': init_value,
            'boundaries_and_scales': boundaries}


def get_config(arg: str | None = None):
    return vae_base(arg)
