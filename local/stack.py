"""`python -m local.stack`: the whole stack on one machine (what `make run` starts).

Order matters: moto starts first and the process environment is pointed at it (fake
credentials, AWS_ENDPOINT_URL), then the template's resources are created, the
functions' environment variables are resolved and exported, and only then are the
handler modules imported, because they read their configuration at import time.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import secrets
import shlex
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from .function_urls import url_routes
from .gateway import Gateway, GatewayServer, Route, api_configs, api_routes, serve
from .lambdas import FunctionSpec, LocalFunction, function_specs, layer_paths
from .poller import QueuePoller, sqs_sources
from .providers import provider_lines
from .resources import (
    BUCKET_TYPE,
    QUEUE_TYPE,
    SECRET_TYPE,
    LocalResource,
    allow_public_read,
    create_resources,
    put_secret,
)
from .s3_post import LocalMotoServer
from .schedule import ScheduleRunner, invoke, schedule_sources, start_events
from .state import LocalState, Restored
from .template import Resolver, Template, references

log = logging.getLogger("local.stack")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 3000
API_KEY_FILE = Path(".local") / "api-key"
STATE_DIR = Path(".local") / "state"
API_KEY_ID = "local-api-key"
# The only credentials the local process ever has (moto accepts any; S3 POST checks use them).
FAKE_ACCESS_KEY = "local"
FAKE_SECRET_KEY = "local"  # noqa: S105 (a placeholder, never a real credential)
# Resource types with no local emulation whose Conditions are switched off locally,
# so that values depending on them take their "off" branch (IMAGES_BASE_URL).
LOCALLY_OFF_TYPES = ("AWS::CloudFront::",)
SAMPLE_CODE = "6901234567892"
# Template parameters a local run sets unless told otherwise: locally the keyless image
# path (CloudFront in AWS) costs nothing and is served by the gateway itself.
LOCAL_PARAMETER_DEFAULTS = {"EnableImagePath": "true"}


@dataclass
class Options:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    template: Path = ROOT / "template.yaml"
    stack_name: str = "barcode-local"
    region: str = "us-east-1"
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    retry_seconds: int | None = 2
    state_dir: Path | None = None  # None: .local/state next to the template
    clean: bool = False  # forget the kept state before starting
    save_seconds: float = 60.0  # how often the state is saved while running (0: on stop only)


class LocalStateError(RuntimeError):
    """The kept state could not be loaded back."""


def upstream_secret(environ: Mapping[str, str]) -> dict[str, Any]:
    """The credentials secret document, from the shell's environment (empty when unset;
    UPCitemdb's paid key only when UPCITEMDB_USER_KEY is set: without it, its trial)."""
    document: dict[str, Any] = {
        "generate": {"appkey": environ.get("GENERATE_APPKEY", "")},
        "lookup": {
            "api_key": environ.get("LOOKUP_API_KEY", ""),
            "secret_key": environ.get("LOOKUP_SECRET_KEY", ""),
        },
        # Shares community contributions (COMMUNITY_SHARE_OPENFOODFACTS=true); use a
        # staging account with OPENFOODFACTS_WRITE_URL=https://off:off@world.openfoodfacts.net.
        "openfoodfacts": {
            "user_id": environ.get("OPENFOODFACTS_USER_ID", ""),
            "password": environ.get("OPENFOODFACTS_PASSWORD", ""),
        },
    }
    if "UPCITEMDB_USER_KEY" in environ:
        document["upcitemdb"] = {"user_key": environ["UPCITEMDB_USER_KEY"]}
    return document


def merge_secret(kept: str | None, shell: dict[str, Any]) -> dict[str, Any]:
    """The upstream credentials: the kept value, with every credential the shell sets."""
    try:
        document = json.loads(kept) if kept else {}
    except ValueError:
        document = {}
    if not isinstance(document, dict):
        document = {}
    for section, values in shell.items():
        current = document.get(section)
        merged = dict(current) if isinstance(current, dict) else {}
        for name, value in values.items():
            if value or name not in merged:
                merged[name] = value
        document[section] = merged
    return document


