"""Response headers the site adds beyond Django's own security headers."""

from django.conf import settings


class PermissionsPolicyMiddleware:
    """Send ``Permissions-Policy`` (``GATHER_PERMISSIONS_POLICY``) on every
    response: no page of Gather uses the camera, microphone, location or
    other powerful browser features, so none may, nor anything framed in
    it. A response that sets its own header keeps it."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = ", ".join(
            f"{feature}=({' '.join(allowed)})"
            for feature, allowed in settings.GATHER_PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Permissions-Policy", self.policy)
        return response
