"""Lazy phases chosen by the host (``config.lazy_phases``, jaxgen/training/lazy.py):
one program per schedule, no conditional in them, each traced once, the same steps
as ``lax.cond`` chooses, and a bit-exact resume in the middle of a block."""

import os
import signal

import chex
import jax
import pytest

from jaxgen.errors import JaxgenError
from jaxgen.rules.base import lazy_schedule, schedules
from jaxgen.training import Checkpoints, experiment, lazy, train
from tests.helpers import count_step_builds
from tests.test_train import ring_config

K = 3  # the generator moves on the last step of each block of K (StarGAN's n_critic)


class Failing:
    """A lowered program whose compilation fails as XLA's does when memory runs out."""
    def compile(self):
        raise RuntimeError('RESOURCE_EXHAUSTED: out of memory\nallocation details')


def lazy_ring(**overrides):
    c = ring_config(**{'num_steps': 8, 'checkpoint_every': 8, 'sample_every': 8,
                       'log_every': 4, **overrides})
    c.rule = c.rule.__class__({'name': 'phased', 'phases': (('discriminator',), ('generator',)),
                               'every': (1, K)})
    return c


def test_schedules_follow_the_blocks_of_each_period():
    assert [lazy_schedule((1, 1, 16), s)[2] for s in range(32)] == \
        [(s + 1) % 16 == 0 for s in range(32)]
    assert schedules((1, 1, 16)) == [(True, True, True), (True, True, False)]
    # periods 4 and 6 over their cycle of 12 steps: all four combinations
    assert schedules((1, 4, 6)) == [(True, True, True), (True, True, False),
                                    (True, False, True), (True, False, False)]
    assert schedules((1, 2)) == [(True, True), (True, False)]
    assert schedules((1,)) == [(True,)]


def test_auto_is_the_host_on_a_cpu_and_the_conditional_elsewhere(monkeypatch):
    assert jax.default_backend() == 'cpu'
    assert lazy.mode(lazy_ring()) == 'host'
    assert lazy.mode(lazy_ring(lazy_phases='cond')) == 'cond'
    monkeypatch.setattr(jax, 'default_backend', lambda: 'gpu')
    assert lazy.mode(lazy_ring()) == 'cond'
    assert lazy.mode(lazy_ring(lazy_phases='host')) == 'host'


def test_host_programs_hold_no_conditional_and_the_cond_program_does():
    from jaxgen import data  # pylint: disable=import-outside-toplevel
    config = lazy_ring()
    dataset = data.load(config.data, 'train')
    exp = experiment.build(config, dataset.info)
    state = exp.init_state()

    def text(schedule):
        step = exp.make_train_step(dataset.draw, config.batch_size, schedule=schedule)
        return step.lower(state, dataset.arrays).as_text()
    assert 'stablehlo.case' in text(None)
    for schedule in schedules(exp.rule.every):
        assert 'stablehlo.case' not in text(schedule), schedule
    with pytest.raises(JaxgenError, match='one flag per phase'):
        text((True,))
    with pytest.raises(JaxgenError, match=r'True for those run every step \(every=\(1, 3\)\)'):
        text((False, True))
    with pytest.raises(ValueError, match='single steps'):
        exp.make_train_step(dataset.draw, config.batch_size, steps=2, schedule=(True, True))


def test_the_host_runs_the_steps_the_conditional_runs_each_program_traced_once(
        tmp_path, monkeypatch):
    builds = count_step_builds(monkeypatch)  # one build is one trace
    host = train(lazy_ring(lazy_phases='host'), str(tmp_path / 'host'))
    assert sorted(b['schedule'] for b in builds) == [(True, False), (True, True)]
    builds.clear()
    cond = train(lazy_ring(lazy_phases='cond'), str(tmp_path / 'cond'))
    assert [b['schedule'] for b in builds] == [None]
    plain = train(ring_config(num_steps=8, checkpoint_every=8, sample_every=8,
                              rule=lazy_ring().rule.__class__({
                                  'name': 'phased', 'phases': (('discriminator',),
                                                               ('generator',))})),
                  str(tmp_path / 'every_step'))
    host, cond, plain = jax.device_get((host.state, cond.state, plain.state))
    # the same 8 steps (G on steps 3 and 6), to float32 rounding: XLA fuses the
    # programs apart
    chex.assert_trees_all_close(host, cond, rtol=1e-5, atol=1e-6)
    # ... and not those of a G moving every step
    assert abs(host.params['generator']['Dense_0']['kernel']
               - plain.params['generator']['Dense_0']['kernel']).max() > 1e-4


