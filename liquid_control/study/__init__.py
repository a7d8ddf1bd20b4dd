"""The architecture study: arms, tasks and shifts, resumable pipeline, statistics and report.

`liquid-control study CONFIG` (``study/cli.py``). It sits above ``learn`` (training,
rollouts) and ``inspect`` (saliency), beside ``nodes``, and imports neither ROS nor nodes.
"""
