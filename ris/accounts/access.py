"""Every view declares who may use it.

``role_required`` lets in users whose active membership has one of the roles and
answers 404 to everyone else (a boring error that says nothing), and marks the
view so that the URLconf test can check that no view lacks a policy. ``public``
marks the few views anyone may open (login, health).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.http import Http404

from .viewer import viewer_for_request

POLICY_ATTR = "ris_access_policy"


def role_required(*roles: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            viewer = viewer_for_request(request)
            if viewer is None or viewer.role not in roles:
                raise Http404
            request.viewer = viewer
            return view(request, *args, **kwargs)

        setattr(wrapper, POLICY_ATTR, ("roles", frozenset(roles)))
        return wrapper

    return decorator


def public(view: Callable) -> Callable:
    view = login_not_required(view)
    setattr(view, POLICY_ATTR, ("public", frozenset()))
    return view


def authenticated(view: Callable) -> Callable:
    """Any signed-in user (the view itself decides what they see)."""
    setattr(view, POLICY_ATTR, ("authenticated", frozenset()))
    return view
