"""The tokens page: an HTML page of the app (under /accounts/), not part of the API's problem-details space."""

from django.urls import path

from api import token_views

app_name = "api_tokens"

urlpatterns = [
    path("", token_views.TokenListView.as_view(), name="list"),
    path("<str:prefix>/revoke/", token_views.TokenRevokeView.as_view(), name="revoke"),
]
