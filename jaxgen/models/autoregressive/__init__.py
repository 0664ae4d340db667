"""Autoregressive likelihood models: NADE (Larochelle & Murray, 2011) and the PixelRNN
paper's PixelCNN, Row LSTM and Diagonal BiLSTM (van den Oord et al., 2016).

``masks.py`` holds the masked convolutions (mask A and B, with the masks between
colour channels) and the skew of the Diagonal BiLSTM; ``base.py`` the bundle they
share (exact log-likelihood, sampling and completion compiled as one ``lax.scan``
over the pixels); ``nade.py``, ``pixelcnn.py`` (with its cached sampler) and
``pixelrnn.py`` the models.
"""
