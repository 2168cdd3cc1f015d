from django.utils.functional import SimpleLazyObject

from .viewer import viewer_for_request


def viewer(request):
    return {"viewer": SimpleLazyObject(lambda: viewer_for_request(request))}


def areas(request):
    """URL namespaces of the area the page belongs to: NGO technicians work in the restricted
    portal, where the coordination pages and the record live under ``portal:``; staff in the
    workspace (``coordination:`` and ``workspace:``). Templates reverse through these."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.namespace == "portal":
        return {"coord_ns": "portal", "record_ns": "portal", "alerts_ns": "portal"}
    return {"coord_ns": "coordination", "record_ns": "workspace", "alerts_ns": "alerts"}
