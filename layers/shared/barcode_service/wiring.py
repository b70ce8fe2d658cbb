"""The composition root: each function's services, built from settings in one place.

One `build_*` per function; handlers call them once per execution environment. This
is the one place that knows which concrete store, client and provider stands behind
each Protocol, and the one place that imports lazily: a service module is imported
when its function builds it, and what a request may not need (the providers' HTTP
stack, the secret store, the GuGuData client) is built on its first use through
`Lazy`. Services take the slice of settings they use.

With SnapStart, the handlers' before-snapshot hooks build every `Lazy` part and load
what a first request would load (warmup.py).
"""

from __future__ import annotations

import dataclasses
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from .settings import Settings
from .snapshot import renew_after_restore

if TYPE_CHECKING:
    import requests

    from .community.service import CommunityService
    from .community.share import OpenFoodFactsWriter, Sharing
    from .credentials import SecretStore
    from .generate import GenerateService
    from .gugudata import GuGuDataClient
    from .label_service import LabelService
    from .lookup import LookupService
    from .providers.baichuan import BaichuanClient
    from .providers.base import Provider
    from .transport import RetryPolicy
    from .uploads.service import UploadService
    from .uploads.sweeper import Sweeper
    from .uploads.worker import UploadWorker


class Lazy[T]:
    """A value built by `factory` on its first use, once, even when threads ask together."""

    made: ClassVar[weakref.WeakSet[Lazy[Any]]] = weakref.WeakSet()  # for prepare_*

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._value: T | None = None
        self._lock = threading.Lock()
        Lazy.made.add(self)

    def __call__(self) -> T:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._factory()
        return self._value


def _aws(service: str, **config: Any) -> Any:
    """A boto3 client (the low-level client everywhere: a resource costs ~40 ms more)."""
    import boto3  # noqa: PLC0415 - botocore's loaders: only functions that talk to AWS
    from botocore.config import Config  # noqa: PLC0415

    # Built before a snapshot with SnapStart: its connection pool is renewed after restore.
    return renew_after_restore(boto3.client(service, config=Config(**config) if config else None))


def _secrets(settings: Settings) -> SecretStore:
    # requests, Powertools Parameters and the credential models cost ~40 ms at import:
    # only a request that reaches a paid upstream reads the secret.
    from .credentials import SecretStore  # noqa: PLC0415

    return SecretStore(settings.secret_id, settings.secret_max_age)


def prepare_secrets(settings: Settings) -> None:
    """The secret's reader on a Secrets Manager client built now (before a snapshot): the
    client, not the secret, which is still read on first use."""
    if settings.secret_id:
        from .credentials import use_secrets_client  # noqa: PLC0415

        use_secrets_client(_aws("secretsmanager"))


def _retry_policy(settings: Settings) -> RetryPolicy:
    """The upstream clients' attempts, backoff and deadlines (the UPSTREAM_* settings)."""
    from .transport import RetryPolicy  # noqa: PLC0415 - requests: only clients need it

    return RetryPolicy(
        attempts=settings.upstream_attempts,
        backoff=settings.upstream_backoff,
        deadline=settings.upstream_deadline,
        connect_timeout=settings.upstream_connect_timeout,
        read_timeout=settings.upstream_read_timeout,
    )


# --- lookups --------------------------------------------------------------------------------


def build_lookup_service(settings: Settings, *, uploads: bool = False) -> LookupService:
    """The lookup service on the real table, secret, limiter and providers.

    `uploads`: the upload workers' provider list (UPLOAD_LOOKUP_PROVIDERS) and wait.
    The providers, their HTTP stack, the secret store and the limiter are built on the
    first lookup that has to ask a provider; cache and catalog hits never load them.
    """
    from .budgets import Budgets  # noqa: PLC0415
    from .cache import DynamoLookupStore  # noqa: PLC0415
    from .lookup import LookupPolicy, LookupService  # noqa: PLC0415
    from .provider_health import DynamoHealthStore  # noqa: PLC0415
    from .router import Router  # noqa: PLC0415

    names = settings.provider_names(uploads=uploads)
    _announce_contact(names, settings)
    dynamodb = _aws("dynamodb")
    baichuan = Lazy(lambda: _baichuan_client(settings))
    providers = Lazy(lambda: build_providers(names, settings, baichuan))

    def limiter() -> Any:
        from .limiter import FleetLimiter  # noqa: PLC0415

        return FleetLimiter(settings.cache_table, dynamodb)

    wait = settings.upload_provider_wait_seconds if uploads else settings.provider_wait_seconds
    router = Router(
        names, providers, Lazy(limiter), max_wait=wait, deadline=settings.upstream_deadline
    )
    store = DynamoLookupStore(settings.cache_table, dynamodb)
    budgets = Budgets(
        settings.cache_table, dynamodb, default_limit=settings.client_daily_lookup_budget
    )
    policy = LookupPolicy.from_settings(settings)
    if uploads:
        # A worker outwaits a lease rather than writing an error row: a lease held by a
        # worker that stopped (a crash, a redeploy) ends by itself after LEASE_SECONDS.
        wait = max(policy.lease_wait_seconds, policy.lease_seconds + 1)
        policy = dataclasses.replace(policy, lease_wait_seconds=wait)
    return LookupService(
        policy,
        store,
        router,
        DynamoHealthStore(settings.cache_table, dynamodb),
        budgets=budgets,
    )


