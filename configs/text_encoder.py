"""The char-CNN-RNN text encoder (Reed et al., 2016a) trained against an image encoder with
the deep symmetric structured joint embedding, for the text-to-image GAN to start from
(``config.init_from.text_encoder``):

    python train.py --config configs/text_encoder.py --workdir runs/t2i/text_encoder
    python train.py --config configs/text_encoder.py:captioned_glyphs \\
        --workdir runs/t2i/text_encoder_glyphs
    python train.py --config configs/text_encoder.py:captioned_mnist,word \\
        --workdir runs/t2i/text_encoder_word

The argument is ``<dataset>[,word]``. ``word`` reads the captions word by word
(``model.text_level='word'``, the ``tokens`` field) with the same network and no
convolutions (``model.convs=0``): a GRU over word ids whose hidden states are averaged,
the word-level encoders of Reed et al. (2016a) (their word-LSTM; their word-CNN-RNN adds
the convolutions, which over captions of 7-9 words would pool them away). Its embedding of
an unseen attribute-class combination is near the sum of its parts, where the character
encoder's is not (docs/results/text2image.md).

Settings from the official code (reedscot/cvpr2016 ``train_sje_hybrid.lua``,
``modules/HybridCNN.lua``, checked): RMSprop (torch ``optim.rmsprop`` defaults α 0.99, ε 1e-8
outside the square root: unverified), learning rate 0.0004 (the CUB script ``scripts/train_cub_hybrid.sh``
uses 0.0007), decayed by 0.98 per epoch, batch 40, margin 1, symmetric loss (``-symmetric
1``), temporal convolutions of width 4 followed by a GRU whose hidden states are averaged.
Not here: the official gradient clipping at 5 (jaxgen's optimizer config has none) and its
uniform(-0.08, 0.08) initialisation (Flax's defaults). Changed for short templated captions
on a CPU: two convolutions with 128 features pooling by 2 (the paper: three with 384/512/256
pooling by 3 over 201 characters), an embedding of 256 (1024), a small conv image encoder
trained jointly (the paper: fixed GoogLeNet features, not available here), the decay per
1,000 steps. The structure is the caption (``objective.classes='caption'``): captions here
are templated from the class and its attributes, and the text-to-image GAN needs those
attributes in the embedding; ``objective.classes='label'`` is the paper's class structure.
"""

from jaxgen.config import base_config

DATASETS = ('captioned_mnist', 'captioned_glyphs')


def get_config(arg: str | None = None):
    parts = [p for p in (arg or '').split(',') if p]
    unknown = [p for p in parts if p not in (*DATASETS, 'word')]
    if unknown:
        raise ValueError(f'configs/text_encoder.py takes <dataset>[,word] with datasets '
                         f'{" or ".join(DATASETS)}; got {unknown}')
    word = 'word' in parts
    c = base_config()
    c.data.name = next((p for p in parts if p in DATASETS), 'captioned_mnist')
    c.num_steps = 3000
    c.batch_size = 40
    c.log_every = 100
    c.sample_every = 10 ** 9  # an embedding has no pictures
    c.eval_every = 1000       # test-split retrieval in batches of 64 (eval/retrieval_*)
    c.checkpoint_every = 1000
    c.model.name = 'text_encoder'
    c.model.embed_dim = 256
    c.model.features = 128
    c.model.text_level = 'word' if word else 'char'   # data/text.py: chars or tokens
    c.model.convs = 0 if word else 2
    c.model.image_features = 32
    c.objective.name = 'joint_embedding'
    c.objective.classes = 'caption'
    c.objective.margin = 1.0
    c.objective.symmetric = True
    c.objective.reduce = 'max'
    c.rule.name = 'simultaneous'
    learning_rate = {'name': 'exponential_decay', 'init_value': 4e-4,
                     'transition_steps': 1000, 'decay_rate': 0.98}
    for player in ('text_encoder', 'image_encoder'):
        c.optimizers[player] = {'name': 'rmsprop', 'learning_rate': learning_rate,
                                'decay': 0.99, 'eps': 1e-8, 'eps_in_sqrt': False}
    # Off by default (the official code keeps none); with --config.ema.decay=0.999 the
    # averaged text encoder is what a text-to-image run's config.init_from takes.
    c.ema.players = ('text_encoder',)
    return c
