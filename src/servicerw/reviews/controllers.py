"""Reviews: all reviews of a business, writing one (logged-in, not the owner), the owner's public answers."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, QueryParameter
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from servicerw.businesses.services import ProfileService
from servicerw.core import i18n
from servicerw.core.auth import CurrentUser, LoginRequired, OwnedBusiness
from servicerw.core.forms import INT4_MAX, FormErrors
from servicerw.core.web import wants_fragment
from servicerw.reviews.services import PAGE_SIZE, ReviewService

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
NO_STORE = {"cache-control": "private, no-store", "vary": "HX-Request"}


class ReviewController(Controller):
    path = "/b/{slug:str}/reviews"
    request_class = HTMXRequest

    @get("/", name="reviews")
    async def all_reviews(
        self,
        slug: FromPath[str],
        profiles: NamedDependency[ProfileService],
        reviews: NamedDependency[ReviewService],
        page: Annotated[int, QueryParameter(ge=1, le=10000)] = 1,
    ) -> Template:
        business = await profiles.profile(slug[:180], i18n.current_language())
        if business is None:
            raise NotFoundException()
        rows = await reviews.page(business.id, page)
        context = {"b": business, "reviews": rows[:PAGE_SIZE], "page": page, "has_next": len(rows) > PAGE_SIZE}
        return Template("reviews/page.html", context=context)

    @post("/", name="review_send", status_code=200)
    async def send(
        self,
        request: HTMXRequest,
        slug: FromPath[str],
        data: Form,
        maybe_user: NamedDependency[CurrentUser | None],
        profiles: NamedDependency[ProfileService],
        reviews: NamedDependency[ReviewService],
    ) -> Template | Redirect:
        business = await profiles.profile(slug[:180], i18n.current_language())
        if business is None:
            raise NotFoundException()
        if maybe_user is None:
            raise LoginRequired(next_path=f"/b/{business.slug}")
        user_id = maybe_user.id
        form = {"rating": (data.get("rating") or "")[:2], "body": (data.get("body") or "")[:3000]}
        review: dict = {"form": form, "errors": {}}
        status = 200
        try:
            await reviews.submit(business.id, user_id, form["rating"], form["body"], i18n.current_language())
            review["done"] = True
        except FormErrors as error:
            review["errors"], status = error.errors, error.status
        if wants_fragment(request):
            standing = await reviews.standing(business.id, user_id)
            context = {"b": business, "review": review, "logged_in": True, "standing": standing}
            return Template("reviews/_box.html", context=context, status_code=status, headers=NO_STORE)
        if review.get("done"):
            return Redirect(path=f"/b/{business.slug}?reviewed=1#reviews", status_code=303)
        profile_page = await profiles.page(business, user_id, review=review)
        return Template("businesses/profile.html", context=profile_page.context(), status_code=status, headers=NO_STORE)


class OwnerReviewController(Controller):
    """The owner's reviews page: published reviews (unanswered first) with a one-time public answer."""

    path = "/dashboard/{business_id:int}/reviews"

    async def _page(
        self, business, reviews: ReviewService, page: int, errors: dict | None = None, status: int = 200, **extra
    ) -> Template:
        rows = await reviews.for_owner(business.id, page)
        context = {
            "business": business,
            "reviews": rows[:PAGE_SIZE],
            "has_next": len(rows) > PAGE_SIZE,
            "page": page,
            "pending": await reviews.owner_pending_count(business.id),
            "errors": errors or {},
            **extra,
        }
        return Template("reviews/owner.html", context=context, status_code=status, headers=NO_STORE)

    @get("/", name="owner_reviews")
    async def list_reviews(
        self,
        owned_business: NamedDependency[OwnedBusiness],
        reviews: NamedDependency[ReviewService],
        page: Annotated[int, QueryParameter(ge=1, le=10000)] = 1,
        done: Annotated[int, QueryParameter(ge=0, le=INT4_MAX)] = 0,
    ) -> Template:
        return await self._page(owned_business, reviews, page, done=done)

    @post("/{review_id:int}/reply", name="owner_review_reply", status_code=200)
    async def reply(
        self,
        owned_business: NamedDependency[OwnedBusiness],
        review_id: FromPath[int],
        data: Form,
        reviews: NamedDependency[ReviewService],
    ) -> Template | Redirect:
        business, business_id = owned_business, owned_business.id
        text = (data.get("reply") or "")[:3000]
        try:
            await reviews.reply(business_id, review_id, text)
        except LookupError as error:
            raise NotFoundException() from error
        except FormErrors as error:
            return await self._page(
                business, reviews, 1, {review_id: error.errors["reply"]}, error.status, draft=(review_id, text)
            )
        return Redirect(path=f"/dashboard/{business_id}/reviews?done={review_id}#r{review_id}", status_code=303)


ROUTES = [ReviewController, OwnerReviewController]