def _announce_contact(names: Sequence[str], settings: Settings) -> None:
    """Say once per cold start that Open Library may refuse us when no contact is sent."""
    if "openlibrary" in names and not settings.has_contact:
        from .observability import logger  # noqa: PLC0415

        logger.warning(
            "PROVIDER_CONTACT is empty: no contact is sent in the User-Agent, so Open Library "
            "may refuse calls (it asks for one) and is asked at most once a second; set it "
            "to your URL or e-mail",
            extra={"provider": "openlibrary"},
        )


def _baichuan_client(settings: Settings) -> BaichuanClient:
    from .errors import CredentialsNotConfigured, ProviderNotConfigured  # noqa: PLC0415
    from .providers.baichuan import BaichuanClient  # noqa: PLC0415

    secrets = _secrets(settings)

    def keys(refresh: bool) -> tuple[str, str]:
        try:
            credentials = secrets.lookup(refresh)
        except CredentialsNotConfigured as missing:
            raise ProviderNotConfigured(
                "lookup provider baichuan has no credentials configured; "
                "an operator must add them (or remove it from LOOKUP_PROVIDERS)"
            ) from missing
        return credentials.api_key.get_secret_value(), credentials.secret_key.get_secret_value()

    return BaichuanClient(settings.lookup_api_url, keys, policy=_retry_policy(settings))


def build_providers(
    names: Sequence[str],
    settings: Settings,
    baichuan_client: Callable[[], BaichuanClient],
    session: requests.Session | None = None,
) -> list[Provider]:
    """The providers named, in order, sharing one keep-alive session with our User-Agent
    (an alias names its provider: the Open Food Facts family is built once)."""
    from .providers import parse_names  # noqa: PLC0415
    from .transport import new_session, user_agent  # noqa: PLC0415 - requests: ~40 ms

    shared = session or new_session(user_agent(settings.provider_contact))
    names = parse_names(",".join(names))
    return [build_provider(name, settings, baichuan_client, shared) for name in names]


def build_provider(
    name: str,
    settings: Settings,
    baichuan_client: Callable[[], BaichuanClient],
    session: requests.Session,
) -> Provider:
    """One provider by name (a name from providers.PROVIDER_NAMES): one line each."""
    from .providers.base import RateLimit  # noqa: PLC0415

    policy = _retry_policy(settings)
    if name == "openfoodfacts":
        from .providers.openfoodfacts import DATABASES, OpenFactsProvider  # noqa: PLC0415

        bases = {db: getattr(settings, f"{db}_api_url") for db in DATABASES}
        limit = RateLimit(settings.openfoodfacts_requests_per_minute, 60)
        return OpenFactsProvider(session, bases, policy=policy, limit=limit)
    if name == "openlibrary":
        from .providers.openlibrary import OpenLibraryProvider  # noqa: PLC0415

        limit = RateLimit(settings.openlibrary_per_minute, 60)
        return OpenLibraryProvider(
            settings.openlibrary_api_url, session, policy=policy, limit=limit
        )
    if name == "upcitemdb":
        from .providers.upcitemdb import UpcitemdbProvider  # noqa: PLC0415

        limit = RateLimit(
            settings.upcitemdb_requests_per_minute, 60, per_day=settings.upcitemdb_daily_limit
        )
        key = _upcitemdb_key(settings)
        return UpcitemdbProvider(
            settings.upcitemdb_api_url, session, key, policy=policy, limit=limit
        )
    if name == "community":
        from .community.store import DynamoCommunityStore  # noqa: PLC0415
        from .providers.community import CommunityProvider  # noqa: PLC0415

        return CommunityProvider(DynamoCommunityStore(settings.cache_table, _aws("dynamodb")))
    if name == "baichuan":
        from .providers.baichuan import BaichuanProvider  # noqa: PLC0415

        limit = RateLimit(settings.baichuan_requests_per_second, 1, settings.baichuan_burst)
        return BaichuanProvider(baichuan_client, limit)
    raise ValueError(f"unknown provider {name!r}")


