"""harness: run the S3 -> API Gateway -> Lambda (scikit-learn) loop locally, offline.

The public API: the embedded emulator, its configuration, the stack types and the error root.
(``harness.deploy.deploy`` deploys; it is not re-exported here, so the module keeps its name.)
"""

from harness.config import EmulatorConfig, LambdaConfig
from harness.deploy import Stack, StackSpec, Target
from harness.emulator import Emulator
from harness.errors import AwsError, HarnessError, ScenarioError, UsageError

__all__ = [
    "AwsError",
    "Emulator",
    "EmulatorConfig",
    "HarnessError",
    "LambdaConfig",
    "ScenarioError",
    "Stack",
    "StackSpec",
    "Target",
    "UsageError",
]
__version__ = "0.1.0"
