"""Mutation check: plant one bug at a time and see whether the tests catch it.

    python benchmarks/mutation.py --out runs/mutation.json
    python benchmarks/mutation.py --only T-ema-swap R-unroll-state   # a few mutants
    python benchmarks/mutation.py --check                            # snippets only
    python benchmarks/mutation.py --exclude tests/test_rule_steps.py # without a test file

Each mutant below is ``(id, file, original snippet, mutated snippet, tests)``: a
flipped sign, a wrong factor, a dropped term, a ``stop_gradient``, a swapped
argument. For each one the script copies the repository (the files ``git ls-files``
lists plus untracked files git does not ignore) into a temporary directory, replaces
the snippet there (it must occur exactly once in the file, or the script stops with
an error before anything runs), and runs

    python -m pytest -q -x -p no:cacheprovider <tests>

in the copy. A mutant is *caught* when pytest fails (or runs past ``--timeout``),
*missed* when every test passes. The checkout itself is never modified. Before the
mutants, the same test files run once on an unmodified copy: a failure there stops
the script, since every mutant would then look caught.

JAX's persistent compilation cache is kept apart from the checkout's: the copies run
with ``JAXGEN_CACHE_DIR`` set to ``--cache-dir`` (default: ``jaxgen-mutation-cache``
in the system's temporary folder, kept between runs), so the mutated programs
do not pile up in the CI cache.

Writes a table to stdout and, with ``--out``, the results as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from typing import NamedTuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Mutant(NamedTuple):
    id: str
    file: str
    original: str
    mutated: str
    tests: tuple[str, ...]


LOSS_VALUES = 'tests/test_loss_values.py'
OBJECTIVE_VALUES = 'tests/test_objective_values.py'
PENALTIES = 'tests/test_penalty_values.py'
RULE_STEPS = 'tests/test_rule_steps.py'
TRAIN_STEP = 'tests/test_train_step.py'

SAFETY = ('tests/test_safe_failures.py',)
LOSSES = (LOSS_VALUES, 'tests/test_losses.py', 'tests/test_fgan.py')
VAE_LOSSES = ('tests/test_vae_math.py', OBJECTIVE_VALUES)
OBJECTIVES = (OBJECTIVE_VALUES, PENALTIES)
RULES = (RULE_STEPS, 'tests/test_rules.py', 'tests/test_dynamics.py')
TRAINING = (TRAIN_STEP,)
FUSED = ('tests/test_periodic_events.py', 'tests/test_parallel.py::'
         'test_fused_calls_match_single_steps_and_stop_short_of_periodic_events')
MISFIT = ('tests/test_train.py::'
          'test_checkpoint_that_does_not_fit_the_config_is_refused_untouched',)

M = Mutant
MUTANTS = (
    # -- jaxgen/losses -------------------------------------------------------------------
    M('L-smoothing-sign', 'jaxgen/losses/gan.py',
      '+ (1.0 - target) * jax.nn.softplus(real_logits))',
      '+ (1.0 - target) * jax.nn.softplus(-real_logits))', LOSSES),
    M('L-d-fake-sign', 'jaxgen/losses/gan.py',
      'fake_term = jax.nn.softplus(fake_logits)',
      'fake_term = jax.nn.softplus(-fake_logits)', LOSSES),
    M('L-saturating-sign', 'jaxgen/losses/gan.py',
      'return -jax.nn.softplus(fake_logits)',
      'return -jax.nn.softplus(-fake_logits)', LOSSES),
    M('L-d-real-stop-gradient', 'jaxgen/losses/gan.py',
      'real_term = (target * jax.nn.softplus(-real_logits)',
      'real_term = (target * jax.nn.softplus(-jax.lax.stop_gradient(real_logits))', LOSSES),
    M('L-nonsaturating-stop-gradient', 'jaxgen/losses/gan.py',
      'return jax.nn.softplus(-fake_logits)',
      'return jax.nn.softplus(-jax.lax.stop_gradient(fake_logits))', LOSSES),
    M('L-hinge-fake-sign', 'jaxgen/losses/gan.py',
      'jax.nn.relu(1.0 + fake_logits)', 'jax.nn.relu(1.0 - fake_logits)', LOSSES),
    M('L-hinge-generator-sign', 'jaxgen/losses/gan.py',
      'def hinge_generator_loss(*, fake_logits: jax.Array) -> jax.Array:\n'
      '    """``-D(G(z))``."""\n    return -fake_logits',
      'def hinge_generator_loss(*, fake_logits: jax.Array) -> jax.Array:\n'
      '    """``-D(G(z))``."""\n    return fake_logits', LOSSES),
    M('L-least-squares-factor', 'jaxgen/losses/gan.py',
      'return 0.5 * (real_logits - 1.0) ** 2 + 0.5 * fake_logits ** 2',
      'return (real_logits - 1.0) ** 2 + 0.5 * fake_logits ** 2', LOSSES),
    M('L-least-squares-generator-target', 'jaxgen/losses/gan.py',
      'return 0.5 * (fake_logits - 1.0) ** 2', 'return 0.5 * (fake_logits + 1.0) ** 2', LOSSES),
    M('L-wasserstein-sign', 'jaxgen/losses/gan.py',
      'return fake_logits - real_logits', 'return real_logits - fake_logits', LOSSES),
    M('L-relativistic-generator-swapped', 'jaxgen/losses/gan.py',
      'return jax.nn.softplus(real_logits - fake_logits)',
      'return jax.nn.softplus(fake_logits - real_logits)', ('tests/test_objective_contracts.py',)),
    M('L-relativistic-average-mean-dropped', 'jaxgen/losses/gan.py',
      'return jnp.mean(logits, axis=0, keepdims=True)', 'return logits',
      ('tests/test_objective_contracts.py',)),
    M('L-fgan-reverse-kl-conjugate', 'jaxgen/losses/fgan.py',
      'conjugate_activation=lambda v: v - 1.0,', 'conjugate_activation=lambda v: v + 1.0,',
      LOSSES),
    M('L-fgan-hellinger-dropped-term', 'jaxgen/losses/fgan.py',
      'conjugate_activation=lambda v: jnp.expm1(v),',
      'conjugate_activation=lambda v: jnp.exp(v),', LOSSES),
    M('L-fgan-js-dropped-log2', 'jaxgen/losses/fgan.py',
      'activation=lambda v: LOG2 - jax.nn.softplus(-v),',
      'activation=lambda v: -jax.nn.softplus(-v),', LOSSES),
    M('L-fgan-pearson-factor', 'jaxgen/losses/fgan.py',
      'conjugate_activation=lambda v: 0.25 * v ** 2 + v,',
      'conjugate_activation=lambda v: 0.5 * v ** 2 + v,', LOSSES),
    M('L-fgan-tv-factor', 'jaxgen/losses/fgan.py',
      '        activation=lambda v: 0.5 * jnp.tanh(v),',
      '        activation=lambda v: jnp.tanh(v),', LOSSES),
    M('L-fgan-critic-fake-term', 'jaxgen/losses/fgan.py',
      'return -d.activation(real_logits) + d.conjugate_activation(fake_logits)',
      'return -d.activation(real_logits) + d.activation(fake_logits)', LOSSES),
    M('L-fgan-saturating-sign', 'jaxgen/losses/fgan.py',
      'return -d.conjugate_activation(fake_logits)',
      'return d.conjugate_activation(fake_logits)', LOSSES),
    M('L-info-dropped-log-std', 'jaxgen/losses/info.py',
      'per_dim = -0.5 * z ** 2 - log_std - 0.5 * math.log(2.0 * math.pi)',
      'per_dim = -0.5 * z ** 2 - 0.5 * math.log(2.0 * math.pi)', LOSSES),
    M('L-info-std-sign', 'jaxgen/losses/info.py',
      'z = (targets - mean) * jnp.exp(-log_std)', 'z = (targets - mean) * jnp.exp(log_std)',
      LOSSES),
    M('L-info-softmax-axis', 'jaxgen/losses/info.py',
      'jax.nn.log_softmax(logits, axis=-1)', 'jax.nn.log_softmax(logits, axis=0)', LOSSES),
    M('L-vae-kl-dropped-minus-one', 'jaxgen/losses/vae.py',
      'per_dim = 0.5 * (jnp.expm1(log_var) - log_var + jnp.square(mean))',
      'per_dim = 0.5 * (jnp.exp(log_var) - log_var + jnp.square(mean))', VAE_LOSSES),
    M('L-iwae-dropped-log-k', 'jaxgen/losses/vae.py',
      'return jax.scipy.special.logsumexp(log_weights, axis=axis) - math.log(k)',
      'return jax.scipy.special.logsumexp(log_weights, axis=axis)', VAE_LOSSES),
    M('L-reparameterize-std', 'jaxgen/losses/vae.py',
      'return mean + jnp.exp(0.5 * log_var) * eps', 'return mean + jnp.exp(log_var) * eps',
      VAE_LOSSES),
    M('L-bernoulli-sign', 'jaxgen/losses/vae.py',
      '+ (1.0 - targets) * jax.nn.log_sigmoid(-logits))',
      '+ (1.0 - targets) * jax.nn.log_sigmoid(logits))', VAE_LOSSES),

    # -- jaxgen/objectives ---------------------------------------------------------------
    M('O-term-weight-dropped', 'jaxgen/objectives/base.py',
      'losses[player] = losses[player] + weight * value',
      'losses[player] = losses[player] + value', OBJECTIVES),
    M('O-earlier-terms-dropped', 'jaxgen/objectives/base.py',
      'losses[player] = losses[player] + weight * value',
      'losses[player] = weight * value', OBJECTIVES),
    M('O-negative-weights-dropped', 'jaxgen/objectives/base.py',
      'if weight != 0.0:', 'if weight > 0.0:', OBJECTIVES),
    M('O-eval-mode-forward', 'jaxgen/objectives/base.py',
      'outputs, new_state = self.forward(variables, batch, key, train=True)',
      'outputs, new_state = self.forward(variables, batch, key, train=False)', OBJECTIVES),
    M('O-gp-interpolation-swapped', 'jaxgen/objectives/gan.py',
      'x_hat = mix * real + (1.0 - mix) * fake', 'x_hat = mix * fake + (1.0 - mix) * real',
      OBJECTIVES),
    M('O-gp-missing-sqrt', 'jaxgen/objectives/gan.py',
      "norms = jnp.sqrt(_input_grads(outputs[game.critic], x_hat) + 1e-12)",
      "norms = _input_grads(outputs[game.critic], x_hat) + 1e-12", OBJECTIVES),
    M('O-gp-missing-square', 'jaxgen/objectives/gan.py',
      'return jnp.mean((norms - target) ** 2)', 'return jnp.mean(jnp.abs(norms - target))',
      OBJECTIVES),
    M('O-input-grads-abs', 'jaxgen/objectives/gan.py',
      'return jnp.sum(grads.reshape(grads.shape[0], -1) ** 2, axis=1)',
      'return jnp.sum(jnp.abs(grads.reshape(grads.shape[0], -1)), axis=1)', OBJECTIVES),
    M('O-input-grads-stop-gradient', 'jaxgen/objectives/gan.py',
      'grads = jax.grad(lambda x_: jnp.sum(critic(x_)))(x)',
      'grads = jax.lax.stop_gradient(jax.grad(lambda x_: jnp.sum(critic(x_)))(x))',
      OBJECTIVES),
    M('O-r1-missing-half', 'jaxgen/objectives/gan.py',
      "return 0.5 * jnp.mean(_input_grads(outputs[game.critic], outputs[game.real])), {}",
      "return jnp.mean(_input_grads(outputs[game.critic], outputs[game.real])), {}", OBJECTIVES),
    M('O-r1-on-fakes', 'jaxgen/objectives/gan.py',
      "_input_grads(outputs[game.critic], outputs[game.real])",
      "_input_grads(outputs[game.critic], outputs[game.fake])", OBJECTIVES),
    M('O-gp-weighted-for-generator', 'jaxgen/objectives/gan.py',
      '**{game.discriminator: gradient_penalty})', '**{game.generator: gradient_penalty})',
      OBJECTIVES),
    M('O-r1-weight-ignored', 'jaxgen/objectives/gan.py',
      '**{game.discriminator: r1})', '**{game.discriminator: 1.0})', OBJECTIVES),
    M('O-label-smoothing-dropped', 'jaxgen/objectives/gan.py',
      "d_kwargs = {'label_smoothing': label_smoothing}", "d_kwargs = {'label_smoothing': 0.0}",
      OBJECTIVES),
    M('O-game-fake-logits-fixed', 'jaxgen/objectives/gan.py',
      "'fake_logits': outputs[game.fake_logits]}", "'fake_logits': outputs['fake_logits']}",
      OBJECTIVES + ('tests/test_objective_contracts.py',)),
    M('O-game-generator-loss-to-discriminator', 'jaxgen/objectives/gan.py',
      "g_term, **{game.generator: 1.0}))", "g_term, **{game.discriminator: 1.0}))",
      ('tests/test_two_games.py',)),
    M('O-schedule-missing-step-full-weight', 'jaxgen/objectives/base.py',
      'if scheduled and step is None:', 'if False:', ('tests/test_objective_contracts.py',)),
    M('O-ignored-option-accepted', 'jaxgen/objectives/base.py',
      'if key in NEUTRAL_OPTIONS and value == NEUTRAL_OPTIONS[key]:', 'if True:',
      ('tests/test_objective_contracts.py',)),
    M('O-fgan-bound-sign', 'jaxgen/objectives/fgan.py',
      "return value, {'bound': -value}", "return value, {'bound': value}", OBJECTIVES),
    M('O-fgan-generator-kind-ignored', 'jaxgen/objectives/fgan.py',
      'divergence=divergence, kind=kind)), {}', 'divergence=divergence)), {}', OBJECTIVES),
    M('O-info-cat-entropy-dropped', 'jaxgen/objectives/infogan.py',
      "bound = entropy + jnp.mean(log_q)\n        return -bound, {'L_I': bound, "
      "'H(c)': jnp.asarray(entropy, jnp.float32)}\n",
      "bound = jnp.mean(log_q)\n        return -bound, {'L_I': bound, "
      "'H(c)': jnp.asarray(entropy, jnp.float32)}\n", OBJECTIVES),
    M('O-info-fixed-std-not-logged', 'jaxgen/objectives/infogan.py',
      'else jnp.full_like(mean, math.log(fixed_std)))', 'else jnp.full_like(mean, fixed_std))',
      OBJECTIVES),
    M('O-info-code-offsets', 'jaxgen/objectives/infogan.py', 'start += k', 'start += 1',
      OBJECTIVES),
    M('O-info-trunk-flag-inverted', 'jaxgen/objectives/infogan.py',
      "(('discriminator',) if train_trunk else ())",
      "(('discriminator',) if not train_trunk else ())", OBJECTIVES),
    M('O-schedule-ignored', 'jaxgen/objectives/base.py',
      "value, term_metrics = scale * value, {**term_metrics, 'scale': scale}",
      "value, term_metrics = value, {**term_metrics, 'scale': scale}", OBJECTIVES),
    M('O-info-lambda-mixup', 'jaxgen/objectives/infogan.py',
      '**{p: lambda_continuous for p in players})', '**{p: lambda_categorical for p in players})',
      OBJECTIVES),
    M('O-vae-warmup-max', 'jaxgen/objectives/vae.py',
      'lambda step: jnp.minimum(1.0,', 'lambda step: jnp.maximum(1.0,', OBJECTIVES),
    M('O-vae-beta-ignored', 'jaxgen/objectives/vae.py',
      'return beta * kl, {', 'return kl, {', OBJECTIVES),
    M('O-vae-elbo-sign', 'jaxgen/objectives/vae.py',
      "jnp.mean(outputs['log_px_z'], axis=0) - kl)", "jnp.mean(outputs['log_px_z'], axis=0) + kl)",
      OBJECTIVES),
    M('O-iwae-sign', 'jaxgen/objectives/iwae.py',
      "return -jnp.mean(bound), {'bound'", "return jnp.mean(bound), {'bound'", OBJECTIVES),
    M('O-aae-reconstruction-weight', 'jaxgen/objectives/aae.py',
      'reconstruction_term, reconstruction=1.0)', 'reconstruction_term, reconstruction=0.5)',
      OBJECTIVES),

    # -- jaxgen/rules ----------------------------------------------------------------------
    M('R-gradient-of-all-losses', 'jaxgen/rules/base.py',
      'cotangent[loss_name] = jnp.ones_like(losses[loss_name])',
      'cotangent = {k: jnp.ones_like(v) for k, v in losses.items()}', RULES),
    M('R-update-sign', 'jaxgen/rules/base.py',
      'params[player] = optax.apply_updates(params[player], updates)',
      'params[player] = jax.tree.map(jnp.subtract, params[player], updates)', RULES),
    M('R-optimizer-state-not-kept', 'jaxgen/rules/base.py',
      'updates, opt_state[name] = optimizers[name].update(',
      'updates, _ = optimizers[name].update(', RULES),
    M('R-model-state-not-written', 'jaxgen/rules/base.py',
      '        model_state[player] = aux.model_state[player]\n', '', RULES),
    M('R-batch-index', 'jaxgen/rules/base.py',
      'index = j if k > 1 else num_batches - 1', 'index = j', RULES),
    M('R-repeat-key', 'jaxgen/rules/base.py',
      'phase_key = jax.random.fold_in(jax.random.fold_in(key, i), j)',
      'phase_key = jax.random.fold_in(key, i)', RULES),
    M('R-loss-metric-owner', 'jaxgen/rules/base.py',
      "return name[len('loss/'):] in phases[i].values()", 'return True', RULES),
    M('R-alternating-order', 'jaxgen/rules/alternating.py',
      '[phase(first), phase(rest)], [d_steps, 1]', '[phase(rest), phase(first)], [1, d_steps]',
      RULES),
    M('R-simultaneous-sequential', 'jaxgen/rules/simultaneous.py',
      '[{p: losses.get(p, p) for p in optimizers}]', '[{p: losses.get(p, p)} for p in optimizers]',
      RULES),
    M('R-phased-loss-names-ignored', 'jaxgen/rules/phased.py',
      'phase[player] = loss or player', 'phase[player] = player', RULES),
    M('R-extragradient-no-look-ahead', 'jaxgen/rules/extragradient.py',
      'return default_grads(objective, phase, half, model_state, opt_state, batch, key)',
      'return default_grads(objective, phase, params, model_state, opt_state, batch, key)',
      RULES),
    M('R-extragradient-keeps-look-ahead-state', 'jaxgen/rules/extragradient.py',
      'updates, _ = optimizers[player].update(',
      'updates, opt_state[player] = optimizers[player].update(', RULES),
    M('R-optimistic-alpha-beta-swapped', 'jaxgen/rules/optimistic.py',
      'scale_by_optimistic_gradient(alpha=1.0, beta=alpha)',
      'scale_by_optimistic_gradient(alpha=alpha, beta=1.0)', RULES),
    M('R-optimistic-before-optimizer', 'jaxgen/rules/optimistic.py',
      'optax.chain(opt, optax.scale_by_optimistic_gradient(alpha=1.0, beta=alpha))',
      'optax.chain(optax.scale_by_optimistic_gradient(alpha=1.0, beta=alpha), opt)', RULES),
    M('R-unroll-state-not-threaded', 'jaxgen/rules/unrolled.py',
      'updates, d_state = optimizer.update(', 'updates, _ = optimizer.update(', RULES),
    M('R-unroll-fresh-state', 'jaxgen/rules/unrolled.py',
      'd_params, d_state = point[discriminator], opt_state[discriminator]',
      'd_params, d_state = point[discriminator], optimizer.init(point[discriminator])', RULES),
    M('R-unroll-stop-gradient', 'jaxgen/rules/unrolled.py',
      'd_params = optax.apply_updates(d_params, updates)',
      'd_params = optax.apply_updates(d_params, jax.lax.stop_gradient(updates))', RULES),
    M('R-unroll-ascends', 'jaxgen/rules/unrolled.py',
      'return losses[loss]', 'return -losses[loss]', RULES),
    M('R-unroll-generator-first', 'jaxgen/rules/unrolled.py',
      '[{discriminator: discriminator}, rest], [d_steps, 1]',
      '[rest, {discriminator: discriminator}], [1, d_steps]', RULES),

    # -- jaxgen/training ------------------------------------------------------------------
    M('T-ema-weights-swapped', 'jaxgen/training/experiment.py',
      'step_size=1.0 - decay)', 'step_size=decay)', TRAINING),
    M('T-ema-from-raw-weights', 'jaxgen/training/experiment.py',
      'optax.incremental_update(params[p], e, step_size',
      'optax.incremental_update(params[p], state.params[p], step_size', TRAINING),
    M('T-ema-starts-at-zero', 'jaxgen/training/experiment.py',
      'ema={p: jax.tree.map(jnp.copy, params[p]) for p in averaged}',
      'ema={p: jax.tree.map(jnp.zeros_like, params[p]) for p in averaged}', TRAINING),
    M('T-ema-on-at-decay-zero', 'jaxgen/training/experiment.py',
      "if decay > 0.0 else ())", "if decay >= 0.0 else ())", TRAINING),
    M('T-sampling-ignores-ema', 'jaxgen/training/experiment.py',
      'params = {**state.params, **(state.ema if ema else {})}', 'params = {**state.params}',
      TRAINING),
    M('T-step-key-not-folded', 'jaxgen/training/experiment.py',
      'key = jax.random.fold_in(step_key, state.step)', 'key = step_key', TRAINING),
    M('T-root-keys-swapped', 'jaxgen/training/experiment.py',
      'init_key, data_key, step_key = jax.random.split(jax.random.key(seed), 3)',
      'init_key, step_key, data_key = jax.random.split(jax.random.key(seed), 3)', TRAINING),
    M('T-draw-index', 'jaxgen/training/experiment.py',
      'first = state.step * rule.num_batches', 'first = state.step', TRAINING),
    M('T-same-batch-for-every-phase', 'jaxgen/training/experiment.py',
      'draw(data, data_key, first + i, batch_size)', 'draw(data, data_key, first, batch_size)',
      TRAINING),
    M('T-batch-step-off-by-one', 'jaxgen/training/experiment.py',
      "batches['step'] = jnp.full((rule.num_batches,), state.step)",
      "batches['step'] = jnp.full((rule.num_batches,), state.step + 1)", TRAINING),
    M('T-step-counter', 'jaxgen/training/experiment.py',
      'TrainState(step=state.step + 1,', 'TrainState(step=state.step + 2,', TRAINING),
    M('T-fused-first-metrics', 'jaxgen/training/experiment.py',
      'jax.tree.map(lambda m: m[-1], metrics)', 'jax.tree.map(lambda m: m[0], metrics)',
      TRAINING),
    M('T-loop-no-event-at-the-end', 'jaxgen/training/periodic.py',
      'if step % every == 0 or step == self.config.num_steps}', 'if step % every == 0}', FUSED),
    M('T-loop-steps-to-next-off-by-one', 'jaxgen/training/periodic.py',
      '[every - step % every for every in self.periods.values()]',
      '[every - step % every + 1 for every in self.periods.values()]', FUSED),
    M('T-checkpoint-shapes-unchecked', 'jaxgen/training/checkpoint.py',
      'if stored[name] != wanted[name]:', 'if False:', MISFIT),
    # the safety of issue 26: health, the save check, restore checks, the lock
    M('T-health-inverted', 'jaxgen/training/health.py',
      'jnp.where((previous == 0) & ~finite, step, previous)',
      'jnp.where((previous == 0) & finite, step, previous)', SAFETY),
    M('T-health-overwrites-first-step', 'jaxgen/training/health.py',
      'jnp.where((previous == 0) & ~finite, step, previous)',
      'jnp.where(~finite, step, previous)', SAFETY),
    M('T-health-ignores-ema', 'jaxgen/training/health.py',
      'all_finite(params[p]) & all_finite(ema.get(p, {}))', 'all_finite(params[p])', SAFETY),
    M('T-health-last-step-named', 'jaxgen/training/health.py',
      'step = min(bad.values())', 'step = max(bad.values())', SAFETY),
    M('T-save-unchecked', 'jaxgen/training/periodic.py',
      '        self.check_health(state)\n        bad = health.nonfinite_parts(state)',
      '        bad = []', SAFETY),
    M('T-restore-unchecked', 'jaxgen/training/health.py',
      '    bad = nonfinite_parts(state)\n    if bad:', '    bad = []\n    if bad:', SAFETY),
    M('T-old-checkpoint-health-not-filled', 'jaxgen/training/checkpoint.py',
      "if k not in stored and (k in ADDED_LATER or not jax.tree_util.tree_leaves(v))}",
      "if k not in stored and not jax.tree_util.tree_leaves(v)}", SAFETY),
    M('T-lock-dead-owner-alive', 'jaxgen/training/lock.py',
      '    except ProcessLookupError:\n        return False',
      '    except ProcessLookupError:\n        return True', SAFETY),
    M('T-lock-recycled-pid-trusted', 'jaxgen/training/lock.py',
      'return start is None or _process_start(pid) in (None, start)', 'return True', SAFETY),
    M('T-lock-heartbeat-ignored', 'jaxgen/training/lock.py',
      'return record if age < self.stale_after else None', 'return record', SAFETY),
    M('T-lock-not-taken', 'jaxgen/training/loop.py',
      '        lock.acquire()  # refuses', '        pass  # refuses', SAFETY),
    M('T-compiled-late', 'jaxgen/training/loop.py',
      '            steps[n] = fn.lower(template, _data_shapes(dataset, stream, mesh, n)).compile()',
      '            steps[n] = fn',
      SAFETY),
)


def repo_files(root: str) -> list[str]:
    """Tracked files plus untracked ones git does not ignore (as they are on disk)."""
    out = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
                         cwd=root, check=True, capture_output=True).stdout
    names = sorted({n for n in out.decode().split('\0') if n})
    return [n for n in names if os.path.isfile(os.path.join(root, n))]


def copy_repo(root: str, files: list[str], dest: str) -> None:
    for name in files:
        target = os.path.join(dest, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(root, name), target)


def apply(mutant: Mutant, tree: str, write: bool = True) -> None:
    """Replaces the mutant's snippet in ``tree``; it must occur exactly once."""
    path = os.path.join(tree, mutant.file)
    with open(path) as f:
        text = f.read()
    count = text.count(mutant.original)
    if count != 1:
        raise SystemExit(f'mutation: {mutant.id}: the snippet {mutant.original!r} occurs '
                         f'{count} times in {mutant.file}, not once; update MUTANTS')
    if write:
        with open(path, 'w') as f:
            f.write(text.replace(mutant.original, mutant.mutated))


