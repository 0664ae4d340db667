"""Where datasets come from: the IDX files, sklearn digits, 2-D mixtures, TFDS, folders."""
