"""Widgets that run in the reader's browser: plain HTML, CSS and JavaScript, no kernel.

Each widget is one self-contained display object, stored in the notebook's output, so it works
on the static site, in Jupyter and in Colab, offline. The arithmetic stays in Python: the
JavaScript is tested against PyTorch in headless Chromium, never the other way round.
"""
from cnnlib.explore.channels import channels_explorer as channels_explorer
from cnnlib.explore.convolution import convolution_explorer as convolution_explorer
from cnnlib.explore.digits import draw_digit as draw_digit
from cnnlib.explore.quiz import quiz as quiz
