from __future__ import annotations

from typing import Any

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
from copywriter.core.clientip import client_address


def _local(next_url: str) -> str:
    return next_url if next_url.startswith("/") and not next_url.startswith("//") \
        and "\\" not in next_url else ""


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """The answer to a valid form is the same page whether or not the address has an account;
    the email says which (a link that finishes the sign-up, or a note with the login and reset
    links)."""
    if request.user.is_authenticated:
        return redirect("workspaces:home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        try:
            services.signup_start(email=email, password=form.cleaned_data["password"],
                                  name=form.cleaned_data["name"],
                                  next_url=_local(request.GET.get("next", "")),
                                  address=client_address(request))
        except services.SignupThrottled as exc:
            form.add_error(None, str(exc))
            return render(request, "accounts/signup.html", {"form": form}, status=429)
        return render(request, "accounts/signup_sent.html", {"email": email})
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/signup.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def signup_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button, POST makes the account: mail scanners that open links must not use
    up the link."""
    if request.method == "GET":
        valid = services.signup_pending(token=token) is not None
        return render(request, "accounts/signup_confirm.html", {"valid": valid},
                      status=200 if valid else 410)
    try:
        user, next_url = services.signup_confirm(token=token)
    except services.SignupUnusable as exc:
        return render(request, "accounts/signup_confirm.html", {"valid": False,
                                                                "reason": str(exc)}, status=410)
    login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    messages.success(request, "Welcome! This is your workspace: invite your team from Members.")
    return redirect(_local(next_url) or "workspaces:home")


class LoginView(auth_views.LoginView):
    """Django's login plus throttling (``services.login_refusal``); a successful login leaves a
    device cookie, so that this browser gets in even while others guess at the account."""

    form_class = EmailAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        email = str(request.POST.get("username", "")).strip().lower()[:254]
        cookie_name = services.device_cookie_name(email)
        attempt = services.LoginAttempt(
            email=email, address=client_address(request),
            device=services.device_id(email=email, cookie=request.COOKIES.get(cookie_name)))
        refusal = services.login_refusal(attempt=attempt)
        if refusal:
            form = self.get_form()
            form.errors.clear()
            return render(request, self.template_name,
                          {"form": form, "throttled": refusal,
                           "reset_url": reverse("accounts:password_reset")}, status=429)
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            services.login_succeeded(attempt=attempt)
            response.set_cookie(cookie_name, services.device_cookie_value(email),
                                max_age=services.DEVICE_MAX_AGE, httponly=True, samesite="Lax",
                                secure=settings.SESSION_COOKIE_SECURE)
        else:
            services.login_failed(attempt=attempt)
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The way back in when an account only accepts known browsers (many wrong passwords from
    elsewhere): the emailed link proves the mailbox, so the new password logs this browser in
    and makes it a known one."""

    post_reset_login = True
    post_reset_login_backend = "copywriter.accounts.backends.CachedModelBackend"

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        email = form.user.email.lower()
        response.set_cookie(services.device_cookie_name(email), services.device_cookie_value(email),
                            max_age=services.DEVICE_MAX_AGE, httponly=True, samesite="Lax",
                            secure=settings.SESSION_COOKIE_SECURE)
        return response
