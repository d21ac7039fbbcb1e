"""Project middleware."""

from csp.middleware import CSPMiddleware, PolicyParts
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


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the admin's own policy.

    Public pages get ``CONTENT_SECURITY_POLICY`` (no inline script or
    style). The Wagtail admin still writes inline scripts (inline panels,
    date pickers) and styles, and frames its own previews, so its pages get
    ``GATHER_ADMIN_CONTENT_SECURITY_POLICY`` instead: looser there, for
    signed-in staff only, rather than no policy at all.
    """

    def __init__(self, get_response):
        super().__init__(get_response)
        self.admin_prefix = "/" + settings.GATHER_ADMIN_PATH

    def get_policy_parts(self, request, response, report_only=False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if (
            not report_only
            and parts.config is None
            and request.path_info.startswith(self.admin_prefix)
        ):
            parts.config = settings.GATHER_ADMIN_CONTENT_SECURITY_POLICY["DIRECTIVES"]
        return parts
