"""LPIPS (jaxgen.metrics.lpips) against lpips 0.1.4, its properties and its one-line errors.

The reference values come from ``lpips.LPIPS(net, pretrained=True, pnet_rand=True)`` with the
seeded random trunk of ``trunks.random_torch_state`` (scripts/lpips_make_fixture.py wrote
tests/fixtures/lpips_reference.npz); the live test recomputes them where torch and lpips import.
"""

import functools
import importlib.util
import os

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.errors import JaxgenError
from jaxgen.metrics import lpips as L
from jaxgen.metrics.classifier_net import DomainNet, Extractor, conv_layers
from jaxgen.metrics.lpips import trunks

ROOT = os.path.join(os.path.dirname(__file__), '..')
FIXTURE = np.load(os.path.join(ROOT, 'tests', 'fixtures', 'lpips_reference.npz'))
SEED = int(FIXTURE['seed'])
unit = lambda x: (x.astype(np.float32) / np.float32(127.5) - 1).astype(np.float32)  # noqa: E731
A, B = unit(FIXTURE['images_a']), unit(FIXTURE['images_b'])


@functools.lru_cache(maxsize=None)
def lpips(net: str, seed: int = SEED):
    return L.lpips_distance(net, backbone=trunks.random_torch_state(net, seed))


@functools.lru_cache(maxsize=None)
def jaxgen_values(net: str):
    return np.asarray(lpips(net)(A, B)), np.asarray(lpips(net).per_layer(A, B))


