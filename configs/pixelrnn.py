"""PixelRNN (van den Oord et al., 2016): Row LSTM or Diagonal BiLSTM, by config.

    python train.py --config configs/pixelrnn.py --workdir runs/bilstm7       # 7 layers, h = 16
    python train.py --config configs/pixelrnn.py:bilstm1 --workdir runs/bilstm1 # 1 layer, h = 32
    python train.py --config configs/pixelrnn.py:row --workdir runs/rowlstm     # Row LSTM
    python -m jaxgen.evaluate --workdir runs/bilstm7 --samples 0                # exact test NLL

Table 4 of the paper (binarised MNIST, nats): Diagonal BiLSTM 79.20 with 7 layers of
h = 16, 80.75 with 1 layer of h = 32; Row LSTM 80.54 (verify against the paper; its
size is not given, here 7 layers of h = 16). A 7x7 mask-A convolution first, residual
connections around every LSTM layer, RMSProp; batch 16 (GUIDE §6, unverified), the
learning rate 1e-3 a choice here. ``grey8``: 8-bit MNIST with a 256-way softmax.
"""

from configs.pixelcnn import pixel_base


def get_config(arg: str | None = None):
    c = pixel_base('pixelrnn', arg, ('bilstm1', 'row'))
    c.model.layer = 'row_lstm' if arg == 'row' else 'diagonal_bilstm'
    if arg == 'bilstm1':
        c.model.num_layers, c.model.features = 1, 32
    return c
