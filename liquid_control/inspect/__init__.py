"""See inside a liquid policy: wiring diagrams, neuron traces, saliency, export checks, monitor.

``wiring_plot`` and ``export_check`` read model directories without torch for the
drawing and with it for the comparison; ``traces`` runs policies through the
torch-free runtime; ``saliency`` and ``attention`` need torch; ``monitor`` is the
one module that talks to ROS (imported inside its ``main``). ``cli`` is
``liquid-control inspect``.
"""
