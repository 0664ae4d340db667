"""PixelCNN (van den Oord et al., 2016, "Pixel Recurrent Neural Networks", section 3.4).

    python train.py --config configs/pixelcnn.py --workdir runs/pixelcnn        # binarised MNIST
    python train.py --config configs/pixelcnn.py:grey8 --workdir runs/pixelcnn8 # 256-way softmax
    python -m jaxgen.evaluate --workdir runs/pixelcnn --samples 0               # exact test NLL

The paper's settings: a 7x7 mask-A convolution, residual blocks of 3x3 mask-B
convolutions (Figure 5: 1x1 to h, 3x3, 1x1 to 2h), two 1x1 mask-B output layers, a
sigmoid output on binarised MNIST and a 256-way softmax with colour masks for 8-bit
data, RMSProp. Its MNIST row in Table 4 is 81.30 nats (verify against the paper); the
paper does not give the MNIST network's size: here 7 blocks of h = 16 as its Diagonal
BiLSTM's, a 32-wide head, batch 16 (GUIDE §6, unverified) and RMSProp at 1e-3 (the
rate is not given). Sampling uses the cached sampler (``model.sampler``).
"""

from configs.nade import binarised_mnist
from jaxgen.config import base_config
from jaxgen.errors import JaxgenError


def pixel_base(name: str, arg: str | None, variants: tuple[str, ...]):
    """The settings PixelCNN and PixelRNN share; ``grey8``: 8-bit MNIST, 256-way."""
    if arg not in (None, 'grey8', *variants):
        raise JaxgenError(f'configs/{name}.py:{arg}: unknown variant; use '
                          f'{", ".join(("grey8", *variants))}')
    c = binarised_mnist(base_config())
    c.batch_size = 16
    c.num_steps = 200_000        # 53 epochs at batch 16
    c.log_every = 500
    c.sample_every = 20000
    # An untrained autoregressive model's samples are noise, and drawing them pixel by
    # pixel costs minutes on a CPU (5 min for the 7-layer Diagonal BiLSTM): not at step 0.
    c.pictures_at_start = False
    c.checkpoint_every = 10000
    c.eval_every = 50000
    c.model.name = name
    c.model.output = 'bernoulli'
    c.model.features = 16         # h: the residual stream has 2h features
    c.model.num_layers = 7
    c.model.head = 32
    if arg == 'grey8':
        c.data.binarize = ''
        c.model.output = 'categorical'
        c.model.head = 256
    c.optimizers.model = {'name': 'rmsprop', 'learning_rate': 1e-3}
    return c


def get_config(arg: str | None = None):
    c = pixel_base('pixelcnn', arg, ('naive',))
    c.model.sampler = 'naive' if arg == 'naive' else 'cached'
    return c
