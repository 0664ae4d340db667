"""Mode coverage on 2-D Gaussian mixtures, following the VEEGAN protocol.

Srivastava et al. (2017), section 5.1: a generated sample is *high quality*
when it lies within ``3 * std`` of its nearest mode; a mode is *covered* when
it is the nearest mode of at least one high-quality sample. They report both
from 2,500 samples. PacGAN (Lin et al., 2018) adds the reverse KL divergence
``KL(q || p)`` between the histogram ``q`` of samples over their nearest modes
and the true mixture's uniform weights ``p``; it is 0 when every mode gets the
same share and ``log(num_modes)`` when all samples sit on one mode.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


@jax.jit
def nearest_modes(samples: jax.Array, centers: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Each sample's nearest centre ``[n]`` and its distance to it ``[n]``."""
    distances = jnp.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=-1)
    return jnp.argmin(distances, axis=1), jnp.min(distances, axis=1)


def mode_coverage(samples, centers, std: float, *, threshold: float = 3.0) -> dict[str, float]:
    """``modes_covered``, ``high_quality`` (a fraction) and ``reverse_kl``.

    Args:
      samples: ``[n, 2]`` generated points (VEEGAN uses n = 2,500).
      centers: ``[m, 2]`` the mixture's modes, weighted equally.
      std: the standard deviation of every mode.
      threshold: a sample within ``threshold * std`` of its nearest mode is high quality.

    The reverse KL uses every sample's nearest mode (high quality or not), so it
    measures how evenly the model spreads its mass over the modes.
    """
    samples = np.asarray(samples, np.float32)
    centers = np.asarray(centers, np.float32)
    if samples.ndim != 2 or centers.ndim != 2 or samples.shape[1] != centers.shape[1]:
        raise ValueError(f'need samples [n, d] and centers [m, d]; got {samples.shape} '
                         f'and {centers.shape}')
    if not std > 0:
        raise ValueError(f'std must be positive, got {std}')
    nearest, distance = (np.asarray(a) for a in nearest_modes(samples, centers))
    good = distance <= threshold * std
    num_modes = centers.shape[0]
    covered = np.unique(nearest[good]).size
    q = np.bincount(nearest, minlength=num_modes) / max(len(nearest), 1)
    nonzero = q > 0
    reverse_kl = float(np.sum(q[nonzero] * np.log(q[nonzero] * num_modes)))
    return {'modes_covered': float(covered), 'high_quality': float(np.mean(good)),
            'reverse_kl': reverse_kl}
