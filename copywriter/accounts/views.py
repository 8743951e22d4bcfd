from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from copywriter.accounts import services
from copywriter.accounts.forms import EmailAuthenticationForm, SignupForm


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("workspaces:home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.user_create(email=form.cleaned_data["email"],
                                    password=form.cleaned_data["password"],
                                    name=form.cleaned_data["name"])
        login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
        messages.success(request, "Welcome! This is your workspace: invite your team from Members.")
        next_url = request.GET.get("next", "")
        if next_url.startswith("/") and not next_url.startswith("//"):
            return redirect(next_url)
        return redirect("workspaces:home")
    return render(request, "accounts/signup.html", {"form": form})


class LoginView(auth_views.LoginView):
    """Django's login plus throttling: too many failures for an email from one address -> 429."""

    form_class = EmailAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        email = str(request.POST.get("username", "")).strip().lower()
        ip = _client_ip(request)
        if services.login_throttled(email=email, ip=ip):
            form = self.get_form()
            form.errors.clear()
            return render(request, self.template_name,
                          {"form": form, "throttled": True,
                           "reset_url": reverse("accounts:password_reset")}, status=429)
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            services.login_succeeded(email=email, ip=ip)
        else:
            services.login_failed(email=email, ip=ip)
        return response