def extra_api_keys(environ: Mapping[str, str]) -> dict[str, str]:
    """More local keys (LOCAL_EXTRA_API_KEYS, comma-separated), each with its own key id:
    budgets and upload ownership follow the key id, so two keys act as two apps."""
    keys = [k.strip() for k in environ.get("LOCAL_EXTRA_API_KEYS", "").split(",") if k.strip()]
    return {key: f"{API_KEY_ID}-{n}" for n, key in enumerate(dict.fromkeys(keys), start=2)}


def local_api_key(environ: Mapping[str, str], root: Path) -> tuple[str, str]:
    """The API key clients use locally and where it came from (env, or a kept file)."""
    if environ.get("LOCAL_API_KEY"):
        return environ["LOCAL_API_KEY"], "LOCAL_API_KEY"
    path = root / API_KEY_FILE
    if path.is_file() and path.read_text(encoding="utf-8").strip():
        return path.read_text(encoding="utf-8").strip(), str(API_KEY_FILE)
    key = secrets.token_urlsafe(30)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(key + "\n", encoding="utf-8")
    path.chmod(0o600)
    return key, f"{API_KEY_FILE} (new)"


def locally_off_conditions(template: Template) -> dict[str, bool]:
    """Conditions guarding resources that cannot exist locally, forced to false."""
    return {
        str(resource["Condition"]): False
        for resource in template.resources.values()
        if str(resource.get("Type", "")).startswith(LOCALLY_OFF_TYPES) and resource.get("Condition")
    }


def function_environment(
    specs: Mapping[str, FunctionSpec], template: Template, shell: Mapping[str, str]
) -> dict[str, str]:
    """One environment for every function (they share this process).

    Names do not clash except POWERTOOLS_SERVICE_NAME, which becomes "barcode-local". A shell
    variable of the same name wins, unless the template ties the value to a resource
    (a table, bucket, queue or secret must stay the local one).
    """
    merged: dict[str, str] = {}
    for spec in specs.values():
        for name, value in spec.environment.items():
            if name in merged and merged[name] != value and name != "POWERTOOLS_SERVICE_NAME":
                log.warning("%s differs between functions; using %r", name, merged[name])
            merged.setdefault(name, value)
            raw = spec.raw_environment.get(name)
            if name in shell and not (references(raw) & set(template.resources)):
                merged[name] = shell[name]
    # Not "local": Powertools' logger is named after the service and would adopt ours.
    merged["POWERTOOLS_SERVICE_NAME"] = shell.get("POWERTOOLS_SERVICE_NAME", "barcode-local")
    return merged


def keyless_generation(environment: dict[str, str], shell: Mapping[str, str]) -> str:
    """Without a GuGuData appkey and without GENERATE_BACKEND, render locally (`local`).

    `auto` would read the secret on the first request to find no key there (and load the
    upstream client and the credentials' models for nothing); a local run without a key
    knows it has none. Returns the banner line ("" when the appkey or the shell decides).
    """
    if "GENERATE_BACKEND" in shell or shell.get("GENERATE_APPKEY"):
        return ""
    environment["GENERATE_BACKEND"] = "local"
    return "  generate   local renders (no GENERATE_APPKEY; set GENERATE_BACKEND to choose)"


def snapshot_emulation(shell: Mapping[str, str]) -> bool:
    """Whether the stack runs the SnapStart hooks as Lambda would (SNAPSHOT_EMULATION)."""
    return shell.get("SNAPSHOT_EMULATION", "1").strip().lower() not in ("0", "false", "no")


