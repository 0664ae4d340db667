"""Image-to-image translation: pix2pix, CycleGAN and StarGAN (issue 30)."""
