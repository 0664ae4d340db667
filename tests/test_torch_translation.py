"""The PyTorch reference of the translation throughput benchmark has jaxgen's network
shapes, by parameter counts per network (benchmarks/throughput/torch_translation.py;
run.py asserts the same before timing); skipped without PyTorch, as in CI."""

import math
import os
import sys

import jax
import pytest

torch = pytest.importorskip('torch')

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                'benchmarks', 'throughput'))
import torch_translation  # noqa: E402  pylint: disable=wrong-import-position

from configs import cyclegan, pix2pix  # noqa: E402
from jaxgen.training import experiment  # noqa: E402

KINDS = {'pix2pix': (pix2pix, 'paired'), 'cyclegan': (cyclegan, 'unpaired')}


@pytest.mark.parametrize('model', sorted(KINDS))
def test_parameter_counts_match_jaxgen(model):
    module, kind = KINDS[model]
    config = module.get_config()
    images = torch.zeros((4, 1, 28, 28), dtype=torch.uint8)
    step = torch_translation.STEPS[model]({'image_a': images, 'image_b': images}, 2, config)
    exp = experiment.build(config, {'kind': kind, 'shape': [28, 28, 1], 'scale': 'tanh'})
    params = jax.eval_shape(exp.init_state).params
    assert set(params) == set(step.players)
    for player, net in step.players.items():
        ours = sum(math.prod(x.shape) for x in jax.tree.leaves(params[player]))
        assert ours == sum(p.numel() for p in net.parameters()), player
