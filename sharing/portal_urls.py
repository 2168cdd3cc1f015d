"""NGO restricted portal (/portal/)."""

from django.urls import path

from cases import views as case_views

from . import portal_views

app_name = "portal"

urlpatterns = [
    path("", portal_views.portal_home, name="home"),
    path("personas/<int:person_id>/", case_views.portal_person_record, name="person_record"),
]
