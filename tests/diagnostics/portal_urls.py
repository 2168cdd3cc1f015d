"""The project's URLconf with the portal alert routes that ``sharing/portal_urls.py`` is to add
(reported to the lead); used by the portal inbox tests until then, and harmless after."""

from django.urls import include, path

from diagnostics import views
from ris import urls as ris_urls
from sharing import portal_urls

ALERT_ROUTES = [
    path("alertas/", views.portal_alert_inbox, name="alert_inbox"),
    path(
        "alertas/<int:delivery_id>/vista/", views.portal_alert_acknowledge, name="alert_acknowledge"
    ),
    path("alertas/<int:delivery_id>/resolver/", views.portal_alert_resolve, name="alert_resolve"),
]
_present = {getattr(p, "name", None) for p in portal_urls.urlpatterns}
portal = [*portal_urls.urlpatterns, *(r for r in ALERT_ROUTES if r.name not in _present)]

urlpatterns = [
    *(p for p in ris_urls.urlpatterns if str(p.pattern) != "portal/"),
    path("portal/", include((portal, "portal"))),
]