def keyless_providers(environment: dict[str, str], shell: Mapping[str, str]) -> str:
    """Without a Baichuan key and without LOOKUP_PROVIDERS, ask only the keyless providers.

    Baichuan listed but not configured would make every unknown code a 503 ("could not
    answer"); a local run without keys is better served by the free sources alone.
    Returns the banner line saying which providers answer lookups.
    """
    lookups = environment.get("LOOKUP_PROVIDERS", "")
    if "LOOKUP_PROVIDERS" in shell or shell.get("LOOKUP_API_KEY"):
        return f"  providers  {lookups}"
    for name in ("LOOKUP_PROVIDERS", "UPLOAD_LOOKUP_PROVIDERS"):
        if name in shell or name not in environment:
            continue
        keyless = [p for p in environment[name].split(",") if p.strip() and p.strip() != "baichuan"]
        environment[name] = ",".join(keyless) or "openlibrary"
    return (
        f"  providers  {environment.get('LOOKUP_PROVIDERS', '')}   (no LOOKUP_API_KEY: the keyless "
        "providers only; set LOOKUP_PROVIDERS to choose)"
    )


def banner_routes(routes: Sequence[Route]) -> list[str]:
    """`METHOD /resource` once per route: a resource's `ANY` catch-all, which only
    answers 405 for the methods it lacks, is left out where the resource has a method."""
    with_method = {r.resource for r in routes if r.method.upper() != "ANY"}
    return [
        f"{r.method.upper()} {r.resource}"
        for r in routes
        if r.method.upper() != "ANY" or r.resource not in with_method
    ]


