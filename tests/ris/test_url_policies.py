"""Every view declares who may use it (``ris.accounts.access``).

The test walks the whole URLconf and fails for any view without the
``ris_access_policy`` marker, so a new page cannot ship open by mistake. Django
admin's own views (namespace "admin") are guarded by ``RISAdminSite.has_permission``.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.http import HttpResponse
from django.urls import URLResolver, get_resolver, include, path
from django.views import View

from ris.accounts.access import POLICY_ATTR, authenticated, public, role_required
from ris.accounts.models import Role

ADMIN_NAMESPACE = "admin"
KNOWN_POLICIES = {"public", "authenticated", "roles"}


def walk(
    resolver: URLResolver, prefix: str = "", namespaces: tuple[str, ...] = ()
) -> Iterator[tuple]:
    """(route, namespaces, pattern) for every URL pattern under ``resolver``."""
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from walk(
                entry, route, (*namespaces, entry.namespace) if entry.namespace else namespaces
            )
        else:
            yield route, namespaces, entry


def views_without_policy(resolver: URLResolver) -> list[str]:
    missing = []
    for route, namespaces, pattern in walk(resolver):
        if ADMIN_NAMESPACE in namespaces:
            continue
        if not hasattr(pattern.callback, POLICY_ATTR):
            missing.append(f"/{route} → {pattern.lookup_str}")
    return missing


def test_every_view_declares_an_access_policy():
    assert views_without_policy(get_resolver()) == []


def test_every_policy_is_a_known_kind():
    for route, namespaces, pattern in walk(get_resolver()):
        if ADMIN_NAMESPACE in namespaces:
            continue
        kind, roles = getattr(pattern.callback, POLICY_ATTR)
        assert kind in KNOWN_POLICIES, route
        assert (kind == "roles") == bool(roles), route
        assert set(roles) <= set(Role.values), route


def test_the_walk_reaches_nested_namespaces():
    seen = {(namespaces, pattern.name) for _, namespaces, pattern in walk(get_resolver())}
    assert ((), "login") in seen
    assert (("workspace",), "home") in seen
    assert (("admin",), "index") in seen


def test_public_views_are_only_the_expected_ones():
    public_routes = {
        pattern.name
        for _, namespaces, pattern in walk(get_resolver())
        if ADMIN_NAMESPACE not in namespaces
        and getattr(pattern.callback, POLICY_ATTR)[0] == "public"
    }
    assert public_routes == {"login", "set_language", "health"}


# --- The check itself can fail ------------------------------------------------------------


def _plain(request):
    return HttpResponse()


@role_required(Role.SOCIAL_WORKER)
def _guarded(request):
    return HttpResponse()


class _PlainView(View):
    def get(self, request):
        return HttpResponse()


def _urlconf(*patterns) -> URLResolver:
    from django.urls.resolvers import RegexPattern

    return URLResolver(RegexPattern(r"^/"), list(patterns))


def test_an_unmarked_function_view_is_reported():
    resolver = _urlconf(path("abierta/", _plain), path("protegida/", _guarded))
    [missing] = views_without_policy(resolver)
    assert missing.startswith("/abierta/ → ")


def test_an_unmarked_class_based_view_is_reported_and_a_marked_one_is_not():
    resolver = _urlconf(
        path("clase/", _PlainView.as_view()), path("marcada/", authenticated(_PlainView.as_view()))
    )
    assert [m.split(" → ")[0] for m in views_without_policy(resolver)] == ["/clase/"]


def test_an_unmarked_view_inside_a_namespace_is_reported():
    nested = (
        [path("", _plain, name="x"), path("publica/", public(lambda request: HttpResponse()))],
        "nuevo",
    )
    resolver = _urlconf(path("nuevo/", include(nested)))
    assert len(views_without_policy(resolver)) == 1


def test_views_under_the_admin_namespace_are_left_to_the_admin_site():
    resolver = _urlconf(path("admin/", include(([path("", _plain)], "admin"))))
    assert views_without_policy(resolver) == []
