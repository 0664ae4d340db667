"""Flax Linen models, by family: ``gan/``, ``autoencoders/``, ``translation/``, and the shared
``layers/``.

``build(model_config, data_info)`` imports only the model named by ``model_config.name``
(:data:`MODELS`) and returns its bundle (:mod:`jaxgen.models.bundle`).
"""

from jaxgen import registry

# config.model.name -> the module whose build(model_config, data_info) makes the bundle.
MODELS = {
    'mlp': 'jaxgen.models.gan.mlp',
    'dcgan': 'jaxgen.models.gan.dcgan',
    'cgan': 'jaxgen.models.gan.cgan',
    'infogan': 'jaxgen.models.gan.infogan',
    'growing': 'jaxgen.models.gan.growing',
    'vae': 'jaxgen.models.autoencoders.vae',
    'aae': 'jaxgen.models.autoencoders.aae',
    'pix2pix': 'jaxgen.models.translation.pix2pix',
    'cyclegan': 'jaxgen.models.translation.cyclegan',
    'stargan': 'jaxgen.models.translation.stargan',
    'nade': 'jaxgen.models.autoregressive.nade',
    'pixelcnn': 'jaxgen.models.autoregressive.pixelcnn',
    'pixelrnn': 'jaxgen.models.autoregressive.pixelrnn',
    'progan': 'jaxgen.models.progressive.progan',
    'stylegan': 'jaxgen.models.progressive.stylegan',
    'text_encoder': 'jaxgen.models.conditional.text_encoder',
    'text2image': 'jaxgen.models.conditional.text2image',
    'puzzlegan': 'jaxgen.models.conditional.puzzlegan',
}


def build(model_config, data_info):
    """The model bundle named ``model_config.name``."""
    module = registry.lookup_module(MODELS, model_config.name, 'model')
    return module.build(model_config, data_info)