class LocalStack:
    """moto + resources + functions + gateway + queue pollers, started and stopped together."""

    def __init__(self, options: Options, environ: Mapping[str, str] | None = None) -> None:
        self.options = options
        self.shell = dict(os.environ if environ is None else environ)
        self.stop_event = threading.Event()
        self.moto: LocalMotoServer | None = None
        self.moto_url = ""
        self.server: GatewayServer | None = None
        self.server_thread: threading.Thread | None = None
        self.pollers: list[QueuePoller] = []
        self.schedules: list[ScheduleRunner] = []
        self.functions: dict[str, LocalFunction] = {}
        self.gateway: Gateway | None = None
        self.resolver: Resolver | None = None
        self.api_key = ""
        self.api_key_source = ""
        self.providers_note = ""
        self.provider_lines: list[str] = []
        self.secret_document: dict[str, Any] = {}
        self.snapshot_note = ""
        self.generate_note = ""
        self.images_url = ""
        self.resource_names: dict[str, str] = {}
        self.created: dict[str, LocalResource] = {}
        self.state: LocalState | None = None
        self.restored = Restored()
        self.saver: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return f"http://{self.options.host}:{self.server.server_port}"

    # -- start ---------------------------------------------------------------------

    def start(self) -> None:
        template = Template.load(self.options.template)
        self.state = self._open_state(template)
        resolver = Resolver(
            template,
            stack_name=self.options.stack_name,
            region=self.options.region,
            parameter_overrides=self._parameters(template),
            forced_conditions=locally_off_conditions(template),
        )
        self.resolver = resolver
        created = create_resources(resolver)
        self.resource_names = {lid: r.name for lid, r in created.items()}
        self._restore(created)
        specs = function_specs(resolver)

        # The gateway binds first so that its URL can go into the functions' environment.
        self.api_key, self.api_key_source = local_api_key(self.shell, template.root)
        apis = api_configs(resolver)
        self.gateway = Gateway(
            api_routes(resolver, specs, apis),
            apis,
            self.functions,
            {**extra_api_keys(self.shell), self.api_key: API_KEY_ID},
            account_id=resolver.account_id,
            url_routes=url_routes(template, specs),
        )
        self.server = serve(self.gateway, self.options.host, self.options.port)
        # Links the functions hand out name this address, never a client's Host header.
        self.gateway.domain = self.base_url.split("://", 1)[1]

        environment = function_environment(specs, template, self.shell)
        keys = self._put_upstream_secrets(environment, created)
        shell = {**self.shell, **keys}
        self.providers_note = keyless_providers(environment, shell)
        self.generate_note = keyless_generation(environment, shell)
        self._localise(environment, created)
        os.environ.update(environment)
        for path in reversed(layer_paths(resolver)):
            if str(path) not in sys.path:
                sys.path.insert(0, str(path))
        self.provider_lines = provider_lines(environment, self.secret_document)

        hooks = importlib.import_module("barcode_service.snapshot")
        known = set(hooks.before_snapshot_hooks())
        for logical_id, spec in specs.items():
            function = LocalFunction(spec)
            self.functions[logical_id] = function
            try:
                function.load()
            except Exception as error:
                # Routes of a function that cannot load answer 502, as a broken deploy would.
                log.warning("%s is not available: %s", logical_id, error)
                function.load_error = function.load_error or f"{type(error).__name__}: {error}"
        if snapshot_emulation(self.shell):
            self._snapshot([h for h in hooks.before_snapshot_hooks() if h not in known])

        queue_urls = {
            str(resolver.attributes[lid]["Arn"]): str(resolver.attributes[lid]["Ref"])
            for lid, r in created.items()
            if r.type == QUEUE_TYPE
        }
        for source in sqs_sources(resolver, specs, queue_urls):
            poller = QueuePoller(
                source,
                self.functions[source.function],
                self.stop_event,
                region=resolver.region,
                retry_seconds=self.options.retry_seconds,
            )
            poller.start()
            self.pollers.append(poller)
        self._start_schedules(resolver, specs)

        self.server_thread = threading.Thread(
            target=self.server.serve_forever, name="gateway", daemon=True
        )
        self.server_thread.start()
        self._announce(environment)

    def _start_schedules(self, resolver: Resolver, specs: Mapping[str, FunctionSpec]) -> None:
        """Each function's start event (the upload sweeper's: resume what a stopped stack
        left processing, as its queue messages are gone), then its schedules."""
        for logical_id, event in start_events(resolver, specs).items():
            function = self.functions.get(logical_id)
            if function is not None and function.load_error is None:
                invoke(function, event, "the stack's start")
        for source in schedule_sources(resolver, specs):
            runner = ScheduleRunner(
                source,
                self.functions[source.function],
                self.stop_event,
                region=resolver.region,
                account_id=resolver.account_id,
            )
            runner.start()
            self.schedules.append(runner)

    def _snapshot(self, hooks: Sequence[Any]) -> None:
        """SnapStart as Lambda runs it: the functions' before-snapshot hooks now, once (a
        version is published), and the after-restore hooks before each function's first
        request (a restored copy). SNAPSHOT_EMULATION=0 leaves both out."""
        snapshot = importlib.import_module("barcode_service.snapshot")
        try:
            snapshot.run_before_snapshot(hooks)
        except Exception as error:
            # Lambda would refuse to publish the version: say so, and serve without it.
            log.warning("the before-snapshot hooks failed (%s: %s)", type(error).__name__, error)
            return
        for function in self.functions.values():
            function.before_first_invoke = snapshot.run_after_restore
        self.snapshot_note = (
            "  snapshot   SnapStart emulated: before-snapshot hooks ran at start, each function "
            "restores before its first request (SNAPSHOT_EMULATION=0: off)"
        )

    def _open_state(self, template: Template) -> LocalState:
        """The kept state (cleared on --clean), and moto on the last run's port."""
        state = LocalState(self.options.state_dir or template.root / STATE_DIR, self.options.region)
        other = state.running_pid()
        if other is not None:
            # Two stacks on one directory would save over each other's data.
            raise LocalStateError(
                f"another local stack (pid {other}) keeps its state in {state.directory}: "
                "stop it, or give this one its own LOCAL_STATE_DIR"
            )
        if self.options.clean:
            state.clear()
        self._start_moto(state.last_moto_port())
        state.remember_moto_port(self.moto.port if self.moto else 0)
        return state

    def _restore(self, created: dict[str, LocalResource]) -> None:
        assert self.state is not None
        try:
            self.restored = self.state.restore(created)
        except Exception as error:
            # Nothing is saved over a snapshot that could not be loaded (self.created
            # stays empty): the developer decides whether to discard it.
            raise LocalStateError(
                f"the local state in {self.state.directory} could not be loaded "
                f"({type(error).__name__}: {error}); start with --clean (LOCAL_CLEAN=1) to "
                "discard it"
            ) from error
        self.created = created

    def _put_upstream_secrets(
        self, environment: Mapping[str, str], created: Mapping[str, LocalResource]
    ) -> dict[str, str]:
        """Each SECRET_ID's credentials: kept from the last run unless the shell sets them.

        Returns the keys in use (LOOKUP_API_KEY, GENERATE_APPKEY; only those set), for
        the providers and generation notes.
        """
        assert self.state is not None
        keys: dict[str, str] = {}
        for secret_id in {v for k, v in environment.items() if k == "SECRET_ID" and v}:
            logical_id = next(
                (
                    lid
                    for lid, r in created.items()
                    if r.type == SECRET_TYPE and secret_id in (r.name, self._secret_arn(lid))
                ),
                "",
            )
            kept = self.state.secret_value(logical_id) if logical_id else None
            document = merge_secret(kept, upstream_secret(self.shell))
            put_secret(secret_id, document, self.options.region)
            self.secret_document = self.secret_document or document
            found = {
                "LOOKUP_API_KEY": (document.get("lookup") or {}).get("api_key"),
                "GENERATE_APPKEY": (document.get("generate") or {}).get("appkey"),
            }
            keys |= {name: str(v) for name, v in found.items() if v and name not in keys}
        return keys

    def _announce(self, environment: Mapping[str, str]) -> None:
        """Where this stack is, for scripts (running.json), and the periodic saver."""
        assert self.state is not None
        self.state.write_running(
            {
                "pid": os.getpid(),
                "api": f"{self.base_url}/{self._stage()}",
                "aws_endpoint_url": self.moto_url,
                "region": self.options.region,
                "resources": self.resource_names,
                "cache_table": environment.get("CACHE_TABLE", ""),
            }
        )
        if self.options.save_seconds > 0:
            self.saver = threading.Thread(target=self._save_periodically, name="state", daemon=True)
            self.saver.start()

    def _secret_arn(self, logical_id: str) -> str:
        attributes = self.resolver.attributes.get(logical_id, {}) if self.resolver else {}
        return str(attributes.get("Ref", ""))

    def _save_periodically(self) -> None:
        while not self.stop_event.wait(self.options.save_seconds):
            if self.state is not None:
                self.state.save(self.created)

    def _parameters(self, template: Template) -> dict[str, str]:
        declared = template.section("Parameters")
        defaults = {k: v for k, v in LOCAL_PARAMETER_DEFAULTS.items() if k in declared}
        return {**defaults, **self.options.parameter_overrides}

    def _start_moto(self, preferred_port: int = 0) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per AWS call
        # Presigned POSTs are checked against their policy as S3 does (local/s3_post.py).
        credentials = {FAKE_ACCESS_KEY: FAKE_SECRET_KEY}
        try:
            # The last run's port, so that kept image URLs (IMAGES_BASE_URL) still open.
            self.moto = LocalMotoServer("127.0.0.1", preferred_port, credentials)
        except OSError:
            log.warning(
                "port %d (moto, last run) is taken: image URLs kept from earlier runs will "
                "not open",
                preferred_port,
            )
            self.moto = LocalMotoServer("127.0.0.1", 0, credentials)
        self.moto.start()
        self.moto_url = self.moto.url
        # Fake credentials always: nothing here may ever reach a real AWS account.
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            os.environ.pop(name, None)
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": self.moto_url,
                "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_KEY,
                "AWS_REGION": self.options.region,
                "AWS_DEFAULT_REGION": self.options.region,
                "POWERTOOLS_TRACE_DISABLED": "true",
            }
        )
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

    def _localise(self, environment: dict[str, str], created: Mapping[str, Any]) -> None:
        """Point URLs that name AWS endpoints at their local stand-ins."""
        buckets = {r.name for r in created.values() if r.type == BUCKET_TYPE}
        images_bucket = environment.get("IMAGES_BUCKET", "")
        if images_bucket in buckets:
            # moto serves objects by path; a public-read policy lets a browser open them.
            allow_public_read(images_bucket, self.options.region)
            self.images_url = f"{self.moto_url}/{images_bucket}"
            if "IMAGES_BASE_URL" in environment:
                environment["IMAGES_BASE_URL"] = self.images_url
        for name, value in environment.items():
            if ".execute-api." in value:
                # The API's public URL (status links and the like) is this gateway.
                scheme_host, _, rest = value.partition(".amazonaws.com")
                if scheme_host.startswith("https://"):
                    environment[name] = self.base_url + rest
        if "PUBLIC_BASE_URL" in environment and not environment["PUBLIC_BASE_URL"]:
            environment["PUBLIC_BASE_URL"] = f"{self.base_url}/{self._stage()}"

    def _stage(self) -> str:
        stages = self.gateway.stages if self.gateway else []
        return "v1" if "v1" in stages or not stages else stages[0]

    # -- stop ----------------------------------------------------------------------

    def stop(self) -> None:
        """Stop serving, then the pollers, then moto; safe to call more than once."""
        self.stop_event.set()
        if self.server is not None:
            if self.server_thread is not None:
                self.server.shutdown()
            self.server.server_close()
            self.server = None
        for poller in self.pollers:
            poller.join(timeout=5)
        self.pollers.clear()
        for runner in self.schedules:
            runner.join(timeout=5)
        self.schedules.clear()
        if self.saver is not None:
            self.saver.join(timeout=30)
            self.saver = None
        if self.state is not None and self.moto is not None and self.created:
            self.state.save(self.created)
            self.state.remove_running()
            log.info("local state saved in %s", self.state.directory)
        if self.moto is not None:
            self.moto.stop()
            self.moto = None

    # -- banner --------------------------------------------------------------------

    def _image_path_lines(self) -> list[str]:
        assert self.gateway is not None
        lines = []
        for route in self.gateway.url_routes[:1]:
            lines += [
                "  # the keyless image URL for <img src> (CloudFront in AWS; no key)",
                '  curl -o "${TMPDIR:-/tmp}/ean13.png" '
                f"'{self.base_url}{route.prefix}ean13.png"
                f"?content={SAMPLE_CODE}&width=300&height=150'",
            ]
        return lines

    def banner(self) -> str:
        """What to print once serving: URLs, the key and copy-paste commands."""
        assert self.gateway is not None
        base = f"{self.base_url}/{self._stage()}"
        key = shlex.quote(f"x-api-key: {self.api_key}")
        lines = [
            "",
            f"Local stack from {self.options.template.name} (AWS emulated by moto at "
            f"{self.moto_url})",
            f"  API        {base}",
            f"  API key    {self.api_key}   (header x-api-key; from {self.api_key_source})",
        ]
        extra = extra_api_keys(self.shell)
        if extra:
            lines.append(f"  more keys  {len(extra)} (LOCAL_EXTRA_API_KEYS), each its own caller")
        if self.providers_note:
            lines.append(self.providers_note)
        lines += self.provider_lines
        for note in (self.generate_note, self.snapshot_note):
            if note:
                lines.append(note)
        for logical_id, function in self.functions.items():
            gateway = self.gateway
            mine = logical_id
            routes = banner_routes([r for r in gateway.routes if r.function == mine])
            routes += [f"GET {u.prefix}*" for u in gateway.url_routes if u.function == mine]
            what = ", ".join(routes) or "queue events"
            state = f"NOT LOADED: {function.load_error}" if function.load_error else what
            lines.append(f"  {logical_id:<22} {state}")
        for logical_id, name in self.resource_names.items():
            lines.append(f"  {logical_id:<22} {name}")
        if self.images_url:
            lines.append(f"  images     {self.images_url}/<key>")
        if self.state is not None:
            lines.append(
                f"  state      {self.state.directory} (kept across restarts: {self.restored}; "
                "--clean or LOCAL_CLEAN=1 starts empty)"
            )
        lines += [
            "",
            "Try:",
            "  # generate a barcode image",
            f"  curl -H {key} '{base}/barcodes?type=ean13&content={SAMPLE_CODE}"
            "&width=300&height=150'",
            *self._image_path_lines(),
            "  # look a product up",
            f"  curl -H {key} '{base}/products/{SAMPLE_CODE}'",
            *upload_example(key, base),
            "",
        ]
        return "\n".join(lines)


