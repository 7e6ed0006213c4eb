from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from clinic import error_pages, health, views
from clinic.forms import ClinicAuthenticationForm

account_patterns = [
    path("register/", views.RegisterView.as_view(), name="register"),
    path("register/check-your-email/", views.RegisterDoneView.as_view(), name="register_done"),
    path("register/confirm/<uidb64>/<token>/", views.EmailConfirmView.as_view(), name="email_confirm"),
    path("claim/<str:token>/", views.AccountClaimView.as_view(), name="account_claim"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=ClinicAuthenticationForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("profile/edit/", views.PatientProfileEditView.as_view(), name="profile_edit"),
    path("two-factor/", views.TwoFactorView.as_view(), name="two_factor"),
    path("two-factor/setup/", views.TwoFactorSetupView.as_view(), name="two_factor_setup"),
    path("two-factor/verify/", views.TwoFactorVerifyView.as_view(), name="two_factor_verify"),
    path("two-factor/enrol/<str:token>/", views.TwoFactorEnrolView.as_view(), name="two_factor_enrol"),
    path("two-factor/recovery-codes/", views.RecoveryCodesView.as_view(), name="two_factor_recovery_codes"),
    path("two-factor/disable/", views.TwoFactorDisableView.as_view(), name="two_factor_disable"),
]

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("accounts/", include(account_patterns)),
    path("screening/", include("screening.urls")),
    path("bookings/", include("bookings.urls")),
    path("treatments/", include("treatments.urls")),
    path("privacy/", include("privacy.urls")),
    path("api/", include("api.urls")),
    path("notifications/", include("notifications.urls")),
    path("admin/", admin.site.urls),
    path("health/", health.health_view, name="health"),
]

handler500 = error_pages.server_error
