"""NADE (Larochelle & Murray, 2011) on dynamically binarised MNIST.

    python train.py --config configs/nade.py --workdir runs/nade
    python train.py --config configs/nade.py:orderless --workdir runs/eonade  # Uria et al.
    python -m jaxgen.evaluate --workdir runs/nade --samples 0   # exact test NLL, nats

The paper's settings: one hidden layer of H = 500 sigmoid units, weights W shared by
all conditionals, a fixed (raster) ordering of the 784 pixels; its binarised-MNIST test
NLL is 88.86 nats (Table 2 of the NADE paper, unverified here; 88.33 in the PixelRNN
paper's Table 4). The paper trained with stochastic gradient descent and early
stopping; here Adam (1e-3, batch 100) for 300 epochs, a choice of this library.
``orderless`` trains on a random ordering per example (order-agnostic training,
Uria et al., 2014) and evaluates the ensemble over 16 orderings (EoNADE; their tables
use 128: ``--set orderings=128``).

Training images are binarised afresh at every draw (dynamic); the test set once, with
seed 0 (``jaxgen.metrics.own.vae.evaluation_images``), not Larochelle's fixed
binarisation (not available here), so the numbers compare only roughly.
"""

from jaxgen.config import base_config
from jaxgen.errors import JaxgenError


def binarised_mnist(c):
    """Dynamically binarised MNIST, one player ``model``, the exact NLL objective."""
    c.data.name = 'mnist'
    c.data.scale = 'unit'
    c.data.binarize = 'dynamic'
    c.objective.name = 'nll'
    c.rule.name = 'simultaneous'
    c.ema.players = ('model',)
    return c


def get_config(arg: str | None = None):
    if arg not in (None, 'orderless'):
        raise JaxgenError(f'configs/nade.py:{arg}: unknown variant; use orderless')
    c = binarised_mnist(base_config())
    c.batch_size, c.num_steps = 100, 300 * 600  # 300 epochs
    c.log_every, c.sample_every, c.checkpoint_every, c.eval_every = 500, 10000, 10000, 30000
    c.model.name = 'nade'
    c.model.output = 'bernoulli'
    c.model.hidden_units = 500
    c.model.ordering = 'raster'
    c.model.ordering_seed = 0
    c.model.order_agnostic = arg == 'orderless'
    c.model.eval_orderings = 16 if arg == 'orderless' else 1
    c.optimizers.model = {'name': 'adam', 'learning_rate': 1e-3}
    return c
