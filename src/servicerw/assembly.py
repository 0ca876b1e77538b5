"""The one assembly point. `build_services(settings)` makes every service from the settings it is given;
`create_app` (app.py) and `servicerw worker` (cli.py) both use it. Each domain lists its route handlers in
`ROUTES` at the end of its controllers module; `route_handlers()` collects them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.di import Provide

from servicerw.accounts import admin_controllers as users_admin_routes
from servicerw.accounts import controllers as accounts_routes
from servicerw.accounts.admin import UserDirectory
from servicerw.accounts.limits import AccountLimits
from servicerw.accounts.services import AccountService
from servicerw.admin import controllers as admin_routes
from servicerw.admin.backlog import backlog_metrics
from servicerw.analytics import controllers as rum_routes
from servicerw.analytics.partitions import partitions_worker
from servicerw.analytics.rum import RumRecorder, RumService
from servicerw.analytics.services import AnalyticsWriter
from servicerw.api import controllers as api_routes
from servicerw.api.services import ApiKeyService, ApiReader
from servicerw.businesses import controllers as profile_routes
from servicerw.businesses import manage_controllers as listing_routes
from servicerw.businesses.listing import ListingService
from servicerw.businesses.services import BusinessService, ProfileService
from servicerw.catalog.services import CatalogService
from servicerw.claims import controllers as claim_routes
from servicerw.claims.services import ClaimService, OperatorListingService
from servicerw.core import replicas
from servicerw.core.audit import AuditLog
from servicerw.core.auth import Access
from servicerw.core.background import PollingWorker
from servicerw.core.cache import Cache
from servicerw.core.metrics import on_scrape
from servicerw.core.storage import Storage, build_storage
from servicerw.core.stores import FailOpenStore, build_counter_store, build_store
from servicerw.core.throttle import Limiter
from servicerw.dashboard import controllers as dashboard_routes
from servicerw.dashboard.services import DashboardService
from servicerw.home import controllers as home_routes
from servicerw.inquiries import controllers as inquiry_routes
from servicerw.inquiries.services import InquiryService
from servicerw.insights import controllers as insights_routes
from servicerw.insights.rollup import rollup_worker
from servicerw.insights.services import InsightsService
from servicerw.media import controllers as media_routes
from servicerw.media.services import PhotoService, photo_worker
from servicerw.moderation import controllers as moderation_routes
from servicerw.moderation.services import ModerationService
from servicerw.notifications import controllers as sms_routes
from servicerw.notifications.services import outbox_worker
from servicerw.notifications.sms import SmsAlerts
from servicerw.reports import controllers as report_routes
from servicerw.reports.services import ReportService
from servicerw.reviews import controllers as review_routes
from servicerw.reviews.services import ReviewService
from servicerw.search import controllers as search_routes
from servicerw.search.services import SearchService
from servicerw.settings import Settings

DOMAIN_ROUTES = (
    home_routes,
    profile_routes,
    search_routes,
    accounts_routes,
    listing_routes,
    media_routes,
    dashboard_routes,
    inquiry_routes,
    review_routes,
    admin_routes,
    claim_routes,
    report_routes,
    users_admin_routes,
    insights_routes,
    moderation_routes,
    api_routes,
    rum_routes,
    sms_routes,
)


def route_handlers() -> list[Any]:
    return [handler for module in DOMAIN_ROUTES for handler in module.ROUTES]


@dataclass
class Services:
    """Every service of the app, built once per process. The public fields are what request handlers
    may ask for by name (`NamedDependency[...]`)."""

    settings: Settings
    store: FailOpenStore
    session_store: FailOpenStore  # the app's "sessions" store (UserDirectory ends a user's sessions in it)
    # Limits' counters (log-in, API budgets): own connections and a longer timeout than caches get.
    counter_store: FailOpenStore
    storage: Storage
    cache: Cache
    catalog: CatalogService
    businesses: BusinessService
    profiles: ProfileService
    search: SearchService
    analytics: AnalyticsWriter
    accounts: AccountService
    account_limits: AccountLimits  # the account forms' limits (app.state.account_limits)
    listings: ListingService
    photos: PhotoService
    inquiries: InquiryService
    reviews: ReviewService
    moderation: ModerationService
    claims: ClaimService
    operator_listings: OperatorListingService
    audit: AuditLog
    reports: ReportService
    users: UserDirectory
    insights: InsightsService
    access: Access
    api_keys: ApiKeyService
    api_reader: ApiReader  # the public API's reads, over the services above
    rum: RumRecorder  # real-user vitals: beacons counted in process, flushed to rum_daily
    rum_vitals: RumService  # their p75s for operators
    sms_alerts: SmsAlerts  # owners' phone numbers and new-message SMS
    # Background work outside requests (the app runs them; so does `servicerw worker`).
    photo_worker: PollingWorker
    email_worker: PollingWorker
    rollup_worker: PollingWorker  # the statistics' daily rollups
    partitions_worker: PollingWorker  # analytics partitions ahead, detached past the retention

    PROVIDED = (
        "settings",
        "catalog",
        "businesses",
        "profiles",
        "search",
        "analytics",
        "accounts",
        "listings",
        "photos",
        "inquiries",
        "reviews",
        "moderation",
        "claims",
        "operator_listings",
        "audit",
        "reports",
        "users",
        "insights",
        "api_keys",
        "api_reader",
        "rum",
        "rum_vitals",
        "sms_alerts",
    )

    def providers(self) -> dict[str, Provide]:
        """Litestar dependencies: each service under its name, the same object for every request."""

        def constant(value: Any) -> Provide:
            return Provide(lambda: value, sync_to_thread=False, use_cache=True)

        return {name: constant(getattr(self, name)) for name in self.PROVIDED}

    @property
    def workers(self) -> list[PollingWorker]:
        return [self.photo_worker, self.email_worker, self.rollup_worker, self.partitions_worker]


def build_services(settings: Settings) -> Services:
    store = build_store(settings.valkey)
    storage = build_storage(settings.storage)
    cache = Cache(store.with_namespace("cache"), stale_window=replicas.window(settings.database))
    catalog = CatalogService(cache)
    businesses = BusinessService(storage, cache)
    session_store = store.with_namespace("sessions")
    counter_store = build_counter_store(settings.valkey)
    accounts = AccountService(session_store)
    listings = ListingService(cache)
    photos = PhotoService(storage, cache)
    sms_alerts = SmsAlerts(settings)
    inquiries = InquiryService(sms_alerts)
    reviews = ReviewService(cache)
    moderation = ModerationService(cache)
    profiles = ProfileService(storage, cache, reviews=reviews, response_times=inquiries)
    search = SearchService(businesses, catalog, cache, count_cap=settings.search.count_cap)
    analytics = AnalyticsWriter()
    on_scrape(backlog_metrics)  # /metrics: reviews, photos and emails waiting, read when Prometheus asks
    return Services(
        settings=settings,
        store=store,
        session_store=session_store,
        counter_store=counter_store,
        storage=storage,
        cache=cache,
        catalog=catalog,
        businesses=businesses,
        profiles=profiles,
        search=search,
        analytics=analytics,
        accounts=accounts,
        account_limits=AccountLimits(
            counter_store.with_namespace("account_limits"),
            secret_key=settings.server.secret_key,
            processes=settings.server.workers,
            production=settings.server.production,
            address_limit=settings.server.account_posts_per_minute,
        ),
        listings=listings,
        photos=photos,
        inquiries=inquiries,
        reviews=reviews,
        moderation=moderation,
        claims=ClaimService(cache),
        operator_listings=OperatorListingService(cache, listings),
        audit=AuditLog(),
        reports=ReportService(cache, reviews, moderation),
        users=UserDirectory(session_store),
        insights=InsightsService(catalog, cache),
        access=Access(users=accounts, businesses=listings),
        api_keys=ApiKeyService(),
        rum=RumRecorder(
            Limiter(
                counter_store.with_namespace("rum"),
                settings.analytics.rum_limit,
                60,
                processes=settings.server.workers,
            )
        ),
        rum_vitals=RumService(),
        sms_alerts=sms_alerts,
        api_reader=ApiReader(search, profiles, reviews, catalog, inquiries, listings, DashboardService(), analytics),
        photo_worker=photo_worker(photos),
        email_worker=outbox_worker(settings.email, sms=settings.sms),
        rollup_worker=rollup_worker(),
        partitions_worker=partitions_worker(settings.analytics),
    )
