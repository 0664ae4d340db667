"""The benchmark scripts' own logic that CI can check cheaply: mode_coverage.py's
``--set KEY=VALUE`` overrides (used for the ring ablation in docs/RESULTS.md)."""

import pytest

from benchmarks.mode_coverage import override
from configs import unrolled_gan


def test_set_parses_each_value_as_the_type_it_replaces():
    c = unrolled_gan.get_config('paper')
    override(c, 'rule.simultaneous', 'false')
    override(c, 'num_steps', '123')
    override(c, 'optimizers.generator.learning_rate', '3e-4')
    override(c, 'objective.generator_loss', 'non_saturating')
    assert c.rule.simultaneous is False and c.num_steps == 123
    assert c.optimizers.generator.learning_rate == 3e-4
    assert c.objective.generator_loss == 'non_saturating'
    override(c, 'rule.simultaneous', 'TRUE')
    assert c.rule.simultaneous is True


@pytest.mark.parametrize('key, value, message', [
    ('rule.simultanous', 'true', "the config has no key 'rule.simultanous'"),
    ('optimizers', 'adam', 'only numbers, booleans and strings can be set, not ConfigDict'),
    ('rule.simultaneous', 'yes', 'expected true or false'),
    ('num_steps', '1.5', "expected an integer, got '1.5'"),
])
def test_set_refuses_bad_keys_and_values_with_one_line(key, value, message):
    c = unrolled_gan.get_config('paper')
    with pytest.raises(SystemExit, match=message):
        override(c, key, value)
