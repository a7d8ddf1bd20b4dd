"""One home for exporting a model directory: ONNX graphs, C99 libraries, and the one checker.

- ``export.onnx``: encoder.onnx + core.onnx (and a single-file step graph) via torch;
- ``export.c_build``: dependency-free C99 (float, or int8 encoder) + the shared
  library the ``c`` runtime backend loads; torch-free;
- ``export.check``: every backend against a reference backend on closed-loop sequences;
- ``export.cli``: ``liquid-control export MODEL [--onnx] [--c OUT_DIR [--int8]]``.

Layer: above core/ and runtime/ (it uses both), beside learn/; nothing below imports it.
Submodules are imported on use, so the C path never imports torch.
"""
