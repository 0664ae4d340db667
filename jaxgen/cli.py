"""Shared behaviour of jaxgen's command-line entry points."""

from __future__ import annotations

import logging as py_logging
import os
import re
import sys
from typing import Callable, Sequence

from absl import flags, logging

from jaxgen.errors import JaxgenError

EXIT_BAD_INPUT = 2

_OWN = (os.sep + 'jaxgen' + os.sep, 'train.py')


class _QuietThirdParty(py_logging.Filter):
    """Keeps jaxgen's own INFO lines and everybody's warnings and errors.

    Orbax logs dozens of INFO lines per checkpoint; they bury the progress line.
    """

    def filter(self, record: py_logging.LogRecord) -> bool:
        return record.levelno >= py_logging.WARNING or any(
            part in record.pathname for part in _OWN)


def quiet_third_party_logs() -> None:
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    logging.get_absl_handler().addFilter(_QuietThirdParty())


def run_or_explain(fn: Callable[[], object]) -> object:
    """Runs ``fn``; a ``JaxgenError`` becomes one ``error:`` line and exit code 2."""
    try:
        return fn()
    except JaxgenError as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def load_config(name: str = 'config'):
    """The parsed ``--config``, or one error line if its file cannot be loaded.

    ml_collections defers a load failure until the config is first used.
    """
    from ml_collections import config_flags  # pylint: disable=import-outside-toplevel
    config = flags.FLAGS[name].value
    try:
        config.keys()
    except OSError as e:
        path = config_flags.get_config_filename(flags.FLAGS[name])
        reason = str(e).strip().splitlines()[-1].strip()
        print(f'error: cannot load config file {path}: {reason}; pass an existing config '
              'such as configs/dcgan.py', file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    return config


def _one_line(error: BaseException) -> str:
    text = str(error.args[0] if error.args else error).strip().strip("'\"")
    text = text.replace('\\n', '\n').replace("\\'", "'")
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    return ' '.join(lines)


def parse_flags(argv: Sequence[str]) -> list[str]:
    """absl's flag parsing, with each kind of bad flag turned into one clear line.

    An override of a key the config does not have, a value of the wrong type
    and a config file that cannot be loaded all exit with code 2.
    """
    try:
        return flags.FLAGS(argv)
    except AttributeError as e:  # ml_collections: a locked config has no such key
        match = re.search(r"'?([A-Za-z0-9_]+)'?\s*(Did you mean.*)?$", _one_line(e))
        key = match.group(1) if match else _one_line(e)
        hint = f' ({match.group(2).rstrip(".")})' if match and match.group(2) else ''
        message = (f'the config has no key {key!r}{hint}; an override must name a key that '
                   'the config file defines')
    except flags.UnrecognizedFlagError as e:
        message = ' '.join(str(e).split()).replace(' ?', '?') + '; --help lists the flags'
    except flags.Error as e:
        text = ' '.join(str(e).split())
        missing = re.search(r'Flag --(\S+) must have a value other than None', text)
        if missing:
            message = f'--{missing.group(1)} is required; --help says what it takes'
        elif text.startswith('flag --config'):
            message = text + '; give a value of the type the config file uses'
        else:
            message = text + '; --help gives each flag\'s type'
    except (KeyError, TypeError, ValueError) as e:
        message = f'bad flag value: {_one_line(e)}'
    print(f'error: {message}', file=sys.stderr)
    sys.exit(EXIT_BAD_INPUT)
