"""The text-to-image GAN (Reed et al., 2016, arXiv 1605.05396) on captioned images.

    python train.py --config configs/text_encoder.py --workdir runs/t2i/text_encoder
    python train.py --config configs/text2image.py --workdir runs/t2i/gan_int_cls
    python train.py --config configs/text2image.py:captioned_mnist,gan_cls --workdir runs/t2i/gan_cls
    python train.py --config configs/text2image.py:captioned_glyphs --workdir runs/t2i/glyphs
    python -m jaxgen.generate --workdir runs/t2i/gan_int_cls --text "a thick seven slanted to the left"

The argument is ``<dataset>[,<variant>][,inverse][,word][,decay][,residual]``: dataset ``captioned_mnist``
(default) or ``captioned_glyphs``; variant ``gan``, ``gan_cls``, ``gan_int`` or
``gan_int_cls`` (default), which set ``model.cls`` (the matching-aware D) and
``model.interpolate`` (GAN-INT) and the objective's weight of each; ``inverse`` adds the
style encoder S(x) → z of the paper's Figure 6 (``model.inverse``, its optimizer and loss
weight); ``word`` reads the captions word by word (``model.text_level='word'``,
``model.encoder_convs=0``: the text encoder of ``configs/text_encoder.py:<dataset>,word``,
default workdir ``runs/t2i/text_encoder_word``); ``decay`` holds every optimizer's
learning rate for the first half of ``num_steps`` and then takes it linearly to 0 (the
pix2pix/CycleGAN schedule, ``config.adam_linear_decay``; not the paper's, see below);
``residual`` gives G the official code's two bottleneck residual blocks, after the
BatchNorms of its two coarsest resolutions (4×4 and 8×8 there; 7×7 and 14×14 for the
28-px sets here, all of G's hidden ones; ``model.residual_stages=2``,
``dcgan.Bottleneck``): with them glyph GAN-CLS meets the 90% class goal on four seeds of
four; on captioned_mnist (one seed) they kept the class but lost the thickness
attribute, so they are not the default (docs/results/text2image.md).

The text encoder is trained first by ``configs/text_encoder.py`` and frozen here: its
weights come from ``init_from.text_encoder`` (default ``runs/t2i/text_encoder``, a
placeholder for that run's workdir; the run is refused in one line while it does not
exist) and ``frozen`` keeps them fixed.

Settings of the official code, ``main_cls_int.lua`` and ``scripts/train_cub.sh``
(github.com/reedscot/icml2016): Adam lr 2e-4, β1 0.5, batch 64, nz 100, text code nt 128
(Linear + LeakyReLU 0.2 in G and D), cls_weight 0.5, interp_weight 1.0, interp_type 1
(β = 0.5), z ~ N(0, I), one D step then one G step; D's update sees the B matching fakes
alone (``fDx``) while G's loss reads one pass over the B + B/2 fakes (``fGx``):
``model.d_pass='separate'`` (GAN-INT variants; ``'joint'``, the behaviour before
2026-12-04, collapsed GAN-INT-CLS in three of three runs). Not taken: ngf 128 and 64-px images
(here 28/32 px and 64 features, DCGAN's MNIST setting), G's two bottleneck residual
blocks by default (``residual`` adds them), the BatchNorm in D's text code (fcD: Linear,
BatchNorm, LeakyReLU), the step decay of lr by 0.5 every 100 epochs (on captioned_glyphs' 15,360 train
captions 100 epochs are 24,000 steps of 64, past every run here; ``decay`` is the stand-in,
and it lowered glyph GAN-CLS's class agreement: docs/results/text2image.md), and
numCaption = 4 averaged captions per image (one caption per image here). D's residual
block is not taken either, as in the official code: ``main_cls_int.lua`` builds its branch
but adds ``skipD``, a name it never defines, to the block's ConcatTable, so the branch is
never part of its D.
"""

from jaxgen.config import adam, adam_linear_decay, base_config

VARIANTS = {'gan': (False, False), 'gan_cls': (True, False), 'gan_int': (False, True),
            'gan_int_cls': (True, True)}
DATASETS = ('captioned_mnist', 'captioned_glyphs')


def get_config(arg: str | None = None):
    parts = [p for p in (arg or '').split(',') if p]
    dataset = next((p for p in parts if p in DATASETS), 'captioned_mnist')
    variant = next((p for p in parts if p in VARIANTS), 'gan_int_cls')
    inverse, word, decay = 'inverse' in parts, 'word' in parts, 'decay' in parts
    residual = 'residual' in parts
    unknown = [p for p in parts if p not in (*DATASETS, *VARIANTS, 'inverse', 'word', 'decay',
                                        'residual')]
    if unknown:
        raise ValueError(f'configs/text2image.py takes '
                         f'<dataset>[,<variant>][,inverse][,word][,decay][,residual] '
                         f'with datasets '
                         f'{DATASETS} and variants {tuple(VARIANTS)}; got {unknown}')
    cls, interpolate = VARIANTS[variant]
    c = base_config()
    c.num_steps = 5000
    c.batch_size = 64
    c.log_every = 100
    c.sample_every = 500
    c.checkpoint_every = 500
    c.data.name = dataset
    c.model.name = 'text2image'
    c.model.variant = variant            # a label; model.cls and model.interpolate decide
    c.model.cls = cls
    c.model.interpolate = interpolate
    c.model.inverse = inverse            # S(x) -> z for style transfer (Figure 6)
    if interpolate:  # GAN-INT: D's loss on a pass over the B matching fakes alone (fDx's
        # batch); 'joint' reads the joint B + B/2 pass of G's loss (fGx's), as before 2026-12-04
        c.model.d_pass = 'separate'
    c.model.latent_dim = 100             # nz
    c.model.text_features = 128          # nt
    c.model.features = 64
    c.model.d_features = 64              # ndf
    c.model.residual_stages = 2 if residual else 0  # the official G: 2 (its coarsest two)
    c.model.embed_dim = 256              # the text encoder's (configs/text_encoder.py)
    c.model.encoder_features = 128
    c.model.text_level = 'word' if word else 'char'  # the text encoder's (data/text.py)
    c.model.encoder_convs = 0 if word else 2
    if cls:
        c.objective.cls_weight = 0.5
    if interpolate:
        c.objective.interp_weight = 1.0
    c.objective.name = 'text2image'
    c.rule.name = 'alternating'
    c.rule.d_steps = 1

    def optimizer():  # a fresh entry per player
        return adam_linear_decay(c, 2e-4, b1=0.5) if decay else adam(2e-4, b1=0.5)

    c.optimizers.generator = optimizer()
    c.optimizers.discriminator = optimizer()
    if inverse:
        c.objective.inverse_weight = 1.0
        c.optimizers.inverse = optimizer()
    c.frozen = ('text_encoder',)
    c.init_from.text_encoder = 'runs/t2i/text_encoder_word' if word else 'runs/t2i/text_encoder'
    return c
