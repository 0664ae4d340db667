"""Datasets derived offline from the original MNIST and Fashion-MNIST files (and sklearn's
digits and matplotlib's fonts): built once, cached, with their provenance recorded."""
