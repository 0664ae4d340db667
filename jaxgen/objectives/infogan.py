"""InfoGAN = the GAN objective + λ · (−L_I), with no special-case trainer.

``L_I(G, Q) = E[log Q(c | G(z, c))] + H(c)`` lower-bounds the mutual
information I(c; G(z, c)) (Chen et al., 2016, Lemma 5.1). It is one term per
code type, each weighted by its own λ, added to the losses of the generator
and of the Q head, and of the discriminator only when ``train_trunk`` is set
(the trunk Q shares with D then learns from the information term too).

* categorical codes: ``log Q`` is the log-softmax of Q's logits (a cross-entropy);
  ``H(c) = sum log k``, so ``L_I <= H(c)`` with equality iff Q is certain and right;
* continuous codes: ``log Q`` is a Gaussian log-likelihood around Q's mean with
  a fixed standard deviation or the one Q predicts (``learn_std``);
  ``H(c) = n log 2`` for Uniform(-1, 1) codes.

Each term logs its bound ``L_I`` next to its ceiling ``H(c)``.

Not in the paper, off by default: ``lambda_invariant > 0`` adds the categorical bound
once more, read by Q from a randomly rotated, rescaled and shifted copy of each fake
(the model's ``augment_*`` settings). By the data-processing inequality it bounds
I(c; T(G(z, c))) <= I(c; G(z, c)), so it is maximal only when the code is carried by
features those transformations keep: digit identity rather than slant, size or place
(the identity-preserving transformations of Elastic-InfoGAN, Ojha et al., 2020).

``info_start`` and ``info_ramp`` schedule the λs: zero before step ``info_start``, then
rising linearly to their full value over ``info_ramp`` steps (0: at once), logged as
``<term>/scale``. The objective gives the schedule the batch's step; a batch without one
is an error. The default, 0 and 0, is the paper's: no schedule, the information term
from the first step.
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from jaxgen import losses
from jaxgen.errors import JaxgenError
from jaxgen.models.gan.latents import LatentCodes
from jaxgen.objectives.base import Objective, reject_ignored
from jaxgen.objectives.gan import gan_objective


def info_schedule(start: int = 0, ramp: int = 0):
    """``step -> scale`` of the information terms: 0 before ``start``, then linear up
    to 1 over ``ramp`` steps; ``None`` (no schedule: always 1) for the defaults."""
    for name, value in (('info_start', start), ('info_ramp', ramp)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise JaxgenError(f'config.objective.{name} must be a whole number of steps >= 0, '
                              f'got {value!r}')
    if not start and not ramp:
        return None

    def scale(step):
        since = jnp.asarray(step, jnp.float32) - start
        if ramp:
            return jnp.clip((since + 1.0) / ramp, 0.0, 1.0)
        return (since >= 0).astype(jnp.float32)
    return scale


def categorical_info_term(codes: LatentCodes, logits_key: str = 'q_cat_logits'):
    """``-L_I`` of the categorical codes, from ``outputs[logits_key]`` and ``codes['cat']``."""
    entropy = codes.categorical_entropy()

    def term(outputs):
        logits, cat = outputs[logits_key], outputs['codes']['cat']
        log_q, start = 0.0, 0
        for i, k in enumerate(codes.categorical):
            log_q = log_q + losses.categorical_log_likelihood(
                logits=logits[:, start:start + k], labels=cat[:, i])
            start += k
        bound = entropy + jnp.mean(log_q)
        return -bound, {'L_I': bound, 'H(c)': jnp.asarray(entropy, jnp.float32)}
    return term


def continuous_info_term(codes: LatentCodes, learn_std: bool, fixed_std: float):
    """``-L_I`` of the continuous codes, a Gaussian log-likelihood under Q."""
    entropy = codes.continuous_entropy()
    if not learn_std and not fixed_std > 0:
        raise JaxgenError(f'config.objective.fixed_std must be positive, got {fixed_std}')
    if learn_std and fixed_std != 1.0:
        raise JaxgenError(f'config.objective.fixed_std={fixed_std} has no effect with learn_std'
                          f'=True (Q predicts its std): leave it at 1.0')

    def term(outputs):
        mean = outputs['q_cont_mean']
        log_std = (outputs['q_cont_log_std'] if learn_std
                   else jnp.full_like(mean, math.log(fixed_std)))
        log_q = losses.gaussian_log_likelihood(mean=mean, log_std=log_std,
                                               targets=outputs['codes']['cont'])
        bound = entropy + jnp.mean(log_q)
        return -bound, {'L_I': bound, 'H(c)': jnp.asarray(entropy, jnp.float32),
                        'std': jnp.mean(jnp.exp(log_std))}
    return term


def infogan_objective(model, *, lambda_categorical: float = 1.0,
                      lambda_continuous: float = 1.0, learn_std: bool = False,
                      fixed_std: float = 1.0, train_trunk: bool = True,
                      generator_loss: str = 'non_saturating',
                      label_smoothing: float = 0.0, info_start: int = 0,
                      info_ramp: int = 0, lambda_invariant: float = 0.0) -> Objective:
    """The GAN objective plus one weighted information term per code type."""
    schedule = info_schedule(info_start, info_ramp)
    objective = gan_objective(model, generator_loss=generator_loss,
                              label_smoothing=label_smoothing)
    players = ('generator', 'q') + (('discriminator',) if train_trunk else ())
    codes = model.codes
    if codes.categorical:
        objective = objective.with_term(
            'info_cat', categorical_info_term(codes), schedule,
            **{p: lambda_categorical for p in players})
    if codes.continuous:
        objective = objective.with_term(
            'info_cont',
            continuous_info_term(codes, learn_std, fixed_std), schedule,
            **{p: lambda_continuous for p in players})
    if lambda_invariant:
        if getattr(model, 'augment', None) is None:
            raise JaxgenError('config.objective.lambda_invariant needs transformed fakes: set '
                              'config.model.augment_rotate, augment_scale or augment_shift')
        objective = objective.with_term(
            'info_cat_inv',
            categorical_info_term(codes, 'q_aug_cat_logits'), schedule,
            **{p: lambda_invariant for p in players})
    return objective


OPTIONS = ('lambda_categorical', 'lambda_continuous', 'learn_std', 'fixed_std', 'train_trunk',
           'generator_loss', 'label_smoothing', 'info_start', 'info_ramp', 'lambda_invariant')


def build(objective_config, model) -> Objective:
    if not hasattr(model, 'codes'):
        raise JaxgenError(f'objective infogan needs a model with latent codes (model.name='
                          f'infogan), not {type(model).__name__}')
    c = objective_config
    reject_ignored(c, OPTIONS)
    return infogan_objective(model, lambda_categorical=c.lambda_categorical,
                             lambda_continuous=c.lambda_continuous, learn_std=c.learn_std,
                             fixed_std=c.fixed_std, train_trunk=c.train_trunk,
                             generator_loss=c.generator_loss,
                             label_smoothing=c.label_smoothing,
                             info_start=c.get('info_start', 0), info_ramp=c.get('info_ramp', 0),
                             lambda_invariant=c.get('lambda_invariant', 0.0))
