"""Alert inbox (/espacio/alertas/)."""

from django.urls import path

from . import views

app_name = "alerts"

urlpatterns = [
    path("", views.alert_inbox, name="inbox"),
    path("<int:delivery_id>/vista/", views.alert_acknowledge_view, name="acknowledge"),
    path("<int:delivery_id>/resolver/", views.alert_resolve_view, name="resolve"),
]