def _upcitemdb_key(settings: Settings) -> Callable[[bool], str | None]:
    """UPCitemdb's paid user_key from the secret (read on first use), or None: its trial."""
    secrets = Lazy(lambda: _secrets(settings))

    def key(refresh: bool) -> str | None:
        secret = secrets().upcitemdb(refresh)
        return secret.get_secret_value() if secret is not None else None

    return key


# --- community catalog ------------------------------------------------------------------------


def build_community_service(settings: Settings, lookups: LookupService) -> CommunityService:
    """`POST /products/{code}` on the real table, the lookups of the function, the queue."""
    from .cache import DynamoLookupStore  # noqa: PLC0415
    from .community.service import CommunityService, Publisher  # noqa: PLC0415
    from .community.store import DailyLimit, DynamoCommunityStore  # noqa: PLC0415
    from .uploads.jobs import DynamoJobStore  # noqa: PLC0415

    table, dynamodb = settings.cache_table, _aws("dynamodb")
    return CommunityService(
        lookups,
        DynamoCommunityStore(table, dynamodb),
        DailyLimit(table, dynamodb, settings.community_daily_limit),
        jobs=DynamoJobStore(table, dynamodb, ttl_seconds=settings.upload_job_ttl_seconds),
        publisher=Publisher(
            DynamoLookupStore(table, dynamodb),
            found_ttl=settings.found_ttl_seconds,
            stale_grace=settings.stale_grace_seconds,
        ),
        sharing=Lazy(lambda: build_sharing(settings, dynamodb)),
        confirmations=settings.community_confirmations,
    )


def build_sharing(settings: Settings, dynamodb: Any) -> Sharing:
    """Open Food Facts sharing (None writer when COMMUNITY_SHARE_OPENFOODFACTS is off)."""
    from .community.share import Sharing  # noqa: PLC0415
    from .community.store import DynamoCommunityStore  # noqa: PLC0415

    writer = Lazy(lambda: _openfoodfacts_writer(settings))
    return Sharing(
        DynamoCommunityStore(settings.cache_table, dynamodb),
        writer if settings.shares_to_openfoodfacts else None,
        sqs=_aws("sqs"),
        queue_url=settings.community_share_queue_url,
        max_receive_count=settings.community_share_max_receive_count,
    )


def _openfoodfacts_writer(settings: Settings) -> OpenFoodFactsWriter:
    from . import PROJECT_NAME, __version__  # noqa: PLC0415
    from .community.share import OpenFoodFactsWriter  # noqa: PLC0415
    from .transport import new_session, user_agent  # noqa: PLC0415 - requests: ~40 ms

    return OpenFoodFactsWriter(
        settings.openfoodfacts_write_url,
        _secrets(settings).openfoodfacts,
        new_session(user_agent(settings.provider_contact)),
        policy=_retry_policy(settings),
        app_name=settings.openfoodfacts_app_name or PROJECT_NAME,
        app_version=__version__,
    )


# --- generation ------------------------------------------------------------------------------


