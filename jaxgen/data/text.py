"""Captions as the ids a text encoder reads, by character or by word.

Reed et al. (2016a, "Learning deep representations of fine-grained visual descriptions")
compare text encoders that read a caption character by character (the char-CNN-RNN) with
ones that read it word by word (the word-CNN-RNN, the word-LSTM). A captioned dataset
stores both: ``chars`` int32 ``[N, max_chars]`` in its info's ``char_vocabulary`` and
``tokens`` int32 ``[N, max_words]`` in its ``word_vocabulary`` (id 0 pads, id 1 is
unknown). :func:`spec` names the field, vocabulary and length of one level;
:meth:`TextSpec.encode` turns a user's sentence into that level's ids.

A character encoder reads any sentence written in its characters, so words the captions
never used are allowed and reported; a word encoder can only read its own words, so any
other word is one line naming it.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

import numpy as np

from jaxgen.data import kinds
from jaxgen.errors import JaxgenError

# level: (batch field, info key of the vocabulary, info key of the padded length)
LEVELS = {'char': ('chars', 'char_vocabulary', 'max_chars'),
          'word': ('tokens', 'word_vocabulary', 'max_words')}
LEVEL_OF = {field: level for level, (field, _, _) in LEVELS.items()}  # chars -> char
FIELDS = tuple(LEVEL_OF)
SPECIAL = ('<pad>', '<unk>')
EXAMPLE = 'a thick seven slanted to the left'


@dataclasses.dataclass(frozen=True)
class TextSpec:
    """How one level of a dataset's captions is stored: ``field`` of the batch, ids into
    ``vocabulary``, padded to ``length``; ``words`` is the word vocabulary when the
    dataset has one (to report words the captions never used)."""
    level: str
    field: str
    vocabulary: tuple[str, ...]
    length: int
    words: tuple[str, ...] = ()

    @property
    def separator(self) -> str:
        return '' if self.level == 'char' else ' '

    @property
    def units(self) -> str:
        return 'characters' if self.level == 'char' else 'words'

    def encode(self, text: str) -> tuple[np.ndarray, list[str]]:
        """``(ids int32 [length], words the captions never used)``; one line for an empty
        caption, a character (word) outside the vocabulary, named, or a caption too long."""
        if not any(v.lower() != v for v in self.vocabulary if v not in SPECIAL):
            text = text.lower()  # the captions are lower-case: so is what the model read
        text = ' '.join(text.split())
        if not text:
            raise JaxgenError(f'the caption is empty; write e.g. --text "{EXAMPLE}"')
        ids = {v: i for i, v in enumerate(self.vocabulary) if v not in SPECIAL}
        units = list(text) if self.level == 'char' else text.split()
        outside = sorted({u for u in units if u not in ids})
        if outside:
            reads = (repr(''.join(sorted(ids))) if self.level == 'char'
                     else ' '.join(sorted(ids)))
            raise JaxgenError(f'the caption {text!r} has {self.units} outside the text '
                              f'encoder\'s vocabulary: {" ".join(repr(u) for u in outside)}; '
                              f'it reads {reads}')
        if len(units) > self.length:
            raise JaxgenError(f'the caption {text!r} has {len(units)} {self.units}; the model '
                              f'reads at most {self.length}')
        known = set(self.words)
        unused = [w for w in dict.fromkeys(text.split()) if known and w not in known]
        return np.array([ids[u] for u in units] + [0] * (self.length - len(units)),
                        np.int32), unused

    def decode(self, ids) -> str:
        """The text of one row of ids (padding and unknown ids dropped)."""
        return self.separator.join(self.vocabulary[int(i)] for i in np.asarray(ids)
                                   if int(i) > 1)


def spec(data_info: Mapping, level: str = 'char', model: str = 'text_encoder') -> TextSpec:
    """The :class:`TextSpec` of ``level`` in a dataset's ``data_info``; one line for an
    unknown level and for data without captions at that level."""
    if level not in LEVELS:
        raise JaxgenError(f'model.text_level must be one of {sorted(LEVELS)} (characters as '
                          f'the char-CNN-RNN reads them, or words), got {level!r}')
    field, vocabulary_key, length_key = LEVELS[level]
    vocabulary = data_info.get(vocabulary_key)
    if kinds.kind(data_info) != 'images' or not vocabulary:
        raise JaxgenError(f'{model} needs captioned images (fields image and {field}, '
                          f'text_level={level!r}); the dataset {data_info.get("name")!r} has '
                          f'no {field}: use captioned_mnist or captioned_glyphs')
    return TextSpec(level=level, field=field, vocabulary=tuple(vocabulary),
                    length=int(data_info.get(length_key, 32)),
                    words=tuple(data_info.get('word_vocabulary') or ()))
