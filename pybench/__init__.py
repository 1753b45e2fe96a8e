"""pybench: an emulated test bench for firmware updates over Ethernet on an STM32F407."""

__version__ = "0.1.0"
