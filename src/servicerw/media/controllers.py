"""Photos of a business in the owner's dashboard: upload several at once (with progress when JavaScript is
on), see processing state (htmx polling), choose the cover, reorder, delete."""

from __future__ import annotations

import asyncio

from litestar import Controller, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from servicerw.core import i18n
from servicerw.core.auth import OwnedBusiness
from servicerw.core.storage import variant_key
from servicerw.core.web import wants_fragment
from servicerw.media.processing import MAX_UPLOAD_BYTES, variant_widths
from servicerw.media.services import MAX_FILES_PER_UPLOAD, MAX_PHOTOS, UPLOAD_SECONDS, PhotoError, PhotoService

NO_STORE = {"cache-control": "no-store"}


class PhotoController(Controller):
    path = "/dashboard/{business_id:int}/photos"
    request_class = HTMXRequest

    async def _page(
        self, request: HTMXRequest, business, photos: PhotoService, messages: list[str], status: int = 200
    ) -> Template:
        items = []
        for p in await photos.list(business.id):
            thumb = None
            if p["status"] == "ready":
                width = variant_widths(p["width"])[0] if p["width"] else 320
                thumb = photos.storage.url(variant_key(p["storage_key"], width, "jpg"))
            items.append({**p, "thumb": thumb})
        context = {
            "business": business,
            "photos": items,
            "messages": messages,
            "max_photos": MAX_PHOTOS,
            "max_files": MAX_FILES_PER_UPLOAD,
            "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
            "pending": any(p["status"] == "pending" for p in items),
        }
        name = "media/_photos.html" if wants_fragment(request) else "media/photos.html"
        return Template(name, context=context, status_code=status, headers=NO_STORE)

    @get("/", name="photos")
    async def photos_page(
        self,
        request: HTMXRequest,
        owned_business: NamedDependency[OwnedBusiness],
        photos: NamedDependency[PhotoService],
    ) -> Template:
        return await self._page(request, owned_business, photos, [])

    @post(
        "/",
        name="photos_upload",
        status_code=200,
        request_max_body_size=MAX_FILES_PER_UPLOAD * MAX_UPLOAD_BYTES + 1024 * 1024,
    )
    async def upload(
        self,
        request: HTMXRequest,
        owned_business: NamedDependency[OwnedBusiness],
        photos: NamedDependency[PhotoService],
    ) -> Template:
        business = owned_business
        form = await request.form()
        files = [f for f in form.getall("photos", []) if isinstance(f, UploadFile) and f.filename]
        files = files[:MAX_FILES_PER_UPLOAD]
        messages, status = [], 200
        if not files:
            messages.append(i18n.gettext("Choose one or more photos first."))
            status = 400
        deadline = asyncio.get_running_loop().time() + UPLOAD_SECONDS
        storage_ok = bool(files) and await photos.storage_ready()
        for upload in files:
            data = await upload.read(MAX_UPLOAD_BYTES + 1)
            name = upload.filename[:80]
            try:
                if len(data) > MAX_UPLOAD_BYTES:
                    raise PhotoError("too_large", 413)
                if not storage_ok:  # S3 down, frozen or past the deadline: the other files are not tried
                    raise PhotoError("storage unavailable", 503)
                await photos.add(business.id, data, deadline=deadline)
                messages.append(i18n.gettext("%(file)s: received, being prepared.", file=name))
            except PhotoError as error:
                status = max(status, error.status)
                storage_ok = storage_ok and error.status != 503
                messages.append(
                    name
                    + ": "
                    + {
                        503: i18n.gettext(
                            "photo storage is unavailable right now; nothing was saved. Try again later."
                        ),
                        413: i18n.gettext(
                            "too large or no room left (at most %(n)d photos of %(mb)d MB).",
                            n=MAX_PHOTOS,
                            mb=MAX_UPLOAD_BYTES // (1024 * 1024),
                        ),
                        415: i18n.gettext("not a JPEG, PNG or WebP photo."),
                    }.get(error.status, i18n.gettext("this file could not be read as a photo."))
                )
        return await self._page(request, business, photos, messages, 200 if status == 200 else status)

    @post("/{image_id:int}/{action:str}", name="photo_action")
    async def action(
        self,
        request: HTMXRequest,
        owned_business: NamedDependency[OwnedBusiness],
        image_id: FromPath[int],
        action: FromPath[str],
        photos: NamedDependency[PhotoService],
    ) -> Template | Redirect:
        business = owned_business
        if action == "delete":
            if not await photos.delete(business.id, image_id):
                raise NotFoundException()
        elif action == "cover":
            await photos.set_cover(business.id, image_id)
        elif action in ("up", "down"):
            await photos.move(business.id, image_id, -1 if action == "up" else 1)
        else:
            raise NotFoundException()
        if request.htmx:
            return await self._page(request, business, photos, [])
        return Redirect(path=f"/dashboard/{business.id}/photos", status_code=303)


ROUTES = [PhotoController]
