"""InfoGAN for 28x28 images (Chen et al., 2016, appendix C.1).

Players: ``generator``; ``discriminator`` (a trunk shared with Q, plus the
real/fake head); ``q`` (the recognition head on the trunk's features).

* G: FC 1024-BN-ReLU, FC 7*7*128-BN-ReLU, deconv 64 4x4/2-BN-ReLU, deconv C 4x4/2, then
  tanh for pixels in [-1, 1] (``data.scale='tanh'``) or a sigmoid for [0, 1] (``'unit'``,
  the authors' code).
* D: conv 64 4x4/2-lReLU, conv 128 4x4/2-BN-lReLU, FC 1024-BN-lReLU (the trunk), FC 1.
* Q: FC 128-BN-lReLU, then the code outputs: logits per categorical code, and a
  mean and a log standard deviation per continuous code.

Not in the paper, off by default: with ``model.augment_rotate``/``_scale``/``_shift`` set,
the forward pass also runs D's trunk and Q on a randomly rotated, rescaled and shifted
copy of the fakes (``q_aug_*`` outputs) for the objective's invariant information term
(``objective.lambda_invariant``).

The leaky ReLUs' slope is ``model.leak``: 0.1 in the paper's appendix, 0.01 in the
authors' code (``leaky_rectify``'s default in openai/InfoGAN).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.errors import JaxgenError, is_number
from jaxgen.models.layers.augment import RandomAffine
from jaxgen.models.gan.dcgan import INIT
from jaxgen.models.layers import conv
from jaxgen.models.layers.deconv import ConvTranspose
from jaxgen.models.gan.base import real_data
from jaxgen.models.gan.latents import LatentCodes
from jaxgen.models.layers import BatchNorm, apply, compiled
from jaxgen.models.bundle import check_inputs, unconditional

SLOPE = 0.1  # leaky ReLU slope of the paper (model.leak)
OUTPUTS = {'tanh': jnp.tanh, 'unit': jax.nn.sigmoid}  # data.scale -> G's last activation
# Weights ~ N(0, 0.02) (DCGAN's INIT) and BatchNorm scales ~ N(1, 0.02), as in the
# authors' code: small first-layer weights let G re-weight the code inputs quickly.


def _scale_init(key, shape, dtype=jnp.float32):
    return 1.0 + 0.02 * jax.random.normal(key, shape, dtype)


def Dense(features):  # noqa: N802 - a layer constructor
    return nn.Dense(features, kernel_init=INIT)


def Conv(features):  # noqa: N802
    return conv.Conv(features, (4, 4), strides=(2, 2), padding='SAME', kernel_init=INIT)


def Deconv(features):  # noqa: N802
    return ConvTranspose(features, (4, 4), strides=(2, 2), padding='SAME', kernel_init=INIT)


def Norm(train):  # noqa: N802
    return BatchNorm(use_running_average=not train, scale_init=_scale_init)


class InfoGANGenerator(nn.Module):
    channels: int = 1
    scale: str = 'tanh'

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        h = nn.relu(Norm(train)(Dense(1024)(x)))
        h = nn.relu(Norm(train)(Dense(7 * 7 * 128)(h)))
        h = h.reshape(x.shape[0], 7, 7, 128)
        h = nn.relu(Norm(train)(Deconv(64)(h)))
        return OUTPUTS[self.scale](Deconv(self.channels)(h))


class InfoGANDiscriminator(nn.Module):
    """images -> (logits ``[B]``, trunk features ``[B, 1024]``)."""
    slope: float = SLOPE

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> tuple[jax.Array, jax.Array]:
        h = nn.leaky_relu(Conv(64)(x), self.slope)
        h = nn.leaky_relu(Norm(train)(Conv(128)(h)), self.slope)
        h = Dense(1024)(h.reshape(x.shape[0], -1))
        features = nn.leaky_relu(Norm(train)(h), self.slope)
        return Dense(1)(features)[:, 0], features


class QHead(nn.Module):
    """trunk features -> code estimates."""
    num_logits: int
    num_continuous: int
    slope: float = SLOPE

    @nn.compact
    def __call__(self, features: jax.Array, train: bool = False) -> dict[str, jax.Array]:
        h = nn.leaky_relu(Norm(train)(Dense(128)(features)), self.slope)
        out = Dense(self.num_logits + 2 * self.num_continuous)(h)
        k, c = self.num_logits, self.num_continuous
        return {'cat_logits': out[:, :k], 'cont_mean': out[:, k:k + c],
                'cont_log_std': out[:, k + c:]}


@dataclasses.dataclass(frozen=True)
class InfoGAN:
    generator: nn.Module
    discriminator: nn.Module
    q: nn.Module
    codes: LatentCodes
    data_info: Mapping[str, Any]
    augment: RandomAffine | None = None   # transforms for Q's invariant reading of the fakes

    @property
    def players(self) -> dict[str, nn.Module]:
        return {'generator': self.generator, 'discriminator': self.discriminator, 'q': self.q}

    @compiled()
    def init(self, key: jax.Array) -> dict:
        kg, kd, kq = jax.random.split(key, 3)
        x = jnp.zeros((2, *self.data_info['shape']), jnp.float32)
        return {
            'generator': self.generator.init(kg, jnp.zeros((2, self.codes.input_dim)), train=False),
            'discriminator': self.discriminator.init(kd, x, train=False),
            'q': self.q.init(kq, jnp.zeros((2, 1024)), train=False),
        }

    def forward(self, variables, batch, key, train: bool = True) -> tuple[dict, dict]:
        real = real_data(batch)
        codes = self.codes.sample(key, real.shape[0])
        fake, g_state = apply(self.generator, variables['generator'],
                              self.codes.to_input(codes), train=train)
        d_vars = variables['discriminator']
        (real_logits, _), d_state = apply(self.discriminator, d_vars, real, train=train)
        (fake_logits, features), d_state = apply(self.discriminator, {**d_vars, **d_state},
                                                 fake, train=train)
        q, q_state = apply(self.q, variables['q'], features, train=train)
        outputs = {'real_logits': real_logits, 'fake_logits': fake_logits, 'fake': fake,
                   'codes': codes, 'step': batch.get('step'),
                   **{f'q_{k}': v for k, v in q.items()}}
        if self.augment is not None:
            # Q on T(fake): the key is folded, so the codes above are drawn as without it;
            # the BatchNorm statistics kept are those of the real and the plain fake batch.
            moved = self.augment(jax.random.fold_in(key, 1), fake)
            (_, moved_features), _ = apply(self.discriminator, {**d_vars, **d_state}, moved,
                                           train=train)
            q_moved, _ = apply(self.q, variables['q'], moved_features, train=train)
            outputs.update({f'q_aug_{k}': v for k, v in q_moved.items()})
        return outputs, {'generator': g_state, 'discriminator': d_state, 'q': q_state}

    @compiled()
    def decode(self, variables, codes) -> jax.Array:
        """The generator at ``codes`` (``{'z', 'cat', 'cont'}``, eval mode)."""
        return self.generator.apply(dict(variables['generator']), self.codes.to_input(codes),
                                    train=False)

    def generate(self, variables, inputs, key) -> jax.Array:
        """``{'num': n}``: n draws; any of the codes ``'z'``, ``'cat'`` (``[n, #categorical]``
        values), ``'cont'``: held at the values given, the others drawn from ``key``."""
        num = check_inputs(inputs, ('z', 'cat', 'cont'), 'infogan')
        if unconditional(inputs):
            return self.sample(variables, key, num)
        codes = {**self.codes.sample(key, num),
                 **{k: v for k, v in inputs.items() if k != 'num'}}
        return self.decode(variables, codes)

    @compiled()
    def recognise(self, variables, images) -> dict[str, jax.Array]:
        """Q's code estimates for ``images`` (eval mode)."""
        _, features = self.discriminator.apply(dict(variables['discriminator']), images,
                                               train=False)
        return self.q.apply(dict(variables['q']), features, train=False)

    @compiled(2)
    def sample(self, variables, key, num: int) -> jax.Array:
        return self.decode(variables, self.codes.sample(key, num))


def build(model_config, data_info) -> InfoGAN:
    shape = tuple(data_info['shape'])
    if shape[:2] != (28, 28):
        raise JaxgenError(f'infogan is the 28x28 architecture of Chen et al.; the dataset has '
                          f'shape {shape}: use mnist, fashion_mnist or digits')
    codes = LatentCodes(noise_dim=model_config.noise_dim,
                        categorical=tuple(model_config.categorical),
                        continuous=model_config.continuous,
                        noise=model_config.get('noise', 'uniform'),
                        noise_scale=model_config.get('noise_scale', 1.0))
    if not codes.categorical:
        raise JaxgenError('config.model.categorical must name at least one categorical code, '
                          'e.g. (10,)')
    leak = model_config.get('leak', SLOPE)
    if not is_number(leak) or not 0.0 <= leak < 1.0:
        raise JaxgenError(f'config.model.leak is the leaky ReLU slope, a number in [0, 1); '
                          f'got {leak!r}')
    scale = data_info.get('scale', 'tanh')
    if scale not in OUTPUTS:
        raise JaxgenError(f'infogan draws pixels in one of the data scales {tuple(OUTPUTS)}; '
                          f'config.data.scale is {scale!r}')
    augment = RandomAffine(rotate=model_config.get('augment_rotate', 0.0),
                           scale=model_config.get('augment_scale', 0.0),
                           shift=model_config.get('augment_shift', 0.0),
                           fill=-1.0 if scale == 'tanh' else 0.0)
    return InfoGAN(generator=InfoGANGenerator(channels=shape[2], scale=scale),
                   discriminator=InfoGANDiscriminator(slope=float(leak)),
                   q=QHead(num_logits=sum(codes.categorical), num_continuous=codes.continuous,
                           slope=float(leak)),
                   codes=codes, data_info=data_info,
                   augment=augment if augment.active else None)
