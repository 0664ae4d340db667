"""With no data folder, MNIST comes from TFDS's standard download, tried first; only when
that is off or fails (offline, found out within seconds) do the digits replace it, loudly.

TFDS itself is replaced by a tiny fake module (importing TensorFlow would take longer than
these tests): it records how the builder was asked to download and serves a few images.
"""

import importlib.machinery
import logging
import os
import socket
import sys
import threading
import time
import types

import numpy as np
import pytest

from jaxgen.data import load
from jaxgen.data.sources import mnist, network
from jaxgen.errors import JaxgenError

BANNER = 'WAS NOT FOUND'


@pytest.fixture
def no_folder(monkeypatch, tmp_path):
    """No data folder, an empty cache, downloads allowed, no failure remembered."""
    monkeypatch.delenv('JAXGEN_DATA_DIR', raising=False)
    monkeypatch.delenv('JAXGEN_DOWNLOAD', raising=False)
    monkeypatch.setenv('JAXGEN_CACHE_DIR', str(tmp_path / 'cache'))
    monkeypatch.setattr(mnist, 'FAILED', {})
    return str(tmp_path / 'cache')


def fake_tfds(monkeypatch, calls: list, fail: Exception | None = None) -> None:
    """Installs a fake ``tensorflow_datasets`` whose builders record their calls."""
    class Builder:
        def __init__(self, name, data_dir):
            calls.append(('builder', name, data_dir))

        def download_and_prepare(self, **kwargs):
            calls.append(('download_and_prepare', kwargs))
            if fail is not None:
                raise fail

        def as_dataset(self, split, batch_size):
            n = {'train': 6, 'test': 4}[split]
            return {'image': np.full((n, 28, 28, 1), 7, np.uint8), 'label': np.arange(n)}

    module = types.ModuleType('tensorflow_datasets')
    module.__spec__ = importlib.machinery.ModuleSpec('tensorflow_datasets', None)
    module.builder, module.as_numpy = Builder, lambda d: d
    module.disable_progress_bar = lambda: None
    monkeypatch.setitem(sys.modules, 'tensorflow_datasets', module)


def banners(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if BANNER in r.getMessage()]


def test_the_standard_download_is_tried_first_and_cached(no_folder, monkeypatch, caplog):
    checked, calls = [], []
    monkeypatch.setattr(mnist, 'unreachable', lambda url: checked.append(url))  # online
    fake_tfds(monkeypatch, calls)
    with caplog.at_level(logging.WARNING):
        ds = load({'name': 'mnist'})
    assert ds.name == 'mnist' and not ds.info['fallback'] and not banners(caplog)
    assert ds.info['source'] == 'tensorflow_datasets standard download'
    assert ds.arrays['image'].shape == (6, 28, 28, 1) and checked == [mnist.SOURCES['mnist']]
    # TFDS's own download (no manual folder) into the cache's tfds folder.
    # One downloads folder per dataset: MNIST and Fashion-MNIST share file names.
    assert calls == [('builder', 'mnist', os.path.join(no_folder, 'tfds')),
                     ('download_and_prepare',
                      {'download_dir': os.path.join(no_folder, 'tfds', 'downloads', 'mnist')})]
    test = load({'name': 'mnist'}, 'test')  # both splits were cached: no second download
    assert test.arrays['image'].shape == (4, 28, 28, 1) and len(calls) == 2
    assert test.info['source'] == 'tensorflow_datasets standard download'


def offline(monkeypatch, attempts: list) -> None:
    """No network: name lookups fail as they do on a machine without DNS."""
    def connect(address, timeout=None):
        attempts.append((address, timeout))
        raise socket.gaierror(-2, 'Name or service not known')
    monkeypatch.setattr(socket, 'create_connection', connect)


