from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from .access import authenticated, public
from .forms import LoginForm, MembershipSwitchForm
from .viewer import ROLE_START_PAGES, SESSION_KEY, viewer_for_request

login_view = public(auth_views.LoginView.as_view(
    template_name="accounts/login.html", authentication_form=LoginForm, redirect_authenticated_user=True,
))
logout_view = authenticated(auth_views.LogoutView.as_view())


@authenticated
def home(request):
    """Send each role to its own start page."""
    viewer = viewer_for_request(request)
    if viewer is None:
        return render(request, "accounts/no_membership.html", status=403)
    return redirect(reverse(ROLE_START_PAGES[viewer.role]))


@authenticated
@require_POST
def switch_membership(request):
    form = MembershipSwitchForm(request.user, request.POST)
    if form.is_valid():
        request.session[SESSION_KEY] = form.cleaned_data["membership"].pk
    return redirect("home")
