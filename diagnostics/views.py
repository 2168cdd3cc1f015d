"""The alert inbox: my alerts and my organisation's queue, acknowledge, resolve with a note.

Staff read it in the workspace (/espacio/alertas/); NGO technicians in their restricted
portal (the ``portal_*`` views, routed under /portal/alertas/ by ``sharing/portal_urls.py``),
never under /espacio/.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ris.accounts.access import role_required
from ris.accounts.models import Role

from .forms import ResolveForm
from .selectors import delivery_for, inbox_for
from .services import alert_acknowledge, alert_resolve

WORKSPACE_ROLES = (Role.SOCIAL_WORKER, Role.EMPLOYMENT_COUNSELLOR, Role.COORDINATOR)

_ROUTES = {
    "alerts": {
        "inbox": "alerts:inbox",
        "acknowledge": "alerts:acknowledge",
        "resolve": "alerts:resolve",
        "person": "workspace:person_record",
    },
    "portal": {
        "inbox": "portal:alert_inbox",
        "acknowledge": "portal:alert_acknowledge",
        "resolve": "portal:alert_resolve",
        "person": "portal:person_record",
    },
}


def _inbox(request, routes: dict):
    resolved = request.GET.get("estado") == "resueltas"
    inbox = inbox_for(viewer=request.viewer, resolved=resolved)
    return render(
        request,
        "diagnostics/alert_inbox.html",
        {"inbox": inbox, "resolved": resolved, "form": ResolveForm(), "routes": routes},
    )


def _acknowledge(request, delivery_id: int, routes: dict):
    delivery = delivery_for(viewer=request.viewer, delivery_id=delivery_id)
    if alert_acknowledge(viewer=request.viewer, delivery=delivery):
        messages.success(request, _("Alerta marcada como vista."))
    return redirect(routes["inbox"])


def _resolve(request, delivery_id: int, routes: dict):
    delivery = delivery_for(viewer=request.viewer, delivery_id=delivery_id)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(routes["inbox"])
    try:
        alert_resolve(viewer=request.viewer, delivery=delivery, note=form.cleaned_data["note"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Alerta resuelta."))
    return redirect(routes["inbox"])


@role_required(*WORKSPACE_ROLES)
def alert_inbox(request):
    return _inbox(request, _ROUTES["alerts"])


@role_required(*WORKSPACE_ROLES)
@require_POST
def alert_acknowledge_view(request, delivery_id: int):
    return _acknowledge(request, delivery_id, _ROUTES["alerts"])


@role_required(*WORKSPACE_ROLES)
@require_POST
def alert_resolve_view(request, delivery_id: int):
    return _resolve(request, delivery_id, _ROUTES["alerts"])


@role_required(Role.NGO_TECHNICIAN)
def portal_alert_inbox(request):
    return _inbox(request, _ROUTES["portal"])


@role_required(Role.NGO_TECHNICIAN)
@require_POST
def portal_alert_acknowledge(request, delivery_id: int):
    return _acknowledge(request, delivery_id, _ROUTES["portal"])


@role_required(Role.NGO_TECHNICIAN)
@require_POST
def portal_alert_resolve(request, delivery_id: int):
    return _resolve(request, delivery_id, _ROUTES["portal"])
