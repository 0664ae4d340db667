"""The ring GAN with a history of fakes for the discriminator: persistent model state.

    python train.py --config configs/history_ring.py --workdir runs/history_ring

The discriminator's loss reads its fakes through a pool of the last 50 generated
points (``config.model.history_size``; ``jaxgen/models/layers/history.py``), the
image pool of Shrivastava et al. (2017, §2.3) with the settings of CycleGAN's
official code (junyanz/pytorch-CycleGAN-and-pix2pix, ``--pool_size 50``, each
stored fake returned with probability 1/2 once the pool is full). The pool lives
in the discriminator's persistent state, is saved in every checkpoint and
restored on resume; it demonstrates the interface CycleGAN's pool uses. The rest
is ``configs/gan_ring.py``.
"""

from configs import gan_ring


def get_config(arg: str | None = None):
    c = gan_ring.get_config(arg)
    c.model.history_size = 50
    return c
