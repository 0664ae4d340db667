"""The DCGAN generator's optional residual blocks (``residual_stages``, models/gan/dcgan.py),
the bottleneck of the text-to-image GAN's official generator (reedscot/icml2016): the block
is its input plus the branch computed here from lax convolutions and the BatchNorm formula,
it sits after the BatchNorm and before the ReLU of each of the first resolutions, with a
quarter of the channels inside, and nothing else of the plain generator changes."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.errors import JaxgenError
from jaxgen.models.gan import dcgan

EPS = 1e-5  # jaxgen's BatchNorm (torch's eps)


def _conv(x, kernel):
    return jax.lax.conv_general_dilated(x, kernel, (1, 1), 'SAME',
                                        dimension_numbers=('NHWC', 'HWIO', 'NHWC'),
                                        precision=jax.lax.Precision.HIGHEST)


def _bn(x, p, s):  # eval mode: the running statistics
    return (x - s['mean']) / jnp.sqrt(s['var'] + EPS) * p['scale'] + p['bias']


def _randomised(variables, key):
    """Every parameter and running statistic redrawn (variances positive)."""
    leaves, tree = jax.tree.flatten(variables)
    keys = jax.random.split(key, len(leaves))
    new = [jax.random.uniform(k, x.shape, minval=0.5, maxval=1.5) if x.ndim == 1
           else 0.3 * jax.random.normal(k, x.shape) for k, x in zip(keys, leaves)]
    return jax.tree.unflatten(tree, new)


def test_the_bottleneck_is_its_input_plus_the_official_branch():
    h = jax.random.normal(jax.random.key(0), (3, 4, 4, 16))
    block = dcgan.Bottleneck()
    v = _randomised(block.init(jax.random.key(1), h), jax.random.key(2))
    p, s = v['params'], v['batch_stats']
    chex.assert_shape([p['Conv_0']['kernel'], p['Conv_1']['kernel'], p['Conv_2']['kernel']],
                      [(1, 1, 16, 4), (3, 3, 4, 4), (3, 3, 4, 16)])
    assert all('bias' not in p[f'Conv_{i}'] for i in range(3))
    r = jax.nn.relu(_bn(_conv(h, p['Conv_0']['kernel']), p['BatchNorm_0'], s['BatchNorm_0']))
    r = jax.nn.relu(_bn(_conv(r, p['Conv_1']['kernel']), p['BatchNorm_1'], s['BatchNorm_1']))
    r = _bn(_conv(r, p['Conv_2']['kernel']), p['BatchNorm_2'], s['BatchNorm_2'])
    got = block.apply(v, h)
    assert float(jnp.max(jnp.abs(r))) > 0.1  # the branch matters
    np.testing.assert_allclose(got, h + r, rtol=1e-4, atol=1e-4)
    # With its last BatchNorm's scale and shift at zero the block is exactly the identity.
    zero = {**p, 'BatchNorm_2': jax.tree.map(jnp.zeros_like, p['BatchNorm_2'])}
    np.testing.assert_array_equal(block.apply({'params': zero, 'batch_stats': s}, h), h)


@pytest.mark.parametrize('shape, stages, sides', [
    ((32, 32, 1), 2, (4, 8)), ((28, 28, 1), 1, (7,)), ((64, 64, 3), 3, (4, 8, 16))])
def test_residual_stages_add_blocks_before_the_relu_of_the_first_resolutions(
        shape, stages, sides):
    """Blocks at the first ``stages`` resolutions (``sides``), a quarter of the channels
    inside. With each block's last BatchNorm at scale 0 and shift ``c`` the block adds
    ``c``: the generator is then the plain one with ``c`` added to the shift of the
    BatchNorm of that resolution, in both modes (exactly when c = 0). So each block sits
    after its resolution's BatchNorm and before its ReLU, and nothing else moved."""
    z = jax.random.normal(jax.random.key(0), (5, 10))
    n = dcgan.num_upsamplings(shape[0])
    plain, res = (dcgan.DCGANGenerator(shape, 8, residual_stages=k) for k in (0, stages))
    vp = plain.init(jax.random.key(1), z)
    vr = res.init(jax.random.key(1), z)
    assert not any(k.startswith('Bottleneck') for k in vp['params'])
    blocks = sorted(k for k in vr['params'] if k.startswith('Bottleneck'))
    assert blocks == [f'Bottleneck_{i}' for i in range(stages)]
    for i, side in enumerate(sides):  # channels 8 * 2 ** (n - 1 - i) at side 4..7 * 2 ** i
        f = 8 * 2 ** (n - 1 - i)
        chex.assert_shape(vr['params'][f'Bottleneck_{i}']['Conv_0']['kernel'], (1, 1, f, f // 4))
        assert side == shape[0] // 2 ** (n - i)
    vp = _randomised(vp, jax.random.key(3))
    for c in (0.0, 0.7):
        merged = {col: {**vr[col], **vp[col]} for col in ('params', 'batch_stats')}
        shifted = {col: dict(vp[col]) for col in ('params', 'batch_stats')}
        for i, b in enumerate(blocks):
            last = vr['params'][b]['BatchNorm_2']
            merged['params'][b] = {**vr['params'][b], 'BatchNorm_2': {
                'scale': jnp.zeros_like(last['scale']), 'bias': jnp.full_like(last['bias'], c)}}
            bn = shifted['params'][f'BatchNorm_{i}']
            shifted['params'][f'BatchNorm_{i}'] = {**bn, 'bias': bn['bias'] + c}
        for train in (False, True):
            got = res.apply(merged, z, train=train, mutable=['batch_stats'])[0]
            want = plain.apply(shifted, z, train=train, mutable=['batch_stats'])[0]
            chex.assert_shape(got, (5, *shape))
            if c == 0.0:
                np.testing.assert_array_equal(got, want)
            else:
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-4)  # float rounding
                assert float(jnp.max(jnp.abs(got - plain.apply(vp, z, train=train, mutable=[
                    'batch_stats'])[0]))) > 1e-2  # the shift mattered
    # ... and with whole blocks the output changes
    merged['params'] = {**merged['params'], **{b: _randomised(vr['params'][b], jax.random.key(4))
                                               for b in blocks}}
    assert float(jnp.max(jnp.abs(res.apply(merged, z) - plain.apply(vp, z)))) > 1e-3


@pytest.mark.parametrize('stages', [-1, 4])
def test_residual_stages_beyond_the_resolutions_are_one_line(stages):
    g = dcgan.DCGANGenerator((32, 32, 1), 8, residual_stages=stages)
    with pytest.raises(JaxgenError, match=r'^residual_stages must be in \[0, 3\] for 32-px '
                                          r'images \(3 resolutions below the output\), got'):
        g.init(jax.random.key(0), jnp.zeros((2, 10)))
