"""The built-in engine: unicorn's Cortex-M4 plus peripheral models written in Python."""
