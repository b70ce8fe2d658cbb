"""The template's functions as in-process callables: code location, env, context, invoke.

Each `AWS::Serverless::Function` (merged with `Globals.Function`) becomes a
`LocalFunction`: its handler module is loaded from `CodeUri` + `Handler` under a unique
module name (every function has an `app.py`), and calls are serialised per function,
like one warm Lambda execution environment, because handler modules keep per-request
state in module-level singletons (the Powertools resolver's current event).
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from .context import LambdaContext
from .resources import FUNCTION_TYPES, LAYER_TYPES
from .template import Resolver, string_map

log = logging.getLogger("local.lambdas")

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class FunctionSpec:
    """What the template says about one function, resolved with local values."""

    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    timeout: float
    memory: int
    environment: dict[str, str]
    raw_environment: dict[str, Any]
    events: dict[str, dict[str, Any]]

    @property
    def handler_file(self) -> Path:
        module, _, _ = self.handler.rpartition(".")
        return self.code_dir / (module.replace(".", "/") + ".py")

    @property
    def handler_name(self) -> str:
        return self.handler.rpartition(".")[2]


def function_specs(resolver: Resolver) -> dict[str, FunctionSpec]:
    """Every active function of the template, merged with Globals.Function."""
    template = resolver.template
    defaults = template.globals_for("Function")
    specs: dict[str, FunctionSpec] = {}
    for logical_id, resource in template.resources_of_type(*FUNCTION_TYPES).items():
        if not resolver.is_active(logical_id):
            continue
        props = resource.get("Properties") or {}

        def prop(name: str, fallback: Any = None, props: dict[str, Any] = props) -> Any:
            return resolver.resolve(props.get(name, defaults.get(name, fallback)))

        raw_env = {
            **((defaults.get("Environment") or {}).get("Variables") or {}),
            **((props.get("Environment") or {}).get("Variables") or {}),
        }
        code_uri = prop("CodeUri", ".")
        if not isinstance(code_uri, str):
            resolver.warn(f"{logical_id}: CodeUri is not a local folder; it cannot run locally")
            continue
        attributes = resolver.attributes.get(logical_id, {})
        name = str(attributes.get("Ref") or logical_id)
        specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            name=name,
            arn=str(attributes.get("Arn") or ""),
            code_dir=(template.root / code_uri).resolve(),
            handler=str(prop("Handler", "app.lambda_handler")),
            timeout=float(prop("Timeout", 3) or 3),
            memory=int(prop("MemorySize", 128) or 128),
            environment=string_map(resolver.resolve(raw_env)),
            raw_environment=raw_env,
            events=dict(props.get("Events") or {}),
        )
    return specs


def layer_paths(resolver: Resolver) -> list[Path]:
    """Folders to put on sys.path for the template's local layers (ContentUri)."""
    paths: list[Path] = []
    for logical_id, resource in resolver.template.resources_of_type(*LAYER_TYPES).items():
        props = resource.get("Properties") or {}
        uri = resolver.resolve(props.get("ContentUri", props.get("Content")))
        if not isinstance(uri, str):
            resolver.warn(f"layer {logical_id} has no local ContentUri; skipped")
            continue
        root = (resolver.template.root / uri).resolve()
        # Lambda mounts a layer's python/ folder on the path; SAM builds ContentUri into it.
        paths.extend(p for p in (root / "python", root) if p.is_dir())
    return paths


class LocalFunction:
    """One function's handler, loaded on first use and invoked one call at a time."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self._handler: Handler | None = None
        self._lock = threading.Lock()
        self.load_error: str | None = None
        # Run once, right before the first invocation (the stack's SnapStart emulation).
        self.before_first_invoke: Callable[[], object] | None = None

    @property
    def module_name(self) -> str:
        return f"local_lambda_{self.spec.logical_id}"

    def load(self) -> Handler:
        """Import the handler module (once); raise ImportError with the reason otherwise."""
        if self._handler is not None:
            return self._handler
        path = self.spec.handler_file
        if not path.is_file():
            self.load_error = f"{self.spec.logical_id}: handler file {path} does not exist"
            raise ImportError(self.load_error)
        module = _import_file(self.module_name, path, self.spec.code_dir)
        handler = getattr(module, self.spec.handler_name, None)
        if not callable(handler):
            self.load_error = f"{self.spec.logical_id}: {self.spec.handler} is not a function"
            raise ImportError(self.load_error)
        self._handler = cast(Handler, handler)
        self.load_error = None
        return self._handler

    def context(self) -> LambdaContext:
        return LambdaContext(
            function_name=self.spec.name,
            invoked_function_arn=self.spec.arn,
            memory_limit_in_mb=self.spec.memory,
            timeout_seconds=self.spec.timeout,
        )

    def invoke(self, event: dict[str, Any]) -> Any:
        """Call the handler like Lambda does; exceptions propagate to the caller."""
        handler = self.load()
        with self._lock:
            if self.before_first_invoke is not None:
                restore, self.before_first_invoke = self.before_first_invoke, None
                restore()
            context = self.context()
            started = time.monotonic()
            try:
                return handler(event, context)
            finally:
                elapsed = time.monotonic() - started
                if elapsed > self.spec.timeout:
                    # Lambda would have killed this invocation; locally it ran to the end.
                    log.warning(
                        "%s ran %.1f s, longer than its %.0f s timeout",
                        self.spec.logical_id,
                        elapsed,
                        self.spec.timeout,
                    )


@contextmanager
def _on_path(folder: Path) -> Iterator[None]:
    entry = str(folder)
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        if entry in sys.path:
            sys.path.remove(entry)


def _import_file(module_name: str, path: Path, code_dir: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    # The code folder is the package root in Lambda, so sibling imports must resolve.
    with _on_path(code_dir):
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(module_name, None)
            raise
    return module
