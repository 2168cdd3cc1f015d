import re
import uuid

_SAFE = re.compile(r"^[A-Za-z0-9\-]{8,64}$")


class RequestIdMiddleware:
    """Gives every request an id (kept from X-Request-ID when it is well formed) for the logs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming if _SAFE.match(incoming) else uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-ID"] = request.id
        return response


class AreaBoundaryMiddleware:
    """NGO technicians work only in their restricted portal; staff never in it.

    A view may let several roles in (the coordination pages serve both areas), so the area is
    decided here, on the URL namespace the request resolved to, before any view runs: a
    technician asking for a workspace page, or anyone else asking for a portal page, gets the
    same 404 as for a page that does not exist.
    """

    WORKSPACE = frozenset({"workspace", "coordination", "alerts"})
    PORTAL = frozenset({"portal"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from django.http import Http404

        from ris.accounts.models import Role
        from ris.accounts.viewer import viewer_for_request

        match = request.resolver_match
        namespace = match.namespace if match is not None else ""
        if namespace not in self.WORKSPACE and namespace not in self.PORTAL:
            return None
        viewer = viewer_for_request(request)
        if viewer is None:
            return None  # the view's own policy answers (login redirect or 404)
        in_portal = namespace in self.PORTAL
        if (viewer.role == Role.NGO_TECHNICIAN) != in_portal:
            raise Http404
        return None
