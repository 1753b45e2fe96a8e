"""Types the power-cut tests share (not in conftest: test folders share sys.path)."""

from __future__ import annotations

from collections.abc import Callable

from pybench.powercut.campaign import CampaignResult

CampaignFn = Callable[..., CampaignResult]