def fixture_script():
    spec = importlib.util.spec_from_file_location(
        'lpips_make_fixture', os.path.join(ROOT, 'scripts', 'lpips_make_fixture.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pairs(shape, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(rng.uniform(-1, 1, shape).astype(np.float32) for _ in range(2))


@pytest.mark.parametrize('net', L.NETS)
def test_lpips_equals_the_lpips_package_s_fixture_values(net):
    state = trunks.random_torch_state(net, SEED)
    checksum = sum(np.abs(v.astype(np.float64)).sum() for v in state.values())
    assert checksum == pytest.approx(float(FIXTURE[f'checksum_{net}']), rel=1e-9), \
        'the seeded backbone differs from the one that made the fixture (NumPy stream changed?)'
    total, layers = jaxgen_values(net)
    np.testing.assert_allclose(layers, FIXTURE[f'layers_{net}'], rtol=0, atol=1e-5)
    np.testing.assert_allclose(total, FIXTURE[f'values_{net}'], rtol=0, atol=1e-5)
    assert layers.shape[1] == len(trunks.CHANNELS[net])


@pytest.mark.parametrize('net', L.NETS)
def test_lpips_equals_the_lpips_package_live(net):
    pytest.importorskip('torch', reason='live comparison needs torch (benchmarks/requirements-lpips.txt)')
    script = fixture_script()
    script.install_torchvision_shim()  # torchvision's CPU wheels do not import beside torch here
    pytest.importorskip('lpips', reason='live comparison needs lpips==0.1.4 (benchmarks/requirements-lpips.txt)')
    total, layers = script.reference_values(net, trunks.random_torch_state(net, SEED), A, B)
    np.testing.assert_allclose(jaxgen_values(net)[1], layers, rtol=0, atol=1e-5)
    np.testing.assert_allclose(jaxgen_values(net)[0], total, rtol=0, atol=1e-5)


def test_identical_images_are_at_zero_and_the_distance_is_symmetric():
    d = lpips('alex')
    assert np.all(np.abs(np.asarray(d(A, A))) < 1e-10)
    np.testing.assert_allclose(d(B, A), jaxgen_values('alex')[0], rtol=1e-6)
    assert np.all(jaxgen_values('alex')[0] > 1e-3)
    chunked = L.lpips_distance('alex', backbone=trunks.random_torch_state('alex', SEED), chunk=2)
    np.testing.assert_allclose(chunked.per_layer(A, B), jaxgen_values('alex')[1], rtol=1e-5)


def test_normalisation_makes_the_distance_invariant_to_feature_scale():
    rng = np.random.default_rng(1)
    fa = [rng.normal(size=(2, 5, 4, c)).astype(np.float32) for c in (3, 8)]
    fb = [rng.normal(size=(2, 5, 4, c)).astype(np.float32) for c in (3, 8)]
    scale = lambda fs, s: [f * s[i] for i, f in enumerate(fs)]  # noqa: E731
    base = L.layer_distances(fa, fb)
    np.testing.assert_allclose(L.layer_distances(scale(fa, [3., 1e3]), scale(fb, [.01, 7.])), base,
                               rtol=1e-5)
    np.testing.assert_allclose(jnp.linalg.norm(L.normalize_tensor(fa[1]), axis=-1), 1, rtol=1e-6)
    # end to end: scaling AlexNet's last conv (weights and bias) by 5 scales relu5 only
    state = trunks.random_torch_state('alex', SEED)
    state = {k: v * 5 if k.startswith('features.10.') else v for k, v in state.items()}
    np.testing.assert_allclose(L.lpips_distance('alex', backbone=state).per_layer(A, B),
                               jaxgen_values('alex')[1], rtol=1e-5, atol=1e-7)


def test_greyscale_is_replicated_and_the_distance_runs_under_jit():
    a, b = A[:2, :40, :40, :1], B[:2, :40, :40, :1]
    d = lpips('squeeze')
    np.testing.assert_allclose(d(a, b), d(np.repeat(a, 3, -1), np.repeat(b, 3, -1)), rtol=1e-6)
    np.testing.assert_allclose(jax.jit(d)(a, b), d(a, b), rtol=1e-6)
    up = L.lpips_distance('squeeze', backbone=trunks.random_torch_state('squeeze', SEED), resize=40)
    assert up(a[:, :20, :20], b[:, :20, :20]).shape == (2,)


def test_domain_lpips_is_the_normalised_distance_on_the_classifier_s_conv_relus():
    net = DomainNet(10, conv_layers((32, 32)))
    x, y = pairs((3, 32, 32, 1), seed=2)
    params = net.init(jax.random.PRNGKey(0), x)['params']
    d = L.domain_lpips_distance(Extractor(params, {'shape': (32, 32, 1), 'outputs': 10,
                                                   'head': 'softmax'}))

    def taps(img):  # the two stride-2 convolutions of DomainNet, applied by hand
        h1 = nn.relu(nn.Conv(32, (4, 4), (2, 2), 'SAME').apply({'params': params['Conv_0']}, img))
        return [h1, nn.relu(nn.Conv(64, (4, 4), (2, 2), 'SAME').apply({'params': params['Conv_1']}, h1))]

    expect = 0
    for fa, fb in zip(taps(x), taps(y)):
        fa, fb = (np.asarray(f, np.float64) for f in (fa, fb))
        na = fa / (np.linalg.norm(fa, axis=-1, keepdims=True) + 1e-10)
        nb = fb / (np.linalg.norm(fb, axis=-1, keepdims=True) + 1e-10)
        expect = expect + ((na - nb) ** 2).sum(-1).mean((1, 2))
    np.testing.assert_allclose(d(x, y), expect, rtol=1e-5)
    np.testing.assert_allclose(d(y, x), expect, rtol=1e-5)
    assert np.all(np.abs(np.asarray(d(x, x))) < 1e-10)
    with pytest.raises(JaxgenError, match='classifier'):
        d(x[:, :8, :8], y[:, :8, :8])


ERRORS = {
    'range': (lambda: lpips('alex')(A * 127.5 + 127.5, B), r'\[-1, 1\].*255.*x\*2-1'),
    'range, on device': (lambda: lpips('alex')(A, jnp.asarray(B) * 2), r'got values in \[-2, 2\]'),
    'nan': (lambda: lpips('alex')(A, np.where(B > 0.9, np.nan, B)), r'got values in \[nan, nan\]'),
    'rank': (lambda: lpips('alex')(A[0], B[0]), r'NHWC.*\(66, 58, 3\)'),
    'pair shapes': (lambda: lpips('alex')(A, B[:2]), r'pairs.*\(3, 66, 58, 3\) and \(2, 66, 58, 3\)'),
    'channels': (lambda: lpips('alex')(A[..., :2], B[..., :2]), r'1 or 3 channel.*got 2'),
    'too small': (lambda: lpips('alex')(A[:, :28, :28], B[:, :28, :28]), r'at least 31x31.*28x28.*resize='),
    'missing backbone': (lambda: L.lpips_distance('vgg', '/nonexistent/vgg.npz'),
                         r'vgg.*missing.*lpips_convert_backbone.py vgg.*domain LPIPS.*offline'),
    'unknown net': (lambda: L.lpips_distance('resnet'), r'alex, vgg, squeeze'),
}


@pytest.mark.parametrize('case', sorted(ERRORS))
def test_bad_input_raises_one_line(case):
    call, pattern = ERRORS[case]
    with pytest.raises(JaxgenError, match=pattern) as info:
        call()
    assert '\n' not in str(info.value)


def test_default_backbone_place_is_the_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv('JAXGEN_CACHE_DIR', str(tmp_path))
    assert L.default_backbone_path('alex') == str(tmp_path / 'lpips' / 'alex_backbone.npz')
    with pytest.raises(JaxgenError, match=str(tmp_path)):
        L.lpips_distance('alex')
    state = trunks.random_torch_state('alex', SEED)
    os.makedirs(tmp_path / 'lpips')
    np.savez(tmp_path / 'lpips' / 'alex_backbone.npz', **state)
    np.testing.assert_allclose(L.lpips_distance('alex')(A, B), jaxgen_values('alex')[0], atol=1e-7)
    np.savez(tmp_path / 'lpips' / 'alex_backbone.npz', **trunks.random_torch_state('squeeze', 0))
    with pytest.raises(JaxgenError, match='not an LPIPS-alex backbone.*features.0.weight'):
        L.lpips_distance('alex')