def pytest(tree: str, tests, env: dict, timeout: float) -> tuple[str, float, str]:
    """``(status, seconds, output)``: status 'passed', 'failed' or 'timeout'."""
    command = [sys.executable, '-m', 'pytest', '-q', '-x', '-p', 'no:cacheprovider', '-m', '',
               *tests]  # -m '': the slow tier too
    began = time.perf_counter()
    try:
        run = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True,
                             timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or '')
        return 'timeout', time.perf_counter() - began, out
    status = 'passed' if run.returncode == 0 else 'failed'
    return status, time.perf_counter() - began, run.stdout + run.stderr


def first_failure(output: str) -> str:
    match = re.search(r'^(FAILED|ERROR) (\S+)', output, re.MULTILINE)
    return match.group(2) if match else output.strip().splitlines()[-1] if output.strip() else ''


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--only', nargs='+', metavar='ID', help='run only these mutants')
    parser.add_argument('--check', action='store_true',
                        help='only check that every snippet occurs exactly once')
    parser.add_argument('--list', action='store_true', help='list the mutants and exit')
    parser.add_argument('--out', help='write the results as JSON here')
    parser.add_argument('--timeout', type=float, default=600.0,
                        help='seconds per pytest run (past it, the mutant counts as caught)')
    parser.add_argument('--exclude', nargs='+', default=(), metavar='TEST',
                        help='leave these test files out of every mutant\'s tests (to see '
                             'what the rest of the suite catches); a mutant left with none '
                             'is not run')
    parser.add_argument('--no-baseline', action='store_true',
                        help='skip the run of the unmodified copy')
    parser.add_argument('--cache-dir', default=os.path.join(tempfile.gettempdir(),
                                                            'jaxgen-mutation-cache'),
                        help='JAXGEN_CACHE_DIR for the copies (the compilation cache)')
    args = parser.parse_args(argv)

    ids = [m.id for m in MUTANTS]
    if len(set(ids)) != len(ids):
        raise SystemExit('mutation: duplicate mutant ids')
    mutants = MUTANTS
    if args.only:
        unknown = sorted(set(args.only) - set(ids))
        if unknown:
            raise SystemExit(f'mutation: unknown mutant ids {unknown}')
        mutants = tuple(m for m in MUTANTS if m.id in args.only)
    if args.exclude:
        kept = [m._replace(tests=tuple(t for t in m.tests
                                       if t.split('::')[0] not in args.exclude))
                for m in mutants]
        skipped = [m.id for m in kept if not m.tests]
        if skipped:
            print(f'no tests left for {len(skipped)} mutants, not run: {", ".join(skipped)}')
        mutants = tuple(m for m in kept if m.tests)
    if args.list:
        for m in mutants:
            print(f'{m.id:40s} {m.file}')
        return 0
    for m in mutants:  # every snippet, before anything runs
        apply(m, ROOT, write=False)
    if args.check:
        print(f'all {len(mutants)} snippets occur exactly once')
        return 0

    files = repo_files(ROOT)
    env = {**os.environ, 'JAXGEN_CACHE_DIR': args.cache_dir, 'PYTHONDONTWRITEBYTECODE': '1'}
    env.pop('PYTEST_ADDOPTS', None)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix='jaxgen-mutation-') as scratch:
        if not args.no_baseline:
            tree = os.path.join(scratch, 'baseline')
            copy_repo(ROOT, files, tree)
            where = subprocess.run([sys.executable, '-c', 'import jaxgen; print(jaxgen.__file__)'],
                                   cwd=tree, env=env, capture_output=True, text=True).stdout
            if not where.startswith(tree):
                raise SystemExit(f'mutation: the copy imports jaxgen from {where.strip()!r}, '
                                 f'not from the copy {tree}')
            tests = sorted({t for m in mutants for t in m.tests})
            status, seconds, output = pytest(tree, tests, env, args.timeout)
            print(f'baseline: {status} in {seconds:.0f}s ({len(tests)} test selections)',
                  flush=True)
            if status != 'passed':
                print(output[-4000:])
                raise SystemExit('mutation: the tests fail without any mutant; fix that first')
            shutil.rmtree(tree)
        results = []
        for n, m in enumerate(mutants, 1):
            tree = os.path.join(scratch, m.id)
            copy_repo(ROOT, files, tree)
            apply(m, tree)
            status, seconds, output = pytest(tree, m.tests, env, args.timeout)
            caught = status != 'passed'
            results.append({'id': m.id, 'folder': os.path.dirname(m.file), 'file': m.file,
                            'original': m.original, 'mutated': m.mutated,
                            'tests': list(m.tests), 'status': status, 'caught': caught,
                            'caught_by': first_failure(output) if caught else '',
                            'seconds': round(seconds, 1)})
            print(f'[{n}/{len(mutants)}] {m.id:40s} {"caught" if caught else "MISSED"}'
                  f' ({status}, {seconds:.0f}s) {results[-1]["caught_by"]}', flush=True)
            if not caught:
                print(output[-2000:])
            shutil.rmtree(tree)
    wall = time.perf_counter() - began

    print()
    print('| folder | planted | caught |')
    print('|---|---|---|')
    for folder in sorted({r['folder'] for r in results}):
        rows = [r for r in results if r['folder'] == folder]
        print(f'| {folder} | {len(rows)} | {sum(r["caught"] for r in rows)} |')
    caught = sum(r['caught'] for r in results)
    print(f'| all | {len(results)} | {caught} |')
    print(f'\n{caught} of {len(results)} mutants caught in {wall:.0f}s')
    missed = [r['id'] for r in results if not r['caught']]
    if missed:
        print('missed: ' + ', '.join(missed))
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump({'caught': caught, 'planted': len(results), 'wall_s': round(wall, 1),
                       'mutants': results}, f, indent=1)
    return 0 if not missed else 1


if __name__ == '__main__':
    sys.exit(main())
