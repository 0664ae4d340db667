"""benchmarks/text2image_consistency.py's bookkeeping, with the loading and the measurement
replaced by stand-ins: every workdir gets its own row even where basenames repeat, and
``--noema`` hands the metric G's trained weights (the record says which were measured)."""

import json
import sys
import types

from benchmarks import text2image_consistency as bench


class FakeExperiment:
    def __init__(self, workdir, averaged):
        self.workdir, self.ema = workdir, (0.999, ('generator',) if averaged else ())
        self.config = types.SimpleNamespace(data={'name': 'captioned_glyphs'})
        self.model = None

    def variables(self, state, ema=True):
        return {'workdir': self.workdir, 'averaged': ema and bool(self.ema[1])}


def run(monkeypatch, tmp_path, capsys, workdirs, *flags):
    measured = []

    def consistency(model, variables, test, key, num, judge, real):
        measured.append(variables)
        score = 0.5 if variables['averaged'] else 0.25
        return {f'{c}_acc_{p}': score for c in ('class', 'all') for p in ('heldin', 'heldout')}

    monkeypatch.setattr(bench, 'load', lambda w, step: (FakeExperiment(w, True), None, 12000))
    monkeypatch.setattr(bench.data, 'load', lambda config, split: types.SimpleNamespace(
        arrays={}, info={}))
    monkeypatch.setattr(bench, 'judge_for', lambda config, info: types.SimpleNamespace(
        names=('class',)))
    monkeypatch.setattr(bench, 'consistency', consistency)
    out = tmp_path / 'r.json'
    monkeypatch.setattr(sys, 'argv', ['bench', '--workdirs', ','.join(workdirs),
                                      '--out', str(out), *flags])
    bench.main()
    return measured, json.loads(out.read_text()), capsys.readouterr().out


def test_runs_sharing_a_basename_keep_their_own_rows(monkeypatch, tmp_path, capsys):
    workdirs = ['runs/seed0/gan_cls', 'runs/seed1/gan_cls/']
    measured, results, printed = run(monkeypatch, tmp_path, capsys, workdirs)
    assert [v['workdir'] for v in measured] == workdirs
    assert list(results) == ['runs/seed0/gan_cls', 'runs/seed1/gan_cls']
    assert '| runs/seed0/gan_cls | 50.0%' in printed and '| runs/seed1/gan_cls | 50.0%' in printed


def test_noema_measures_the_trained_weights(monkeypatch, tmp_path, capsys):
    measured, results, _ = run(monkeypatch, tmp_path, capsys, ['runs/a/gan_cls'])
    assert measured[0]['averaged'] and results['runs/a/gan_cls']['ema'] is True
    measured, results, printed = run(monkeypatch, tmp_path, capsys, ['runs/a/gan_cls'],
                                     '--noema')
    assert not measured[0]['averaged'] and results['runs/a/gan_cls']['ema'] is False
    assert '| runs/a/gan_cls | 25.0%' in printed
