"""GAN model bundles: the generic GAN (base), MLP and DCGAN players, conditional GAN, InfoGAN."""
