from django.urls import path

from ris.accounts import views as account_views

app_name = "evaluation"

urlpatterns = [
    path("", account_views.evaluation_home, name="home"),
]
