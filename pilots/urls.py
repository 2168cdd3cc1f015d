"""Pilot projects and their evaluation (aggregates only), at /evaluacion/.

No route here takes a person: the only identifiers are of pilots.
"""
from django.urls import path

from . import views

app_name = "evaluation"

urlpatterns = [
    path("", views.home, name="home"),
    path("pilotos/<int:pilot_id>/", views.dashboard, name="dashboard"),
    path("pilotos/<int:pilot_id>/fse/", views.esf_indicators, name="esf"),
    path("pilotos/<int:pilot_id>/seguimiento/", views.follow_ups, name="follow_ups"),
    path("pilotos/<int:pilot_id>/informe.pdf", views.report, name="report"),
    path("pilotos/<int:pilot_id>/descargas/<slug:dataset>.<slug:fmt>", views.download, name="download"),
]
