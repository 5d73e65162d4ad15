from django.urls import path

from . import views

app_name = "rdap"

urlpatterns = [
    path("whois/", views.lookup, name="lookup"),
]