def test_offline_falls_back_to_digits_within_seconds_with_the_banner(
        no_folder, monkeypatch, caplog):
    attempts, calls = [], []
    offline(monkeypatch, attempts)
    fake_tfds(monkeypatch, calls)
    start = time.monotonic()
    with caplog.at_level(logging.WARNING):
        ds = load({'name': 'mnist'})
        load({'name': 'mnist'}, 'test')  # the failure is remembered: no second check
    assert time.monotonic() - start < 10
    assert ds.name == 'digits' and ds.info['fallback'] and ds.info['requested'] == 'mnist'
    assert attempts == [(('storage.googleapis.com', 443), network.CHECK_SECONDS)] and not calls
    banner = banners(caplog)[0]
    assert 'download failed' in banner and 'Name or service not known' in banner
    assert 'FALLBACK' in banner and 'JAXGEN_DATA_DIR' in banner
    assert 'data.download=True' in banner
    one_line = [r.getMessage() for r in caplog.records if 'download of mnist failed' in
                r.getMessage()]
    assert len(one_line) == 1 and '\n' not in one_line[0]


def test_a_network_that_never_answers_is_given_up_in_seconds(no_folder, monkeypatch, caplog):
    release = threading.Event()

    def hang(*args, **kwargs):
        release.wait(60)
        raise OSError('released')
    monkeypatch.setattr(socket, 'create_connection', hang)
    monkeypatch.setattr(mnist, 'prepare', lambda *a: pytest.fail('downloaded while offline'))
    start = time.monotonic()
    try:
        with caplog.at_level(logging.WARNING):
            ds = load({'name': 'fashion_mnist'})
    finally:
        release.set()
    assert time.monotonic() - start < 10 and ds.name == 'digits'
    assert network.CHECK_SECONDS <= 5
    assert 'did not answer within' in banners(caplog)[0]


def test_a_failed_download_falls_back_and_names_the_error(no_folder, monkeypatch, caplog):
    calls = []
    monkeypatch.setattr(mnist, 'unreachable', lambda url: None)
    fake_tfds(monkeypatch, calls, fail=RuntimeError('checksum\nmismatch'))
    with caplog.at_level(logging.WARNING):
        ds = load({'name': 'mnist'})
    assert ds.name == 'digits' and len(calls) == 2
    assert 'RuntimeError: checksum mismatch' in banners(caplog)[0]
    assert not os.path.exists(mnist.cache_path(no_folder, 'mnist', 'train'))


@pytest.mark.parametrize('switch', ['config', 'env'])
def test_download_switched_off_makes_no_attempt(no_folder, monkeypatch, caplog, switch):
    monkeypatch.setattr(mnist, 'unreachable', lambda url: pytest.fail('checked the network'))
    monkeypatch.setattr(mnist, 'prepare', lambda *a: pytest.fail('tried a download'))
    cfg = {'name': 'mnist'}
    if switch == 'config':
        cfg['download'] = False
    else:
        monkeypatch.setenv('JAXGEN_DOWNLOAD', '0')
    with caplog.at_level(logging.WARNING):
        ds = load(cfg)
    assert ds.name == 'digits' and 'switched off' in banners(caplog)[0]
    with pytest.raises(JaxgenError) as error:
        load({**cfg, 'fallback': False})
    assert 'switched off' in str(error.value)


def test_no_fallback_error_is_one_line_naming_the_failed_download(no_folder, monkeypatch):
    offline(monkeypatch, [])
    with pytest.raises(JaxgenError) as error:
        load({'name': 'fashion_mnist', 'fallback': False})
    message = str(error.value)
    assert '\n' not in message and 'download failed' in message
    assert 'fashion-mnist.s3-website.eu-central-1.amazonaws.com:80' in message
    assert 'JAXGEN_DATA_DIR' in message and 'fallback=True' in message


def test_reachability_of_a_real_listening_socket_and_a_closed_port(monkeypatch):
    for var in ('http_proxy', 'HTTP_PROXY', 'no_proxy', 'NO_PROXY'):
        monkeypatch.delenv(var, raising=False)
    with socket.socket() as server:
        server.bind(('127.0.0.1', 0))
        server.listen()
        port = server.getsockname()[1]
        assert network.unreachable(f'http://127.0.0.1:{port}/') is None
        # Through a proxy, the proxy is what must answer.
        monkeypatch.setenv('http_proxy', f'http://127.0.0.1:{port}')
        assert network.unreachable('http://no-such-host.invalid/mnist/') is None
    monkeypatch.delenv('http_proxy')
    assert 'unreachable' in network.unreachable(f'http://127.0.0.1:{port}/', timeout=2)