def test_a_run_killed_inside_a_block_resumes_bit_exactly(tmp_path):
    config = lazy_ring(lazy_phases='host')
    full = train(config, str(tmp_path / 'full'))

    def sigterm_at_step_4(step, state):
        del state
        if step == 4:  # inside the block of steps 4-6, whose last step moves G
            os.kill(os.getpid(), signal.SIGTERM)
    workdir = str(tmp_path / 'killed')
    first = train(config, workdir, hooks=[sigterm_at_step_4])
    assert first.preempted and Checkpoints(workdir).latest_step() == 4
    resumed = train(config, workdir)
    assert resumed.step == 8
    chex.assert_trees_all_equal(jax.device_get(resumed.state), jax.device_get(full.state))


def test_fused_calls_choose_with_the_conditional_beside_host_single_steps(tmp_path):
    # 8 steps as fused calls of 3 between the periodic events and single steps:
    # the fused program's lax.cond and the host's programs make the same moves
    single = train(lazy_ring(lazy_phases='host'), str(tmp_path / 'single'))
    fused = train(lazy_ring(lazy_phases='host', steps_per_call=3), str(tmp_path / 'fused'))
    chex.assert_trees_all_close(jax.device_get(fused.state), jax.device_get(single.state),
                                rtol=1e-5, atol=1e-6)


def test_an_unknown_way_is_one_line_and_leaves_no_workdir(tmp_path):
    with pytest.raises(JaxgenError, match=r"config.lazy_phases='sometimes'; use 'auto'"):
        train(lazy_ring(lazy_phases='sometimes'), str(tmp_path / 'run'))
    assert not (tmp_path / 'run').exists()


def test_a_program_that_fails_to_compile_mid_run_is_one_line_and_keeps_the_checkpoint(
        tmp_path, monkeypatch):
    # the host's programs compile when first needed: the generator's on step 2, after
    # the checkpoint of step 2; XLA failing there (out of memory, say) is one line
    build = lazy.SingleSteps.build

    def failing_build(*args, **kwargs):
        steps = build(*args, **kwargs)
        steps.lowered[(True, True)] = Failing()
        return steps
    monkeypatch.setattr(lazy.SingleSteps, 'build', failing_build)
    workdir = str(tmp_path / 'run')
    with pytest.raises(JaxgenError) as error:
        train(lazy_ring(lazy_phases='host', checkpoint_every=2), workdir)
    message = str(error.value)
    assert '\n' not in message
    assert message.startswith('the train step running phases [0, 1] cannot be compiled '
                              '(RuntimeError: RESOURCE_EXHAUSTED: out of memory)')
    assert Checkpoints(workdir).latest_step() == 2


def test_the_one_program_failing_to_compile_is_the_trainers_line_and_no_workdir(
        tmp_path, monkeypatch):
    # 'cond' compiles its one program before the workdir exists: nothing to keep
    build = lazy.SingleSteps.build
    monkeypatch.setattr(lazy.SingleSteps, 'build',
                        lambda make, every, host: build(lambda s: Failing(), every, host))
    workdir = tmp_path / 'run'
    with pytest.raises(JaxgenError, match=r'^the train step cannot be built from this config '
                       r'\(RuntimeError: RESOURCE_EXHAUSTED: out of memory\)'):
        train(lazy_ring(lazy_phases='cond'), str(workdir))
    assert not workdir.exists()


def test_many_seeds_choose_their_lazy_phases_on_the_host_too(tmp_path, monkeypatch):
    from jaxgen.training import seeds  # pylint: disable=import-outside-toplevel
    separate = [jax.device_get(train(lazy_ring(lazy_phases='host', seed=5 + i),
                                     str(tmp_path / f'seed{i}')).state) for i in range(2)]
    builds = count_step_builds(monkeypatch)
    loop = jax.device_get(train(lazy_ring(lazy_phases='host', seed=5, num_seeds=2),
                                str(tmp_path / 'loop')).state)
    assert sorted(b['schedule'] for b in builds) == [(True, False), (True, True)]
    builds.clear()
    mapped = jax.device_get(train(lazy_ring(lazy_phases='host', seed=5, num_seeds=2,
                                            seeds_program='map'),
                                  str(tmp_path / 'map')).state)
    # one program over the seed axis per schedule: each seed's step built inside it
    assert {b.get('schedule') for b in builds} == {(True, False), (True, True)}
    for i, single in enumerate(separate):
        # the seed loop runs the separate run's own programs, seed after seed
        chex.assert_trees_all_equal(seeds.take(loop, i), single)
        chex.assert_trees_all_close(seeds.take(mapped, i), single, rtol=1e-5, atol=1e-6)
