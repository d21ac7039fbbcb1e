"""Response helpers shared by the apps."""


def private(response, *, cache: str = "no-store, private"):
    """Mark a response reached through a secret link or a login as private.

    It is not stored by shared caches, its address is not sent on as a
    referrer, and search engines do not index it.
    """
    response["Cache-Control"] = cache
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
