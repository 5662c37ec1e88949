"""cnnlib: the small, tested helper library of the Inside CNNs course.

One module per idea; chapters import what they need, e.g. ``from cnnlib import config, data``.
"""

__version__ = "0.1.0"

REPO = "inside-cnns/inside-cnns"
"""The course's GitHub repository (owner/name): Colab installs and data downloads come from it."""
