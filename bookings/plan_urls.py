"""URLs of care plans; included under the bookings namespace."""

urlpatterns: list = []
