"""The private Dagster names callops uses, outside the laptop storage (platform/instance.py), in
one place, each with its guard (docs/dagster-internals.md lists them, with why and what upstream
change would retire each).

Dagster offers no public way to do these:

- ``readers_in_run``: how many steps of a run load an output (the execution plan), so the
  warehouse IO manager can let go of a table handed over in memory once its last reader has it;
- ``CheckRunHealthResult`` and ``WorkerStatus``: what a run launcher's
  ``check_run_worker_health`` returns (the Celery launcher of cluster mode);
- ``resolve_config``: Dagster's config resolution (``env:`` sources, defaults), applied to the
  PostgreSQL storage's block of ``dagster.yaml``.

``fingerprint`` and ``changed`` are the guards' means: the source of each piece of Dagster
relied on, hashed, is compared with its hash as of the pinned Dagster. The tests
(test_dagster_internals.py) fail the day one of them changes; platform/instance.py also checks
at run time and falls back to Dagster's stock storage.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import textwrap
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster._config import process_config, resolve_to_config_type
from dagster._core.execution.plan.outputs import StepOutputHandle
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus

__all__ = ["CheckRunHealthResult", "WorkerStatus", "readers_in_run", "resolve_config", "fingerprint", "changed"]

# The Dagster these fingerprints were taken from (pyproject.toml pins it exactly).
PINNED_DAGSTER = "1.13.27"

# What ``readers_in_run`` and ``resolve_config`` rely on: "module:qualified.name" -> fingerprint.
PLAN_AND_CONFIG = {
    "dagster._core.execution.plan.outputs:StepOutputHandle": "b2ab546adc43c7fc",
    "dagster._core.execution.plan.plan:ExecutionPlan.get_steps_to_execute_in_topo_order": "fa2b3a2cc8fa204f",
    "dagster._core.execution.plan.inputs:StepInput.get_step_output_handle_dependencies": "d166d44d434c269e",
    "dagster._config:process_config": "0b3aea78430405d8",
    "dagster._config:resolve_to_config_type": "42b5503f1f57860b",
    "dagster._core.launcher:CheckRunHealthResult": "d8ad66c8c068e424",
    "dagster._core.launcher:WorkerStatus": "e2ab95769c0c8f1d",
}


def resolve(name: str) -> Any:
    """The object ``module:qualified.name`` names (ImportError or AttributeError when gone)."""
    module, _, qualname = name.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def fingerprint(obj: Any) -> str:
    """A short hash of ``obj``'s source (a function, a method, a property, a class)."""
    if isinstance(obj, property):
        obj = obj.fget
    source = textwrap.dedent(inspect.getsource(obj))
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def changed(expected: Mapping[str, str]) -> list[str]:
    """The names of ``expected`` whose code is gone or differs from its recorded fingerprint,
    each with what happened ("...: gone (ImportError ...)", "...: changed")."""
    problems = []
    for name, recorded in expected.items():
        try:
            now = fingerprint(resolve(name))
        except (ImportError, AttributeError, OSError, TypeError) as exc:
            problems.append(f"{name}: gone or unreadable ({type(exc).__name__}: {exc})")
            continue
        if now != recorded:
            problems.append(f"{name}: changed (fingerprint {now}, expected {recorded})")
    return problems


class PlanUnreadable(RuntimeError):
    """The run's execution plan could not be read as this Dagster's was (the message says why)."""


def readers_in_run(context: dg.OutputContext) -> int | None:
    """How many steps of this run load the output ``context`` stores; None when the context
    belongs to no run (a test's ``build_output_context``). Raises ``PlanUnreadable`` when a run's
    plan is there but cannot be read as expected (the caller then hands nothing over)."""
    try:
        step_context = context.step_context
    except dg.DagsterInvariantViolationError:  # "not provided when constructing the OutputContext"
        return None
    try:
        handle = StepOutputHandle(context.step_key, context.name)
        steps = step_context.execution_plan.get_steps_to_execute_in_topo_order()
        return sum(
            handle in step_input.get_step_output_handle_dependencies()
            for step in steps
            for step_input in step.step_inputs
        )
    except Exception as exc:  # the plan's private shape changed: said, not swallowed
        raise PlanUnreadable(f"{type(exc).__name__}: {exc}") from exc


def resolve_config(config_schema: Any, raw: Mapping[str, Any]) -> tuple[Mapping[str, Any] | None, str | None]:
    """``raw`` validated against ``config_schema`` (a ConfigurableClass's ``config_type()``) with
    its ``env:`` sources and defaults resolved, as Dagster does for ``dagster.yaml``: (value,
    None), or (None, the first error's message)."""
    result = process_config(resolve_to_config_type(config_schema), raw)
    if not result.success:
        return None, result.errors[0].message  # type: ignore[index]
    return result.value, None
