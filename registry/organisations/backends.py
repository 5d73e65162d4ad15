"""Sign-in backend: Django's, with the signed-in user's office and unit read in the same query.

Every signed-in page names the user's office (or the unit and its 同级编办) on the menu bar;
with the stock backend that is one or two more queries on every page view.
"""

from django.contrib.auth.backends import ModelBackend, UserModel


class UserBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            user = UserModel._default_manager.select_related("office", "unit__office").get(pk=user_id)
        except UserModel.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
