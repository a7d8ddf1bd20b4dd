"""See inside a liquid policy: wiring diagrams, neuron traces, saliency, monitor.

``wiring_plot`` reads model directories without torch; ``traces`` runs policies through the
torch-free runtime; ``saliency`` and ``attention`` need torch; ``monitor`` is the
one module that talks to ROS (imported inside its ``main``). ``cli`` is
``liquid-control inspect``. Export checks live in ``liquid_control.export.check``
(``liquid-control export MODEL --check``).
"""