def build_generate_service(settings: Settings) -> GenerateService:
    """The generate service on the images bucket, the URL cache and (lazily) GuGuData."""
    from .generate import GenerateService  # noqa: PLC0415
    from .storage import S3ImageStore  # noqa: PLC0415
    from .url_cache import DynamoUrlCache  # noqa: PLC0415

    # SigV4 presigning works in every region; the legacy default does not.
    images = S3ImageStore(
        _aws("s3", signature_version="s3v4"),
        settings.images_bucket,
        base_url=settings.images_base_url,
        presign_expires=settings.presign_expires_seconds,
    )
    dynamodb = _aws("dynamodb") if settings.cache_table else None
    cache = DynamoUrlCache(dynamodb, settings.cache_table, settings.generate_url_ttl_seconds)

    def upstream() -> GuGuDataClient:
        from .gugudata import GuGuDataClient  # noqa: PLC0415 - only a URL-cache miss needs it

        secrets = _secrets(settings)

        def appkey(refresh: bool) -> str:
            return secrets.generate(refresh).appkey.get_secret_value()

        return GuGuDataClient(
            settings.generate_api_url,
            appkey,
            mode=settings.generate_request_mode,
            policy=_retry_policy(settings),
        )

    return GenerateService(
        mode=settings.generate_backend,
        images=images,
        cache=cache,
        upstream=None,
        upstream_factory=Lazy(upstream) if settings.generate_backend != "local" else None,
        image_backend=settings.generate_image_backend,
        upstream_seconds=settings.upstream_deadline,
    )


def build_label_service(generate: GenerateService) -> LabelService:
    """Label sheets (POST /labels), stored where the generate service keeps its images."""
    # The label modules (~10 ms at a cold start) only when a sheet is asked for.
    from .label_service import LabelService  # noqa: PLC0415

    return LabelService(generate.images)


# --- uploads -------------------------------------------------------------------------------


def build_upload_service(settings: Settings) -> UploadService:
    """The uploads API on the real bucket and table."""
    from .uploads.jobs import DynamoJobStore  # noqa: PLC0415
    from .uploads.service import UploadService  # noqa: PLC0415

    jobs = DynamoJobStore(
        settings.cache_table, _aws("dynamodb"), ttl_seconds=settings.upload_job_ttl_seconds
    )
    return UploadService(settings, _aws("s3", signature_version="s3v4"), jobs)


def build_upload_worker(settings: Settings, lookups: LookupService | None = None) -> UploadWorker:
    """The upload worker on the real bucket, queue and table, sharing the uploads' rate."""
    from aws_lambda_powertools.utilities.idempotency import (  # noqa: PLC0415
        DynamoDBPersistenceLayer,
    )

    from .limiter import FleetLimiter  # noqa: PLC0415
    from .storage import S3ImageStore  # noqa: PLC0415
    from .uploads.jobs import DynamoJobStore  # noqa: PLC0415
    from .uploads.pacing import FleetShare, Pacer  # noqa: PLC0415
    from .uploads.worker import UploadWorker  # noqa: PLC0415

    dynamodb = _aws("dynamodb")

    def images() -> S3ImageStore:
        return S3ImageStore(
            _aws("s3", signature_version="s3v4"),  # product photo URLs may be presigned
            settings.images_bucket,
            base_url=settings.images_base_url,
            presign_expires=settings.presign_expires_seconds,
        )

    persistence = DynamoDBPersistenceLayer(
        table_name=settings.cache_table,
        key_attr="pk",
        expiry_attr="expires_at",
        boto3_client=dynamodb,
    )
    return UploadWorker(
        settings,
        s3=_aws("s3"),
        sqs=_aws("sqs"),
        jobs=DynamoJobStore(
            settings.cache_table, dynamodb, ttl_seconds=settings.upload_job_ttl_seconds
        ),
        lookups=lookups or build_lookup_service(settings, uploads=True),
        persistence=persistence,
        pacer=FleetShare(
            FleetLimiter(settings.cache_table, dynamodb),
            settings.uploads_lookups_per_second,
            fallback=Pacer(settings.worker_lookups_per_second),
        ),
        images=Lazy(images),
        sharing=Lazy(lambda: build_sharing(settings, dynamodb)),
    )


def build_sweeper(settings: Settings) -> Sweeper:
    """The upload sweeper on the real table, bucket and queue."""
    from .uploads.bucket import UploadBucket  # noqa: PLC0415
    from .uploads.jobs import DynamoJobStore  # noqa: PLC0415
    from .uploads.results import ResultWriter  # noqa: PLC0415
    from .uploads.sweeper import Sweeper  # noqa: PLC0415

    jobs = DynamoJobStore(
        settings.cache_table, _aws("dynamodb"), ttl_seconds=settings.upload_job_ttl_seconds
    )
    bucket = UploadBucket(_aws("s3"), settings.uploads_bucket)
    return Sweeper(
        settings,
        jobs=jobs,
        bucket=bucket,
        sqs=_aws("sqs"),
        results=ResultWriter(settings, bucket, jobs),
    )
