"""URLs of the reminder part of bookings (one-click opt-out); included under the bookings namespace."""

urlpatterns: list = []