def upload_example(key_header: str, base: str) -> list[str]:
    """Shell lines that upload a code list the way an app does, writing no files.

    Ask for a presigned POST, send the list from stdin with exactly the fields the
    answer gives, then follow the answer's `status_url` (never a URL built by hand).
    """
    field = "python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])'"
    post = (
        'python3 -c \'import json,shlex,sys; u=json.load(sys.stdin)["upload"]; '
        'print(" ".join(["curl -s"] + ["-F " + shlex.quote(k + "=" + v) for k, v in '
        'u["fields"].items()] + ["-F \\"file=@-;filename=codes.csv\\"", shlex.quote(u["url"])]))\''
    )
    return [
        "  # upload a code list: ask for a presigned POST, send the list, follow status_url",
        f"  UPLOAD=$(curl -s -X POST -H {key_header} -H 'Content-Type: application/json' "
        f"""-d '{{"filename": "codes.csv", "content_type": "text/csv"}}' '{base}/uploads')""",
        f"""  printf 'code\\n{SAMPLE_CODE}\\n' | sh -c "$(printf '%s' "$UPLOAD" | {post})\"""",
        f"""  sleep 2; curl -s -H {key_header} "$(printf '%s' "$UPLOAD" | {field} status_url)\"""",
    ]


def parse_args(argv: Sequence[str] | None, environ: Mapping[str, str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m local.stack", description=__doc__)
    parser.add_argument("--port", type=int, default=int(environ.get("PORT") or DEFAULT_PORT))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--stack-name", default="barcode-local")
    parser.add_argument(
        "--parameter-overrides",
        nargs="*",
        default=[],
        metavar="NAME=VALUE",
        help="template parameters, like sam deploy --parameter-overrides",
    )
    parser.add_argument(
        "--retry-seconds",
        type=int,
        default=int(environ.get("LOCAL_SQS_RETRY_SECONDS") or 2),
        help="delay before a failed queue message is retried (-1: the queue's own timeout)",
    )
    parser.add_argument(
        "--clean",
        action="store_true",
        default=environ.get("LOCAL_CLEAN", "").lower() in ("1", "true", "yes"),
        help="start with empty tables, buckets and secret (forget .local/state; LOCAL_CLEAN=1)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(environ["LOCAL_STATE_DIR"]) if environ.get("LOCAL_STATE_DIR") else None,
        help="where the state is kept across restarts (LOCAL_STATE_DIR; default .local/state)",
    )
    args = parser.parse_args(argv)
    overrides = dict(item.split("=", 1) for item in args.parameter_overrides if "=" in item)
    return Options(
        host=args.host,
        port=args.port,
        template=args.template.resolve(),
        stack_name=args.stack_name,
        region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        parameter_overrides=overrides,
        retry_seconds=None if args.retry_seconds < 0 else args.retry_seconds,
        state_dir=args.state_dir.resolve() if args.state_dir else None,
        clean=args.clean,
        save_seconds=float(environ.get("LOCAL_STATE_SAVE_SECONDS") or 60),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run until SIGINT/SIGTERM; 0 on a clean stop."""
    options = parse_args(argv, os.environ)
    logging.basicConfig(
        level=os.environ.get("LOCAL_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("botocore", "boto3", "urllib3", "moto"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    stack = LocalStack(options)

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stack.stop_event.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGHUP, request_stop)  # a closed terminal still saves the state
    try:
        stack.start()
    except (OSError, LocalStateError) as error:
        print(f"local stack could not start: {error}", file=sys.stderr)
        stack.stop()
        return 1
    print(stack.banner(), flush=True)
    print(f"READY {stack.base_url}", flush=True)
    try:
        while not stack.stop_event.wait(0.5):
            pass
    finally:
        print("stopping the local stack", file=sys.stderr, flush=True)
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
