"""Conditional generative models: from text (the text-to-image GAN and its text encoder) and from parts (Puzzle-GAN)."""
