"""Flax Linen models. ``build(model_config, data_info)`` picks one by name."""

from jaxgen import registry


def build(model_config, data_info):
    """The model bundle named ``model_config.name`` (a module in this package)."""
    module = registry.lookup('jaxgen.models', model_config.name, 'model')
    return module.build(model_config, data_info)
