"""Emulation engines behind one interface (pybench.engine.base.Engine)."""
