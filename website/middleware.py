"""Project middleware."""

from django.conf import settings


class AdminSameOriginFramesMiddleware:
    """Let the Wagtail admin frame its own pages; deny framing elsewhere.

    The page editor shows previews in a same-origin frame, so admin
    responses get ``X-Frame-Options: SAMEORIGIN``; every public page keeps
    the site-wide ``DENY``. Sits inside Django's XFrameOptionsMiddleware,
    which leaves a header that is already set alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = "/" + settings.GATHER_ADMIN_PATH

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(self.admin_prefix):
            response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        return response
