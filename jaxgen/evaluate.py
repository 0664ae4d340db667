"""Evaluate a trained model from its checkpoint: its own metrics and the shared ones.

    python -m jaxgen.evaluate --workdir runs/dcgan        # FD, KID, score, P/R, SWD, diversity, PPL
    python -m jaxgen.evaluate --workdir runs/infogan                      # + code accuracy
    python -m jaxgen.evaluate --workdir runs/vae --set num_samples=5000   # + IWAE NLL, k = 5000

Loads ``<workdir>/config.json`` and the latest (or ``--step``) checkpoint (the
generator's EMA weights when the run kept them), loads the test split, runs the
model bundle's own ``evaluate`` and, for image models, the distribution metrics
of ``--samples`` samples against the test split in the domain classifier's
features (``jaxgen/metrics/suite.py``; the classifier is trained and cached on
first use) and, with ``--perceptual`` (default), SWD, domain-LPIPS diversity and
PPL (``jaxgen/metrics/perceptual.py``; domain LPIPS is not comparable with
published LPIPS). A translation model is measured on the first ``--samples`` test
images of each target (``jaxgen/metrics/translation.py``: L1, SSIM, content kept,
FD, cycle error, target-domain accuracy). Prints a table and writes ``<workdir>/evaluation_<step>.json``
(``evaluation_<step>_raw.json`` with ``--noema``: the trained weights of a run that keeps an EMA).
"""

from __future__ import annotations

import json
import time

from absl import app, flags, logging

from jaxgen import cli
from jaxgen.errors import JaxgenError

# JAX and the metrics (about 2 s to import) are imported in evaluate(), so a mistyped
# flag or --set is answered at once. pylint: disable=import-outside-toplevel


def define_flags() -> None:
    """The command line's flags (defined on demand, so importing defines nothing)."""
    flags.DEFINE_string('workdir', None, 'A training workdir (holds config.json and checkpoints).')
    flags.DEFINE_integer('step', None, 'Checkpoint step (default: the latest).')
    flags.DEFINE_multi_string('set', [], 'Keyword arguments of the model\'s evaluate, as '
                              'name=integer (e.g. num_samples=5000, num_examples=1000).')
    flags.DEFINE_integer('seed', 0, 'Seed of the evaluation\'s random draws.')
    flags.DEFINE_integer('seed_index', None, 'Which seed of a many-seed run '
                         '(config.num_seeds > 1) to evaluate.')
    flags.DEFINE_integer('samples', 10000, 'Samples for the distribution metrics (FD, KID, '
                         'classifier score, precision/recall, SWD); 0: skip them.')
    flags.DEFINE_bool('perceptual', True, 'Also SWD, domain-LPIPS diversity and PPL '
                      '(jaxgen/metrics/perceptual.py).')
    flags.DEFINE_integer('pairs', 1000, 'Sample pairs for the diversity.')
    flags.DEFINE_integer('ppl_samples', 2000, 'Latent paths for PPL; 0: skip it.')
    flags.DEFINE_bool('ema', True, 'The averaged weights where the run kept them; --noema: '
                      'the trained ones (a short run\'s average is still mostly its start).')
    flags.mark_flags_as_required(['workdir'])


def parse_settings(settings: list[str]) -> dict[str, int]:
    out = {}
    for item in settings:
        name, _, value = item.partition('=')
        if not name or not value.lstrip('-').isdigit():
            raise JaxgenError(f'--set {item!r} is not name=integer; e.g. --set num_samples=5000')
        out[name] = int(value)
    return out


def evaluate(workdir: str, step: int | None = None, settings: dict | None = None,
             seed: int = 0, samples: int = 10000,
             seed_index: int | None = None, perceptual: bool = True, pairs: int = 1000,
             ppl_samples: int = 2000, ema: bool = True) -> dict[str, float]:
    import jax
    from jaxgen import data
    from jaxgen.data import kinds
    from jaxgen.metrics import classifier, own, suite
    from jaxgen.metrics import perceptual as perceptual_lib
    from jaxgen.metrics import translation
    from jaxgen.metrics.lpips import domain_lpips_distance
    from jaxgen.models import bundle
    from jaxgen.training import workdir as workdir_lib
    from jaxgen.training.restore import load
    exp, state, step = load(workdir, step, seed_index)
    image_model = (kinds.kind(exp.model.data_info) == 'images'
                   and not bundle.translates(exp.model))  # samples drawn from nothing
    own_evaluate = own.for_model(exp.model)
    translating = bundle.translates(exp.model) and samples
    if own_evaluate is None and not (image_model and samples) and not translating:
        raise JaxgenError(f'model {exp.config.model.name!r} defines no evaluation yet')
    if settings and own_evaluate is None:
        raise JaxgenError(f'--set: model {exp.config.model.name!r} has no evaluate of its own')
    test = data.load(exp.config.data, 'test')
    started = time.perf_counter()
    variables = exp.variables(state, ema)  # the EMA weights where kept, unless --noema
    key, own_key = jax.random.split(jax.random.key(seed))
    results, classifier_info = {}, None
    if own_evaluate is not None:
        try:
            results = own_evaluate(variables, test.arrays, own_key, **(settings or {}))
        except TypeError as e:
            raise JaxgenError(f'--set names an argument the model\'s evaluate does not take '
                              f'({e})') from e
    if image_model and samples:
        extractor = classifier.for_config(exp.config.data, test.name)
        also = None
        if perceptual:
            distance = domain_lpips_distance(extractor)
            also = lambda real, fake: perceptual_lib.model_metrics(  # noqa: E731
                exp.model, variables, real, fake, distance, jax.random.fold_in(key, 7),
                pairs, ppl_samples, test.arrays)
        results.update(suite.model_metrics(exp.model, variables, test.arrays, extractor, key,
                                           samples, also))
        results['classifier_test_accuracy'] = extractor.info['test_accuracy']
        classifier_info = {k: extractor.info[k] for k in (
            'target', 'shape', 'test_accuracy', 'attribute_accuracy', 'settings_hash')
            if k in extractor.info}
    if translating:
        def classifiers(field, target):  # the classifier of the images in ``field``
            config = {**exp.config.data.to_dict(), 'image_field': '' if field == 'image'
                      else field}
            return classifier.for_config(config, test.name, target)
        results.update(translation.translation_metrics(exp.model, variables, test.arrays, key,
                                                       samples, classifiers))
    results = {k: float(v) for k, v in results.items()}
    record = {'step': step, 'seconds': time.perf_counter() - started, 'settings': settings,
              'samples': samples, 'ema': bool(state.ema) and ema, **results}
    if classifier_info:
        record['classifier'] = classifier_info
    path = workdir_lib.outputs(workdir, seed_index) / f'evaluation_{step}{"_raw" if state.ema and not ema else ""}.json'
    workdir_lib.write_whole(path, json.dumps(record, indent=2))
    for name, value in sorted(results.items()):
        print(f'{name:24s} {value:.4f}')
    logging.info('wrote %s (%.0fs)', path, record['seconds'])
    return results


def main(argv):
    del argv
    cli.quiet_third_party_logs()
    f = flags.FLAGS
    settings = cli.run_or_explain(lambda: parse_settings(f.set))
    cli.run_or_explain(lambda: evaluate(f.workdir, f.step, settings, f.seed,
                                        f.samples, f.seed_index, f.perceptual, f.pairs,
                                        f.ppl_samples, f.ema))


if __name__ == '__main__':
    define_flags()
    app.run(main, flags_parser=cli.parse_flags)
