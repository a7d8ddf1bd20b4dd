"""The ground layer: NumPy/PyYAML only, imported by every other layer (docs/interfaces.md).

Robot profiles, IMU features, message <-> array conversion, the model directory format
and its verified reader/writer, the event-timing rule and package file lookup live
here, once each.
"""
