"""NADE, PixelCNN, PixelRNN: the exact test negative log-likelihood.

Binarised data: the test images are binarised once, with seed 0
(``metrics.own.vae.evaluation_images``); the NLL is in nats per image. 8-bit data:
also in bits per dimension. NADE with ``eval_orderings`` > 1 adds the ensemble's
NLL over that many orderings (EoNADE).
"""

from __future__ import annotations

import math

import numpy as np

from jaxgen.metrics.own.vae import evaluation_images


def evaluation(model):
    def evaluate(variables, arrays, key, num_examples: int | None = None,
                 chunk: int = 500, orderings: int | None = None) -> dict[str, float]:
        del key
        images = evaluation_images(arrays, model.data_info)[:num_examples]
        lls, ensemble = [], []
        orderings = orderings or getattr(model, 'eval_orderings', 1)
        for start in range(0, len(images), chunk):
            x = images[start:start + chunk]
            lls.append(np.asarray(model.log_prob(variables, x)))
            if orderings > 1:
                ensemble.append(np.asarray(model.ensemble_log_prob(
                    variables, model.check_images(x), orderings)))
        nll = -float(np.concatenate(lls).mean())
        out = {'nll_nats': nll}
        if model.levels == 256:
            out['bits_per_dim'] = nll / (model.num_dims * math.log(2))
        if ensemble:
            out[f'nll_nats_ensemble{orderings}'] = -float(np.concatenate(ensemble).mean())
        return out
    return evaluate
