"""Autoencoder model bundles: AE/VAE/IWAE (vae), the adversarial autoencoder (aae), its priors."""
