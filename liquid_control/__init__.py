"""liquid_control: liquid neural network (LTC / CfC NCP) control for drones and rovers on ROS 2."""

__version__ = "0.1.0"
