"""Progressive GAN and StyleGAN (issue 31): networks grown by config.stages."""
