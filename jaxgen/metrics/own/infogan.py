"""InfoGAN: categorical-code accuracy and continuous-code correlations."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.data.pixels import scale_images
from jaxgen.metrics.codes import code_correlations, hungarian_accuracy
from jaxgen.models.layers import compiled


def evaluation(model):
    def evaluate(variables, arrays, key, num_codes: int = 5000) -> dict[str, float]:
        """Categorical-code accuracy on labelled test images (Hungarian matching of
        Q's most likely category to the labels), and the correlation between
        sampled continuous codes and Q's estimates on generated images."""
        images = arrays['image']
        predictions = [np.asarray(categories(model, variables, images[start:start + 1000]))
                       for start in range(0, len(images), 1000)]
        metrics = {'cat_accuracy': hungarian_accuracy(np.concatenate(predictions),
                                                      np.asarray(arrays['label']))}
        if model.codes.continuous:
            codes = model.codes.sample(key, num_codes)
            estimates = model.recognise(variables, model.decode(variables, codes))
            for j, r in enumerate(code_correlations(np.asarray(codes['cont']),
                                                    np.asarray(estimates['cont_mean']))):
                metrics[f'cont_corr_c{j + 2}'] = r
        return metrics
    return evaluate


@compiled()  # kept on the model object, as its own methods' programs are
def categories(model, variables, images) -> jax.Array:
    """uint8 images -> Q's most likely value of the first categorical code."""
    q = model.recognise(variables, scale_images(images, model.data_info.get('scale', 'tanh')))
    return jnp.argmax(q['cat_logits'][:, :model.codes.categorical[0]], axis=-1)
