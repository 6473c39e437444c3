"""A local emulator of the Instagram Platform (Graph API, OAuth, CDN) for the demo and tests."""

from instagram_service.emulator.app import create_emulator_app
from instagram_service.emulator.generate import build_demo_scenario, generate_scenario
from instagram_service.emulator.scenario import (
    FaultConfig,
    Scenario,
    ScenarioAccount,
    ScenarioChild,
    ScenarioMedia,
    ScenarioToken,
)
from instagram_service.emulator.server import EmulatorHandle, run_emulator, running_emulator
from instagram_service.emulator.state import EmulatorState

__all__ = [
    "EmulatorHandle",
    "EmulatorState",
    "FaultConfig",
    "Scenario",
    "ScenarioAccount",
    "ScenarioChild",
    "ScenarioMedia",
    "ScenarioToken",
    "build_demo_scenario",
    "create_emulator_app",
    "generate_scenario",
    "run_emulator",
    "running_emulator",
]
